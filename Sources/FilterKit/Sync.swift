#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Synchronization's Mutex guarding state that lives elsewhere (a class's properties): `locked`
/// runs the body under the lock and returns its value.
final class Lock: Sendable {
    private let mutex = Mutex<Void>(())
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body() }
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
    func isReady(for turn: Int) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return next >= turn
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
