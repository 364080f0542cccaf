import Synchronization

/// Where a parallel step's extra threads come from.
///
/// A step that wants to run on `n` threads runs on the calling thread plus the extra threads it
/// borrows, and gives them back when it ends. Borrowing never waits: the step gets what is free at
/// that moment, perhaps none. Inside cnnpipe the host lends from the run's one `--threads` budget,
/// in which every worker busy with an image already holds a thread; so two images in flight on
/// two cores run one thread each, and a single image (or the last of a stream) gets every thread.
/// Without a host (model bench, tests, library use) every step gets what it asks for.
public struct ThreadLender: Sendable {
    public let borrow: @Sendable (_ wanted: Int) -> Int
    public let giveBack: @Sendable (_ count: Int) -> Void

    public init(borrow: @escaping @Sendable (Int) -> Int, giveBack: @escaping @Sendable (Int) -> Void) {
        self.borrow = borrow
        self.giveBack = giveBack
    }

    /// Lends whatever is asked: each step decides its own width.
    public static let unlimited = ThreadLender(borrow: { $0 }, giveBack: { _ in })

    private static let installed = Mutex(ThreadLender.unlimited)

    /// The lender every session in this module image uses. A plugin sets it to the host's budget
    /// (each plugin library carries its own copy of this module, so each plugin sets its own).
    public static var current: ThreadLender {
        get { installed.withLock { $0 } }
        set { installed.withLock { $0 = newValue } }
    }

    /// Runs `body(width)` with `1 + borrowed` threads available, at most `limit`; gives them back after.
    public static func withThreads<T>(upTo limit: Int, _ body: (Int) throws -> T) rethrows -> T {
        guard limit > 1 else { return try body(1) }
        let lender = current
        let extra = max(0, min(limit - 1, lender.borrow(limit - 1)))
        defer { if extra > 0 { lender.giveBack(extra) } }
        return try body(1 + extra)
    }
}
