import Foundation
import XCTest
@testable import CNNRuntime

/// The libm-free exp behind the vectorised Sigmoid, against expf over its whole range, and Sigmoid's
/// saturation at both ends.
final class VectorMathTests: XCTestCase {
    func testExpIsWithinAFewUlpOfExpf() {
        var worst: Float = 0
        for x in stride(from: Float(-87), through: 88, by: 0.003_7) {
            let ours = VectorMath.exp(x), reference = expf(x)
            worst = max(worst, abs(ours - reference) / reference)
        }
        XCTAssertLessThan(worst, 4 * Float.ulpOfOne, "largest relative error")
    }

    /// A NaN (a corrupt model's weights) comes out as NaN, as from expf, instead of trapping.
    func testNaNPropagatesWithoutTrapping() {
        XCTAssertTrue(VectorMath.exp(.nan).isNaN)
        let x: [Float] = [.nan, 1, -.nan]
        var out = [Float](repeating: 0, count: x.count)
        SigmoidOp.apply(x, &out, count: x.count)
        XCTAssertTrue(out[0].isNaN && out[2].isNaN)
        XCTAssertEqual(out[1], 1 / (1 + expf(-1)), accuracy: 1e-6)
    }

    func testSigmoidSaturates() {
        let x: [Float] = [-200, -90, -20, 0, 20, 90, 200, .infinity, -.infinity]
        var out = [Float](repeating: .nan, count: x.count)
        SigmoidOp.apply(x, &out, count: x.count)
        for (v, y) in zip(x, out) {
            XCTAssertEqual(y, 1 / (1 + expf(-v)), accuracy: 1e-7, "sigmoid(\(v))")
        }
    }
}
