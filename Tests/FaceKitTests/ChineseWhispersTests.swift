@testable import FaceKit
import Foundation
import XCTest

/// Chinese whispers against dlib's own labels (Tests/FaceKitTests/Reference/chinese-whispers.json,
/// made with dlib-bin by scripts/parity/make_chinese_whispers_reference.py), its random numbers,
/// the descriptor graph and the adjusted Rand index.
final class ChineseWhispersTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable { let threshold: Float; let labels: [Int]; let clusters: Int }
        let scale: Float
        let codes: [[Int]]
        let cases: [Case]

        var descriptors: [[Float]] {
            codes.map { code in code.map { Float($0) / scale } + [Float](repeating: 0, count: 128 - code.count) }
        }
    }

    private func reference() throws -> Reference {
        let path = FaceDetectorTests.root + "/Tests/FaceKitTests/Reference/chinese-whispers.json"
        return try JSONDecoder().decode(Reference.self, from: try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// MT19937's check value (C++ [rand.predef]: the 10000th number from the default seed 5489).
    func testMersenneTwisterCheckValue() {
        var mt = DlibRandom(mersenneSeed: 5489)
        for _ in 0..<9_999 { _ = mt.next32() }
        XCTAssertEqual(mt.next32(), 4_123_659_995)
    }

    func testTwoCliquesJoinedByAWeakEdgeAreTwoClusters() {
        var edges: [(Int, Int, Double)] = []
        for clique in [0..<5, 5..<10] {
            for i in clique { for j in clique where j >= i { edges.append((i, j, 1)) } }
        }
        edges.append((4, 5, 0.1))
        let labels = ChineseWhispers.cluster(NeighbourGraph(edges: edges))
        XCTAssertEqual(labels, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        // A bridge heavier than a whole clique pulls the bridge node over: the same code sees the weights.
        edges[edges.count - 1].2 = 10
        let pulled = ChineseWhispers.cluster(NeighbourGraph(edges: edges))
        XCTAssertEqual(pulled[4], pulled[5])
        XCTAssertEqual(Set(pulled).count, 2)
    }

    func testNodesWithoutEdgesKeepTheirOwnLabel() {
        // Node 1 has no edge at all (dlib: an empty neighbour range, the label stays).
        let labels = ChineseWhispers.cluster(NeighbourGraph(edges: [(0, 0, 1), (0, 2, 1), (2, 2, 1)]))
        XCTAssertEqual(labels, [0, 1, 0])
        XCTAssertEqual(ChineseWhispers.cluster(NeighbourGraph(edges: [])), [])
    }

    func testSameSeedSameClustersAnotherSeedOtherClusters() throws {
        let graph = try NeighbourGraph.closerThan(0.5, descriptors: try reference().descriptors)
        var a = DlibRandom(seed: "photos"), b = DlibRandom(seed: "photos"), c = DlibRandom(seed: "other")
        let first = ChineseWhispers.cluster(graph, random: &a)
        XCTAssertEqual(ChineseWhispers.cluster(graph, random: &b), first)
        XCTAssertNotEqual(ChineseWhispers.cluster(graph, random: &c), first)
    }

    /// dlib's labels exactly, for points whose clusters depend on the visiting order (the script
    /// checked that another order gives another partition): the random numbers are dlib's.
    func testLabelsAreDlibsChineseWhispersClustering() throws {
        let r = try reference()
        let descriptors = r.descriptors
        for c in r.cases {
            let labels = try ChineseWhispers.cluster(descriptors: descriptors, threshold: c.threshold)
            XCTAssertEqual(labels, c.labels, "threshold \(c.threshold)")
            XCTAssertEqual(Set(labels).count, c.clusters)
            // Another seed visits the nodes in another order: not dlib's partition.
            var other = DlibRandom(seed: "x")
            let graph = try NeighbourGraph.closerThan(c.threshold, descriptors: descriptors)
            XCTAssertLessThan(adjustedRandIndex(ChineseWhispers.cluster(graph, random: &other), c.labels), 1)
        }
    }

    /// The BLAS graph has exactly the edges of the pairwise double distances, also for pairs
    /// placed within 1e-7 of the threshold (where the Gram expansion alone would guess).
    func testDescriptorGraphMatchesPairwiseDistances() throws {
        var rng = DlibRandom(seed: "graph")
        var descriptors: [[Float]] = (0..<150).map { _ in (0..<128).map { _ in Float.random(in: -0.09...0.09, using: &rng) } }
        for k in 0..<40 {
            let a = descriptors[k]
            let direction = (0..<128).map { _ in Float.random(in: -1...1, using: &rng) }
            let length = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let target = 0.5 + Float(k % 5 - 2) * 1e-7
            descriptors.append(zip(a, direction).map { $0 + $1 / length * target })
        }
        let graph = try NeighbourGraph.closerThan(0.5, descriptors: descriptors)
        var expected: [(Int, Int, Double)] = []
        for i in descriptors.indices {
            for j in i..<descriptors.count {
                var sum = 0.0
                for k in 0..<128 { let v = Double(descriptors[i][k]) - Double(descriptors[j][k]); sum += v * v }
                if sum.squareRoot() < 0.5 { expected.append((i, j, 1)) }
            }
        }
        XCTAssertEqual(graph, NeighbourGraph(edges: expected))
        XCTAssertGreaterThan(graph.edgeCount, descriptors.count)   // not just the self-edges
    }

    func testDescriptorGraphRejectsBadInput() {
        XCTAssertThrowsError(try NeighbourGraph.closerThan(0.5, descriptors: [[0, 1], [0]]))
        XCTAssertThrowsError(try NeighbourGraph.closerThan(0.5, descriptors: [[0, .nan]]))
        XCTAssertThrowsError(try NeighbourGraph.closerThan(0, descriptors: [[0, 1]]))
        XCTAssertEqual(try ChineseWhispers.cluster(descriptors: []), [])
    }

    /// scikit-learn's documented values of adjusted_rand_score.
    func testAdjustedRandIndex() {
        XCTAssertEqual(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1]), 1)
        XCTAssertEqual(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]), 1)
        XCTAssertEqual(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1]), 0.5714285714285715, accuracy: 1e-15)
        XCTAssertEqual(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]), 0.5714285714285715, accuracy: 1e-15)
        XCTAssertEqual(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3]), 0)
        XCTAssertEqual(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]), -0.5, accuracy: 1e-15)
        XCTAssertEqual(adjustedRandIndex(["a", "a", "b"], [7, 7, 9]), 1)
    }
}
