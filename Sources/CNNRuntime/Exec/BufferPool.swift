#if canImport(Glibc)
import Glibc
#endif

/// Recycles float buffers between operations, so peak memory stays near the largest set of
/// tensors alive at once instead of the sum of all intermediate tensors.
public final class BufferPool: @unchecked Sendable {
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var mutex = pthread_mutex_t()
    public private(set) var bytesHeld = 0

    public init() { pthread_mutex_init(&mutex, nil) }

    deinit {
        for list in free.values { list.forEach { $0.deallocate() } }
        pthread_mutex_destroy(&mutex)
    }

    /// Sizes are rounded up so slightly different shapes share buffers.
    static func bucket(_ n: Int) -> Int {
        if n <= 1024 { return 1024 }
        let step = max(1024, 1 << max(0, (Int.bitWidth - (n - 1).leadingZeroBitCount) - 4))
        return (n + step - 1) / step * step
    }

    func take(_ count: Int) -> FloatBuffer {
        let capacity = Self.bucket(count)
        pthread_mutex_lock(&mutex)
        let reused = free[capacity]?.popLast()
        if reused != nil { bytesHeld -= capacity * 4 }
        pthread_mutex_unlock(&mutex)
        if let reused { return FloatBuffer(pointer: reused, capacity: capacity, pool: self) }
        return FloatBuffer(capacity: capacity, pool: self)
    }

    /// Takes a released buffer back; false if the pool does not want it.
    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) -> Bool {
        pthread_mutex_lock(&mutex)
        free[capacity, default: []].append(pointer)
        bytesHeld += capacity * 4
        pthread_mutex_unlock(&mutex)
        return true
    }
}

