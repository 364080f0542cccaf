import CNNRuntime
import Synchronization

/// Sessions on one model for frames that run at the same time (a session runs one graph at a
/// time): a run takes a free session, or opens another, and gives it back afterwards.
final class SessionPool: Sendable {
    private let open: @Sendable () throws -> Session
    private let free: Mutex<[Session]>

    /// `first` is the session opened up front (so a missing model fails at set-up).
    init(first: Session, open: @escaping @Sendable () throws -> Session) {
        self.open = open
        free = Mutex([first])
    }

    func run<T>(_ body: (Session) throws -> T) throws -> T {
        let session = try free.withLock { $0.popLast() } ?? open()
        defer { free.withLock { $0.append(session) } }
        return try body(session)
    }
}
