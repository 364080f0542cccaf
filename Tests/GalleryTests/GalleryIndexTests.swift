import Foundation
import XCTest
@testable import Gallery

final class GalleryIndexTests: XCTestCase {
    /// Each person's closest embedding by direct differences in Double, nearest first.
    func bruteForce(names: [String], rowPerson: [Int32], matrix: [Float], query: [Float]) -> [GalleryMatch] {
        var best = [Double](repeating: .infinity, count: names.count)
        for r in 0..<rowPerson.count {
            var s = 0.0
            for j in 0..<128 { let d = Double(matrix[r * 128 + j]) - Double(query[j]); s += d * d }
            best[Int(rowPerson[r])] = min(best[Int(rowPerson[r])], s.squareRoot())
        }
        return best.indices.filter { best[$0].isFinite }.map { GalleryMatch(name: names[$0], distance: Float(best[$0])) }
            .sorted { $0.distance < $1.distance }
    }

    func randomIndex(people: Int, rows: Int, seed: UInt64) throws -> (GalleryIndex, [String], [Int32], [Float]) {
        var rng = SplitMix(seed)
        let names = (0..<people).map { "person \($0)" }
        let rowPerson = (0..<rows).map { _ in Int32.random(in: 0..<Int32(people), using: &rng) }
        let matrix = (0..<rows).flatMap { _ in randomEmbedding(&rng) }
        return (try GalleryIndex(names: names, rowPerson: rowPerson, matrix: matrix), names, rowPerson, matrix)
    }

    func assertSame(_ got: [GalleryMatch], _ want: [GalleryMatch], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.map(\.name), want.map(\.name), message, file: file, line: line)
        for (g, w) in zip(got, want) { XCTAssertEqual(g.distance, w.distance, accuracy: 1e-3, message, file: file, line: line) }
    }

    func testNearestMatchesBruteForce() throws {
        let (index, names, rowPerson, matrix) = try randomIndex(people: 300, rows: 5000, seed: 11)
        var rng = SplitMix(12)
        for trial in 0..<40 {
            // Half the queries are a stored embedding plus a little noise (a real match), half random.
            var query = randomEmbedding(&rng)
            if trial % 2 == 0 {
                let r = Int.random(in: 0..<rowPerson.count, using: &rng)
                query = (0..<128).map { matrix[r * 128 + $0] + Float.random(in: -0.01...0.01, using: &rng) }
            }
            let want = bruteForce(names: names, rowPerson: rowPerson, matrix: matrix, query: query)
            for k in [1, 5, 20] {
                assertSame(try index.nearest(query, k: k), Array(want.prefix(k)), "trial \(trial) k \(k)")
            }
        }
        // k larger than the number of people: everyone, in order.
        let q = randomEmbedding(&rng)
        assertSame(try index.nearest(q, k: 1000), bruteForce(names: names, rowPerson: rowPerson, matrix: matrix, query: q), "k > people")
    }

    func testExactDistanceForAnEnrolledEmbedding() throws {
        let (index, names, rowPerson, matrix) = try randomIndex(people: 10, rows: 100, seed: 13)
        let row = 42
        let best = try index.nearest(Array(matrix[row * 128..<(row + 1) * 128]), k: 1)
        XCTAssertEqual(best, [GalleryMatch(name: names[Int(rowPerson[row])], distance: 0)])
    }

    func testNearestManyMatchesNearest() throws {
        // Enough rows for several sgemm blocks.
        let (index, _, _, _) = try randomIndex(people: 2000, rows: 40_000, seed: 14)
        var rng = SplitMix(15)
        let queries = (0..<7).map { _ in randomEmbedding(&rng) }
        let many = try index.nearestMany(queries, k: 5)
        XCTAssertEqual(many.count, queries.count)
        for (i, q) in queries.enumerated() { assertSame(many[i], try index.nearest(q, k: 5), "query \(i)") }
    }

    /// One person with more rows than a chunk, people without rows, one or two workers: the same answers.
    func testUnevenPeopleAndThreads() throws {
        var rng = SplitMix(18)
        let names = ["big", "empty", "a", "b", "also empty", "c"]
        var rowPerson = [Int32](repeating: 0, count: 20_000)
        rowPerson += (0..<300).map { _ in [2, 3, 5][Int.random(in: 0..<3, using: &rng)] }
        let matrix = rowPerson.flatMap { _ in randomEmbedding(&rng) }
        let one = try GalleryIndex(names: names, rowPerson: rowPerson, matrix: matrix, threads: 1)
        let two = try GalleryIndex(names: names, rowPerson: rowPerson, matrix: matrix, threads: 2)
        for trial in 0..<5 {
            let q = randomEmbedding(&rng)
            let want = bruteForce(names: names, rowPerson: rowPerson, matrix: matrix, query: q)
            XCTAssertEqual(want.count, 4)
            assertSame(try one.nearest(q, k: 6), want, "trial \(trial), 1 thread")
            assertSame(try two.nearest(q, k: 6), want, "trial \(trial), 2 threads")
        }
        XCTAssertEqual(one.embeddings(of: "big").count, 20_000)
        XCTAssertEqual(one.embeddings(of: "empty"), [])
    }

    func testEmptyAndInvalid() throws {
        let empty = try GalleryIndex(names: [], rowPerson: [], matrix: [])
        var rng = SplitMix(16)
        XCTAssertEqual(try empty.nearest(randomEmbedding(&rng), k: 3), [])
        XCTAssertEqual(try empty.nearestMany([randomEmbedding(&rng), randomEmbedding(&rng)]), [[], []])
        XCTAssertThrowsError(try empty.nearest([1, 2, 3]))
        XCTAssertThrowsError(try GalleryIndex(names: ["a"], rowPerson: [0, 1], matrix: [Float](repeating: 0, count: 256)))
        XCTAssertThrowsError(try GalleryIndex(names: ["a"], rowPerson: [0], matrix: [1]))
    }

    /// The index over a gallery: every embedding, people by name, removed people gone.
    func testIndexFromGallery() throws {
        let tmp = try TempDir()
        var rng = SplitMix(17)
        let g = try Gallery(path: tmp.file("g.db"), modelIdentity: modelA)
        var stored: [String: [[Float]]] = [:]
        for name in ["ann", "bob", "cy", "dee"] {
            stored[name] = (0..<3).map { _ in randomEmbedding(&rng) }
            try g.enroll(name: name, embeddings: stored[name]!)
        }
        try g.remove("cy")
        let index = try GalleryIndex(gallery: g)
        XCTAssertEqual(index.count, 9)
        XCTAssertEqual(index.names, ["ann", "bob", "dee"])
        XCTAssertEqual(index.modelIdentity, modelA)
        for name in ["ann", "bob", "dee"] {
            let m = try index.nearest(stored[name]![1], k: 3)
            XCTAssertEqual(m.first, GalleryMatch(name: name, distance: 0))
            XCTAssertEqual(m.count, 3)
        }
        XCTAssertNotEqual(try index.nearest(stored["cy"]![0], k: 1).first?.distance, 0)
    }
}
