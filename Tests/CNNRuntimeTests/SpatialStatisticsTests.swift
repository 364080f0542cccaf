@testable import CNNRuntime
import XCTest

/// Tiled inference with whole-image statistics: tiles that replay (or measure) the statistics of
/// the whole image compute exactly the rows the whole-image run computes.
final class SpatialStatisticsTests: XCTestCase {
    /// x → Conv 3×3 → InstanceNorm → Relu → Conv 3×3 → InstanceNorm → y, 2 channels, random weights.
    private func model() throws -> Session {
        var seed: UInt64 = 42
        func random(_ n: Int) -> [Float] {
            (0..<n).map { _ in seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: seed >> 11) % 2000) / 1000 - 1 }
        }
        let conv: [String: Attribute] = ["pads": .ints([1, 1, 1, 1]), "kernel_shape": .ints([3, 3])]
        let graph = ModelGraph(name: "t", nodes: [
            Node(name: "c1", opType: "Conv", inputs: ["x", "w1", "b1"], outputs: ["a"], attributes: conv),
            Node(name: "n1", opType: "InstanceNormalization", inputs: ["a", "s", "t"], outputs: ["an"]),
            Node(name: "r1", opType: "Relu", inputs: ["an"], outputs: ["ar"]),
            Node(name: "c2", opType: "Conv", inputs: ["ar", "w2", "b2"], outputs: ["b"], attributes: conv),
            Node(name: "n2", opType: "InstanceNormalization", inputs: ["b", "s", "t"], outputs: ["y"]),
        ], inputs: [ValueInfo(name: "x", elementType: .float, shape: [1, 2, nil, nil])],
           outputs: [ValueInfo(name: "y", elementType: .float, shape: nil)],
           initializers: ["w1": Tensor(shape: [2, 2, 3, 3], floats: random(36)), "b1": Tensor(shape: [2], floats: random(2)),
                          "w2": Tensor(shape: [2, 2, 3, 3], floats: random(36)), "b2": Tensor(shape: [2], floats: random(2)),
                          "s": Tensor(shape: [2], floats: [1.5, 0.5]), "t": Tensor(shape: [2], floats: [0.1, -0.2])],
           opsetVersion: 17)
        let session = try Session(graph, threads: 1)
        session.acceptsAnyInputSize = true
        return session
    }

    /// Rows [from, to) of a [1, 2, h, w] image.
    private func rows(_ t: Tensor, _ from: Int, _ to: Int) -> Tensor {
        let h = t.shape[2], w = t.shape[3], v = t.floats
        var out: [Float] = []
        for c in 0..<2 { out += v[(c * h + from) * w ..< (c * h + to) * w] }
        return Tensor(shape: [1, 2, to - from, w], floats: out)
    }

    func testTilesMatchTheWholeImageWithRecordedOrMeasuredStatistics() throws {
        let session = try model()
        let h = 24, w = 10
        let image = Tensor(shape: [1, 2, h, w], floats: (0..<(2 * h * w)).map { Float(($0 * 7919) % 101) / 50 - 1 })
        let whole = try session.run(["x": image])["y"]!

        // Two tiles: rows 0..<12 and 12..<24, each with 4 rows of context (two 3×3 convs need 2).
        let tiles = [(owned: 0..<12, input: 0..<16), (owned: 12..<24, input: 8..<24)]
        func checkTiles(_ statistics: (Int) -> SpatialStatistics?, _ label: String) throws {
            for (i, tile) in tiles.enumerated() {
                let out = try session.run(["x": rows(image, tile.input.lowerBound, tile.input.upperBound)], statistics: statistics(i))["y"]!
                let mine = rows(out, tile.owned.lowerBound - tile.input.lowerBound, tile.owned.upperBound - tile.input.lowerBound)
                let want = rows(whole, tile.owned.lowerBound, tile.owned.upperBound)
                let worst = zip(mine.floats, want.floats).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 1e-5, "\(label), tile \(i)")
            }
        }
        // Replaying the whole image's recorded statistics.
        let recorder = SpatialStatistics.recorder()
        _ = try session.run(["x": image], statistics: recorder)
        XCTAssertEqual(recorder.entries.count, 2)
        try checkTiles({ _ in recorder.replay() }, "recorded")

        // Measuring them over the tiles, one pass per norm layer, with and without checkpoints.
        for checkpoints in [nil, TileCheckpoints(imageInput: "x")] {
            var entries: [[Float]] = []
            for _ in 0..<2 {
                let pass = SpatialStatistics.measuring(after: entries, checkpoints: checkpoints)
                for (i, tile) in tiles.enumerated() {
                    pass.startTile(i, owned: (0, tile.owned.lowerBound - tile.input.lowerBound, w, tile.owned.count),
                                   inputSize: (w, tile.input.count))
                    XCTAssertThrowsError(try session.run(["x": rows(image, tile.input.lowerBound, tile.input.upperBound)],
                                                         statistics: pass)) { XCTAssertTrue($0 is StatisticsMeasured) }
                }
                entries = try pass.finishMeasurement()
            }
            for (a, b) in zip(entries.joined(), recorder.entries.joined()) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
            if let checkpoints {
                // The second pass resumed after the first norm layer (the ReLU output is the only live value).
                XCTAssertEqual(checkpoints.points.count, 2)
                checkpoints.capturing = false
            }
            try checkTiles({ i in checkpoints?.start(tile: i); return SpatialStatistics.replaying(entries, checkpoints: checkpoints) },
                           checkpoints == nil ? "measured" : "measured, resumed from checkpoints")
        }
    }

    func testAReplayForAnotherModelIsAnError() throws {
        let session = try model()
        let image = Tensor(shape: [1, 2, 8, 8], floats: Array(repeating: 0.5, count: 128))
        XCTAssertThrowsError(try session.run(["x": image], statistics: SpatialStatistics.replaying([[1, 2, 3]]))) {
            XCTAssertTrue("\($0)".contains("reduction 0 has 3 values, this run needs 4"), "\($0)")
        }
    }
}
