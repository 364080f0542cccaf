import CNNRuntime
@testable import MetricLearning
import XCTest

/// The triplet loss, its gradient and the triplet selection on hand-made embeddings; the head's
/// graph gradient (through GradientSession) against finite differences.
final class TripletLossTests: XCTestCase {
    /// Four 3-D points: 0 and 1 are person A, 2 and 3 person B.
    let points: [Float] = [0, 0, 0,
                           1, 0, 0,
                           0, 0.5, 0,
                           3, 0, 0]
    let labels = [0, 0, 1, 1]

    func testLossByHand() {
        // (0, 1, 2): ‖a−p‖² = 1, ‖a−n‖² = 0.25 → 1 − 0.25 + 0.2 = 0.95. (1, 0, 3): 1 − 4 + 0.2 < 0 → 0.
        let (loss, active, _) = TripletLoss.lossAndGradient(points, rows: 4, dimension: 3,
                                                           triplets: [Triplet(0, 1, 2), Triplet(1, 0, 3)], margin: 0.2)
        XCTAssertEqual(loss, 0.95, accuracy: 1e-6)
        XCTAssertEqual(active, 1)
    }

    func testGradientMatchesFiniteDifferences() {
        var rng = SplitMix(7)
        let rows = 6, d = 5
        let f = (0..<rows * d).map { _ in Float.random(in: -1...1, using: &rng) }
        let triplets = [Triplet(0, 1, 2), Triplet(3, 4, 5), Triplet(1, 0, 5), Triplet(2, 5, 0)]
        let margin: Float = 0.5
        let (_, active, gradient) = TripletLoss.lossAndGradient(f, rows: rows, dimension: d, triplets: triplets, margin: margin)
        XCTAssertGreaterThan(active, 0)
        let h: Float = 1e-3
        for i in 0..<f.count {
            var plus = f, minus = f
            plus[i] += h; minus[i] -= h
            let lp = TripletLoss.lossAndGradient(plus, rows: rows, dimension: d, triplets: triplets, margin: margin).loss
            let lm = TripletLoss.lossAndGradient(minus, rows: rows, dimension: d, triplets: triplets, margin: margin).loss
            XCTAssertEqual(Double(gradient[i]), (lp - lm) / Double(2 * h), accuracy: 2e-3, "∂J/∂f[\(i)]")
        }
    }

    func testSquaredDistances() {
        let d2 = TripletLoss.squaredDistances(points, rows: 4, dimension: 3)
        XCTAssertEqual(d2[0 * 4 + 1], 1, accuracy: 1e-6)
        XCTAssertEqual(d2[0 * 4 + 2], 0.25, accuracy: 1e-6)
        XCTAssertEqual(d2[1 * 4 + 3], 4, accuracy: 1e-6)
        XCTAssertEqual(d2[2 * 4 + 3], 9.25, accuracy: 1e-5)
    }

    func testHardSelectionPicksFarthestPositiveAndClosestNegative() {
        // Person 0: 0, 1, 2 on a line; person 1: 3, 4.
        let x: [Float] = [0, 1, 3, 2.5, 10]
        let labels = [0, 0, 0, 1, 1]
        let d2 = TripletLoss.squaredDistances(x, rows: 5, dimension: 1)
        let t = TripletLoss.select(squaredDistances: d2, labels: labels, margin: 0.2, selection: .hard)
        XCTAssertEqual(t, [Triplet(0, 2, 3), Triplet(1, 2, 3), Triplet(2, 0, 3), Triplet(3, 4, 2), Triplet(4, 3, 2)])
    }

    func testSemiHardSelection() {
        // Anchor 0 with positive 1 (d² = 1): negatives at d² 0.25 (hard), 1.21 (semi-hard, within margin 0.5) and 1.44
        // (semi-hard too, but farther) → 4. Positive 2 (d² = 16): every negative is closer → the farthest of them, 4.
        let x: [Float] = [0, 1, 4, 0.5, 1.1, 1.2]
        let labels = [0, 0, 0, 1, 1, 1]
        let d2 = TripletLoss.squaredDistances(x, rows: 6, dimension: 1)
        let t = TripletLoss.select(squaredDistances: d2, labels: labels, margin: 0.5, selection: .semiHard)
        XCTAssertTrue(t.contains(Triplet(0, 1, 4)), "\(t)")
        XCTAssertTrue(t.contains(Triplet(0, 2, 5)), "\(t)")
        XCTAssertFalse(t.contains { $0.anchor == 0 && $0.positive == 1 && $0.negative != 4 }, "\(t)")
        // Anchor 3 (0.5), positive 4 (d² 0.36): negatives 0 and 1 (0.25: hard), 2 (12.25): the closest farther one, 2.
        XCTAssertTrue(t.contains(Triplet(3, 4, 2)), "\(t)")
        XCTAssertFalse(t.contains { $0.anchor == 3 && $0.positive == 4 && $0.negative != 2 }, "\(t)")
    }

    /// ∂J/∂W through the head's graph (GradientSession, seeded with ∂J/∂F) against finite differences of J(W).
    func testHeadGraphGradientMatchesFiniteDifferences() throws {
        var rng = SplitMix(11)
        let d = MetricHead.dimension, rows = 6
        let x = (0..<rows * d).map { _ in Float.random(in: -0.2...0.2, using: &rng) }
        var w = [Float](repeating: 0, count: d * d)
        for i in 0..<d { w[i * d + i] = 1 }
        for i in 0..<w.count { w[i] += Float.random(in: -0.05...0.05, using: &rng) }
        let triplets = [Triplet(0, 1, 2), Triplet(3, 4, 5), Triplet(1, 0, 4)]
        let margin: Float = 1.5
        func loss(_ w: [Float]) -> Double {
            let f = MetricHead.apply(w, to: x, rows: rows)
            return TripletLoss.lossAndGradient(f, rows: rows, triplets: triplets, margin: margin).loss
        }
        let session = try GradientSession(HeadGraphs.triplet(transform: w), outputs: [HeadGraphs.normalised],
                                          parameters: [HeadGraphs.transformName], threads: 1)
        let tape = try session.forward([HeadGraphs.input: Tensor(shape: [rows, d], floats: x)])
        let f = tape.outputs[HeadGraphs.normalised]!.floats
        // The graph computes the same f as MetricHead.apply (BLAS).
        let reference = MetricHead.apply(w, to: x, rows: rows)
        for i in 0..<f.count { XCTAssertEqual(f[i], reference[i], accuracy: 1e-5) }
        let (_, active, seed) = TripletLoss.lossAndGradient(f, rows: rows, triplets: triplets, margin: margin)
        XCTAssertEqual(active, 3)
        let g = try session.backward(tape, seeds: [HeadGraphs.normalised: Tensor(shape: [rows, d], floats: seed)],
                                     wrt: [HeadGraphs.transformName])[HeadGraphs.transformName]!.floats
        let h: Float = 1e-2
        for i in (0..<24).map({ _ in Int.random(in: 0..<(d * d), using: &rng) }) + [0, d + 1, 5 * d + 7] {
            var plus = w, minus = w
            plus[i] += h; minus[i] -= h
            let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
            XCTAssertEqual(Double(g[i]), numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "∂J/∂W[\(i / d)][\(i % d)]")
        }
    }
}
