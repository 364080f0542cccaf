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

    func testSigmoidSaturates() {
        let x: [Float] = [-200, -90, -20, 0, 20, 90, 200, .infinity, -.infinity]
        var out = [Float](repeating: .nan, count: x.count)
        SigmoidOp.apply(x, &out, count: x.count)
        for (v, y) in zip(x, out) {
            XCTAssertEqual(y, 1 / (1 + expf(-v)), accuracy: 1e-7, "sigmoid(\(v))")
        }
    }
}
