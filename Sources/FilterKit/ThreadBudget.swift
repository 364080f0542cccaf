#if canImport(Glibc)
import Glibc
#endif

/// The run's threads (`--threads`), one budget for the executor's workers and every stage's
/// parallel steps. A worker holds one thread while it works on an image (`acquire` waits for it);
/// a stage step borrows extra threads that are free at that moment (`borrow` never waits) and
/// gives them back when it ends. With as many workers busy as there are threads, steps run on
/// their worker's thread alone; with one image in flight, its steps get the others.
final class ThreadBudget: @unchecked Sendable {
    let total: Int
    private var free: Int
    private var mutex = pthread_mutex_t()
    private var freed = pthread_cond_t()

    init(_ total: Int) {
        self.total = max(1, total)
        free = self.total
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&freed, nil)
    }

    /// Takes one thread, waiting until one is free.
    func acquire() {
        pthread_mutex_lock(&mutex)
        while free == 0 { pthread_cond_wait(&freed, &mutex) }
        free -= 1
        pthread_mutex_unlock(&mutex)
    }

    /// Takes up to `wanted` threads that are free now; returns how many.
    func borrow(_ wanted: Int) -> Int {
        pthread_mutex_lock(&mutex)
        let granted = max(0, min(wanted, free))
        free -= granted
        pthread_mutex_unlock(&mutex)
        return granted
    }

    func release(_ count: Int = 1) {
        guard count > 0 else { return }
        pthread_mutex_lock(&mutex)
        free = min(total, free + count)
        pthread_cond_broadcast(&freed)
        pthread_mutex_unlock(&mutex)
    }

    /// Runs `body` holding one thread.
    func holding<T>(_ body: () throws -> T) rethrows -> T {
        acquire()
        defer { release() }
        return try body()
    }

    /// Runs `body` (a wait for another worker) with this worker's thread given back meanwhile.
    func lending<T>(_ body: () throws -> T) rethrows -> T {
        release()
        defer { acquire() }
        return try body()
    }
}
