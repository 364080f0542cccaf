#if canImport(Glibc)
import Glibc
#endif

/// Recycles float buffers between operations, so peak memory stays near the largest set of
/// tensors alive at once instead of the sum of all intermediate tensors.
///
/// Runs of varying shapes (image tiles of different sizes, photos of different sizes) would make
/// a pool that keeps everything grow with every shape it has seen, so a run ends by freeing the
/// buffers that were already free before it began and that it did not use (`endRun`).
public final class BufferPool: @unchecked Sendable {
    private struct FreeBuffer {
        var pointer: UnsafeMutablePointer<Float>
        var run: Int       // the run during which it was given back
    }
    private var free: [Int: [FreeBuffer]] = [:]
    private var mutex = pthread_mutex_t()
    private var runs = 0
    public private(set) var bytesHeld = 0

    public init() { pthread_mutex_init(&mutex, nil) }

    deinit {
        for list in free.values { list.forEach { $0.pointer.deallocate() } }
        pthread_mutex_destroy(&mutex)
    }

    /// Sizes are rounded up so slightly different shapes share buffers.
    static func bucket(_ n: Int) -> Int {
        if n <= 1024 { return 1024 }
        let step = max(1024, 1 << max(0, (Int.bitWidth - (n - 1).leadingZeroBitCount) - 4))
        return (n + step - 1) / step * step
    }

    /// The smallest free buffer that holds `count` floats and is at most twice the bucket, or a new one.
    func take(_ count: Int) -> FloatBuffer {
        let capacity = Self.bucket(count)
        pthread_mutex_lock(&mutex)
        var reused: (pointer: UnsafeMutablePointer<Float>, capacity: Int)?
        if let fit = free.keys.filter({ $0 >= capacity && $0 <= 2 * capacity && free[$0]?.isEmpty == false }).min(),
           let buffer = free[fit]?.popLast() {
            reused = (buffer.pointer, fit)
            bytesHeld -= fit * 4
        }
        pthread_mutex_unlock(&mutex)
        if let reused { return FloatBuffer(pointer: reused.pointer, capacity: reused.capacity, pool: self) }
        return FloatBuffer(capacity: capacity, pool: self)
    }

    /// Takes a released buffer back; false if the pool does not want it.
    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) -> Bool {
        pthread_mutex_lock(&mutex)
        free[capacity, default: []].append(FreeBuffer(pointer: pointer, run: runs))
        bytesHeld += capacity * 4
        pthread_mutex_unlock(&mutex)
        return true
    }

    /// Starts a run; pass the result to `endRun`.
    func beginRun() -> Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        runs += 1
        return runs
    }

    /// Frees the buffers given back before run `run` began that are still unused.
    func endRun(_ run: Int) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        for (capacity, list) in free {
            let (stale, kept) = (list.filter { $0.run < run }, list.filter { $0.run >= run })
            guard !stale.isEmpty else { continue }
            stale.forEach { $0.pointer.deallocate() }
            bytesHeld -= stale.count * capacity * 4
            free[capacity] = kept.isEmpty ? nil : kept
        }
    }
}
