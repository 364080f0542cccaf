import Foundation
import Synchronization
import XCTest
@testable import CNNRuntime

/// Parallel steps run on the calling thread plus what the thread lender gives, give it all back,
/// and compute the same numbers however many threads they got.
final class ThreadLendingTests: XCTestCase {
    /// A lender with `free` threads that records what is out and the most threads seen at once.
    final class CountingLender: @unchecked Sendable {
        let state: Mutex<(free: Int, out: Int)>
        init(free: Int) { state = Mutex((free, 0)) }
        var lender: ThreadLender {
            ThreadLender(borrow: { wanted in self.state.withLock { s in
                let granted = min(wanted, s.free); s.free -= granted; s.out += granted; return granted
            } }, giveBack: { count in self.state.withLock { s in s.free += count; s.out -= count } })
        }
        var outstanding: Int { state.withLock { $0.out } }
    }

    override func tearDown() { ThreadLender.current = .unlimited }

    private func threadsSeen(_ ctx: ExecutionContext) -> Int {
        let ids = Mutex(Set<UInt>())
        ctx.parallel(1_000, minimumPerThread: 1) { _ in
            ids.withLock { _ = $0.insert(UInt(pthread_self())) }
            usleep(20_000)
        }
        return ids.withLock { $0.count }
    }

    func testAStepRunsOnTheCallerAloneWhenNothingIsLent() {
        let none = CountingLender(free: 0)
        ThreadLender.current = none.lender
        XCTAssertEqual(threadsSeen(ExecutionContext(threads: 4)), 1)
        XCTAssertEqual(none.outstanding, 0)
    }

    func testAStepUsesWhatIsLentAndGivesItBack() {
        let one = CountingLender(free: 1)
        ThreadLender.current = one.lender
        ThreadLender.withThreads(upTo: 4) { width in
            XCTAssertEqual(width, 2, "the caller and the one lent thread")
            XCTAssertEqual(one.outstanding, 1)
        }
        XCTAssertLessThanOrEqual(threadsSeen(ExecutionContext(threads: 4)), 2, "never more threads than lent")
        XCTAssertEqual(one.outstanding, 0, "every borrowed thread comes back")
        XCTAssertEqual(one.state.withLock { $0.free }, 1)
    }

    /// The split sgemm (column blocks when C is wide, row blocks when tall), every transpose, against one call.
    func testSplitSgemmMatchesTheSingleCall() {
        ThreadLender.current = CountingLender(free: 3).lender
        var rng = SystemRandomNumberGenerator()
        for (m, n, k) in [(37, 1_000, 300), (1_000, 45, 300), (64, 64, 2_000)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let a = (0..<m * k).map { _ in Float.random(in: -1...1, using: &rng) }
                    let b = (0..<k * n).map { _ in Float.random(in: -1...1, using: &rng) }
                    let c0 = (0..<m * n).map { _ in Float.random(in: -1...1, using: &rng) }
                    let (lda, ldb) = (transA ? m : k, transB ? k : n)
                    var single = c0, split = c0
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                               beta: 0.25, c: &single, ldc: n)
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                               beta: 0.25, c: &split, ldc: n, threads: 4)
                    let worst = zip(single, split).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(worst, 1e-4, "m \(m) n \(n) k \(k) transA \(transA) transB \(transB)")
                }
            }
        }
    }
}
