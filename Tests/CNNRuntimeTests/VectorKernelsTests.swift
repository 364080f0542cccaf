import CConvKernels
import XCTest

/// The C row kernels on every instruction set this CPU has, against the scalar definitions: every
/// length up to a few vectors (the masked and scalar tails), nothing written past the end, and the
/// same bits on every instruction set (a multiply, then an add; no fused multiply-add).
final class VectorKernelsTests: XCTestCase {
    var instructionSets: [Int32] { (Int32(CP_ISA_SCALAR)...cp_conv_best_isa()).map { $0 } }

    func values(_ n: Int, _ seed: Int) -> [Float] { (0..<n).map { Float((($0 + seed) * 7919) % 613) / 61.3 - 5 } }

    func testAddScaled() {
        for n in 0...50 {
            let x = values(n, 1), y0 = values(n, 2), a: Float = 0.3701
            let expected = zip(y0, x).map { y, x in y + a * x }
            for isa in instructionSets {
                var y = y0 + [.nan, .nan]
                y.withUnsafeMutableBufferPointer { cp_add_scaled(a, x, $0.baseAddress!, n, isa) }
                XCTAssertTrue(Array(y.prefix(n)) == expected, "isa \(isa), n \(n)")
                XCTAssertTrue(y.suffix(2).allSatisfy(\.isNaN), "isa \(isa), n \(n): wrote past the end")
            }
        }
    }

    func testPassBetween() {
        for n in 0...50 {
            var v = values(n, 3)
            if n > 3 { v[1] = .nan; v[2] = 0; v[3] = 6 }    // NaN and the bounds themselves are not passed
            let g = values(n, 4), (lo, hi): (Float, Float) = (0, 6)
            let expected = zip(g, v).map { g, v in v > lo && v < hi ? g : 0 }
            for isa in instructionSets {
                var out = [Float](repeating: .nan, count: n + 2)
                out.withUnsafeMutableBufferPointer { cp_pass_between(g, v, lo, hi, $0.baseAddress!, n, isa) }
                XCTAssertTrue(Array(out.prefix(n)) == expected, "isa \(isa), n \(n)")
                XCTAssertTrue(out.suffix(2).allSatisfy(\.isNaN), "isa \(isa), n \(n): wrote past the end")
            }
        }
    }
}
