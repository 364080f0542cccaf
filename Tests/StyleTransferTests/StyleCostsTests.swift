import FrameModel
@testable import StyleTransfer
import XCTest

final class StyleCostsTests: XCTestCase {
    /// Two channels over three positions: a = [[1, 2, 0], [0, 1, 3]].
    /// a·aᵀ = [[5, 2], [2, 10]]; divided by N = 3.
    func testGramMatrixByHand() {
        let g = StyleCosts.gram([1, 2, 0, 0, 1, 3], channels: 2)
        let want: [Float] = [5, 2, 2, 10].map { $0 / 3 }
        for (x, y) in zip(g, want) { XCTAssertEqual(x, y, accuracy: 1e-6) }
    }

    /// The style cost is the course's Σ(G_S − G_G)² / (2·n_H·n_W·n_C)² with unnormalised Grams.
    func testStyleCostMatchesTheCoursesFormula() {
        let a: [Float] = [1, 2, 0, 0, 1, 3], s: [Float] = [0.5, 1, 1, 2, 0, 1]
        let (cost, _) = StyleCosts.style(a, channels: 2, target: StyleCosts.gram(s, channels: 2))
        // a·aᵀ = [[5, 2], [2, 10]], s·sᵀ = [[2.25, 2], [2, 5]]; n_H·n_W = 3, n_C = 2.
        let ga: [Double] = [5, 2, 2, 10], gs: [Double] = [2.25, 2, 2, 5]
        var squares = 0.0
        for i in 0..<4 { squares += (ga[i] - gs[i]) * (ga[i] - gs[i]) }
        let expected = squares / ((2.0 * 3 * 2) * (2.0 * 3 * 2))
        XCTAssertEqual(cost, expected, accuracy: 1e-6 * expected)
    }

    func testCostGradientsMatchFiniteDifferences() {
        var state: UInt64 = 7
        func r() -> Float { state = state &* 6364136223846793005 &+ 1442695040888963407; return Float(state >> 40) / Float(1 << 24) - 0.5 }
        let c = 3, n = 10
        let a = (0..<(c * n)).map { _ in r() }, target = StyleCosts.gram((0..<(c * n)).map { _ in r() }, channels: c)
        let contentTarget = (0..<(c * n)).map { _ in r() }
        let image = (0..<(4 * 5 * 3)).map { _ in r() }
        let cases: [(String, [Float], ([Float]) -> (cost: Double, gradient: [Float]))] = [
            ("style", a, { StyleCosts.style($0, channels: c, target: target) }),
            ("content", a, { StyleCosts.content($0, target: contentTarget) }),
            ("tv", image, { StyleCosts.totalVariation($0, width: 4, height: 5, channels: 3) }),
        ]
        for (name, x, f) in cases {
            let analytic = f(x).gradient
            for i in stride(from: 0, to: x.count, by: 3) {
                var p = x, m = x
                p[i] += 1e-3; m[i] -= 1e-3
                let numeric = (f(p).cost - f(m).cost) / 2e-3
                XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 1e-4 + 1e-2 * abs(numeric), "\(name)[\(i)]")
            }
        }
    }
}
