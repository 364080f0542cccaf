import Foundation
import XCTest
@testable import FilterKit

/// The run's one thread budget: workers hold a thread each, stages borrow what is free without
/// waiting, and a worker waiting for its turn lends its thread meanwhile.
final class ThreadBudgetTests: XCTestCase {
    func testBorrowingGetsOnlyWhatIsFreeAndNeverWaits() {
        let budget = ThreadBudget(2)
        XCTAssertEqual(budget.borrow(5), 2, "nothing held: everything is free")
        budget.release(2)
        budget.acquire()                    // a worker busy with an image
        XCTAssertEqual(budget.borrow(5), 1)
        XCTAssertEqual(budget.borrow(5), 0, "all held: borrowing returns at once with none")
        budget.release(1)
        budget.release(1)
        XCTAssertEqual(budget.borrow(2), 2)
        budget.release(5)                   // never more than the total comes back
        XCTAssertEqual(budget.borrow(9), 2)
    }

    func testTwoBusyWorkersLeaveNothingToBorrowAndAWaitingOneLendsItsThread() {
        let budget = ThreadBudget(2)
        budget.acquire()
        budget.holding {
            XCTAssertEqual(budget.borrow(1), 0, "two images in flight on two threads: steps stay single-threaded")
            budget.lending {
                let lent = budget.borrow(1)
                XCTAssertEqual(lent, 1, "a worker waiting for its turn gives its thread to the others")
                budget.release(lent)
            }
            XCTAssertEqual(budget.borrow(1), 0, "and takes it back after the wait")
        }
        XCTAssertEqual(budget.borrow(2), 1)
    }

    func testAcquireWaitsForARelease() {
        let budget = ThreadBudget(1)
        budget.acquire()
        let acquired = expectation(description: "second worker got the thread")
        Thread {
            budget.acquire()
            acquired.fulfill()
            budget.release()
        }.start()
        Thread.sleep(forTimeInterval: 0.05)
        budget.release()
        wait(for: [acquired], timeout: 5)
    }

    /// What a plugin sees: the host's C table lends from the same budget.
    func testTheHostTableLendsFromTheRunsBudget() throws {
        let host = HostServices(threads: 3, modelDirectory: "models", showProgress: false)
        let table = host.table.pointee
        let borrow = try XCTUnwrap(table.borrow_threads), giveBack = try XCTUnwrap(table.return_threads)
        host.budget.acquire()
        XCTAssertEqual(borrow(table.host_data, 5), 2)
        XCTAssertEqual(borrow(table.host_data, 1), 0)
        giveBack(table.host_data, 2)
        XCTAssertEqual(host.budget.borrow(3), 2)
    }
}
