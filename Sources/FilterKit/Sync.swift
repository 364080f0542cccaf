#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A pthread mutex.
final class Mutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// A flag that is safe to set from a signal handler (lock-free).
final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// Lets work items pass a point strictly in sequence order: `wait(n)` returns once items
/// 0..<n have called `advance()`. Used to keep stateful stages and the writer in stream order.
final class Turnstile: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var next = 0
    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }
    func wait(for turn: Int) {
        pthread_mutex_lock(&mutex)
        while next < turn { pthread_cond_wait(&cond, &mutex) }
        pthread_mutex_unlock(&mutex)
    }
    func advance() {
        pthread_mutex_lock(&mutex)
        next += 1
        pthread_cond_broadcast(&cond)
        pthread_mutex_unlock(&mutex)
    }
}
