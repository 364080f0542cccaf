@testable import CNNRuntime
import Foundation
import XCTest

/// Freed tensor-sized blocks stay with the process: a run's 8-bit maps do not fault their pages in again.
final class HeapReuseTests: XCTestCase {
    func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

    func testMapsFreedTogetherKeepTheirPages() throws {
        try XCTSkipIf(HeapReuse.userHasMallocSettings, "the user's malloc settings win")
        XCTAssertTrue(HeapReuse.configured)
        // Three 4 MB maps alive at once, then freed (as a run's intermediate tensors are): without the
        // setting glibc trims the heap's top past twice the largest block and maps the pages in again.
        func run() -> Int {
            let maps = (0..<3).map { [Int8](repeating: Int8($0 + 1), count: 4 << 20) }
            return maps.reduce(0) { $0 + Int($1[$1.count / 2]) }
        }
        _ = run()
        let before = minorFaults()
        var sum = 0
        for _ in 0..<10 { sum += run() }
        // Mapped afresh each time, the 30 maps would take ~30,000 faults (4 KB pages).
        XCTAssertLessThan(minorFaults() - before, 3_000, "sum \(sum)")
    }
}
