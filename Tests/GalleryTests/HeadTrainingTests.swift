import CNNRuntime
@testable import Gallery
@testable import MetricLearning
import GRDB
import XCTest

/// Training on a synthetic gallery where the plain distance is poor but a linear map separates the
/// people; storing the head; export/import; matching with it.
final class HeadTrainingTests: XCTestCase {
    /// `people` people × `photos` photos: identity in the first 16 numbers (centres ±0.12), and large
    /// per-photo noise in the other 112 (σ `noise`): plain distances overlap, W can suppress the noise.
    static func synthetic(people: Int = 8, photos: Int = 12, noise: Float = 0.06, seed: UInt64 = 3) throws -> TrainingSet {
        var rng = SplitMix(seed)
        func gaussian() -> Float {
            let u = Float.random(in: 1e-7...1, using: &rng), v = Float.random(in: 0...1, using: &rng)
            return (-2 * logf(u)).squareRoot() * cosf(2 * .pi * v)
        }
        var labels: [Int] = [], vectors: [Float] = []
        for p in 0..<people {
            let centre = (0..<16).map { _ in 0.12 * gaussian() }
            for _ in 0..<photos {
                labels.append(p)
                vectors += centre.map { $0 + 0.01 * gaussian() } + (0..<112).map { _ in noise * gaussian() }
            }
        }
        return try TrainingSet(people: (0..<people).map { "person \($0)" }, labels: labels, vectors: vectors)
    }

    /// MetricLearning knows nothing of the gallery; the head's size must still be the stored embeddings'.
    func testHeadDimensionIsTheGalleryEmbeddingDimension() {
        XCTAssertEqual(MetricHead.dimension, Embedding.dimension)
    }

    func testSyntheticSeparableSetReaches99PercentValidationAccuracy() throws {
        let set = try Self.synthetic()
        for method in MetricHead.Method.allCases {
            var options = HeadTrainingOptions()
            options.method = method
            options.maxEpochs = 150
            options.threads = 1
            let head = try HeadTrainer.train(set, options: options)
            let r = head.report
            print("synthetic \(method.rawValue):\n  " + r.lines.joined(separator: "\n  "))
            XCTAssertEqual(r.people, 8)
            XCTAssertEqual(r.validationEmbeddings, 8 * 3)
            XCTAssertLessThan(r.before.accuracy, 0.95, "the plain distance should not already separate the synthetic set")
            if let t = r.afterTriplet {
                XCTAssertGreaterThanOrEqual(t.accuracy, 0.99, "\(method) triplet: \(t.line)")
                XCTAssertLessThan(t.equalErrorRate, r.before.equalErrorRate)
            }
            if let b = r.afterBinary { XCTAssertGreaterThanOrEqual(b.accuracy, 0.99, "\(method) verifier: \(b.line)") }
            XCTAssertEqual(head.transform != nil, method != .binary)
            XCTAssertEqual(head.verifier != nil, method != .triplet)
        }
    }

    func testTooFewPhotosPerPersonIsAClearError() throws {
        var rng = SplitMix(5)
        var vectors: [Float] = []
        for _ in 0..<5 { vectors += randomEmbedding(&rng) }
        // Three people: 2 photos, 2 photos, 1 photo: nothing can be held out.
        let set = try TrainingSet(people: ["a", "b", "c"], labels: [0, 0, 1, 1, 2], vectors: vectors)
        XCTAssertThrowsError(try HeadTrainer.train(set, options: HeadTrainingOptions())) { e in
            XCTAssertTrue("\(e)".hasPrefix("gallery train needs at least 2 people with 3 or more photos each"), "\(e)")
        }
    }

    func testSplitHoldsOutAQuarterAndSkipsSinglePhotos() throws {
        var rng = SplitMix(9)
        var vectors: [Float] = []
        for _ in 0..<(8 + 2 + 1) { vectors += randomEmbedding(&rng) }
        let set = try TrainingSet(people: ["a", "b", "c"], labels: Array(repeating: 0, count: 8) + [1, 1, 2], vectors: vectors)
        let split = set.split(fraction: 0.25, seed: 1)
        XCTAssertEqual(split.validation.count, 2)
        XCTAssertEqual(split.training.count, 6 + 2)
        XCTAssertEqual(split.skippedPeople, ["c"])
        XCTAssertEqual(set.split(fraction: 0.25, seed: 1).validation, split.validation)
    }

    /// A trained head: stored, read back, exported, imported into a new gallery (bit for bit), used for matching.
    func testHeadRoundTripsThroughStorageAndExportImport() throws {
        let tmp = try TempDir()
        let set = try Self.synthetic(people: 4, photos: 6)
        let g = try Gallery(path: tmp.file("a.db"), modelIdentity: modelA)
        for (p, name) in set.people.enumerated() {
            let rows = set.labels.indices.filter { set.labels[$0] == p }
            try g.enroll(name: name, embeddings: rows.map { Array(set.row($0)) })
        }
        XCTAssertNil(try g.currentHead())
        var options = HeadTrainingOptions()
        options.threads = 1
        options.maxEpochs = 40
        let head = try HeadTrainer.train(try g.trainingSet(), options: options)
        try g.saveHead(head)
        let stored = try XCTUnwrap(try g.currentHead())
        XCTAssertEqual(stored.transform, head.transform)
        XCTAssertEqual(stored.verifier, head.verifier)
        XCTAssertEqual(stored.threshold, head.threshold)
        XCTAssertEqual(stored.report, head.report)

        let json = try g.exportJSON()
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"head\": {\"method\": \"both\""))
        XCTAssertTrue(try Gallery(path: tmp.file("b.db")).importJSON(json).headImported)
        let b = try Gallery(path: tmp.file("b.db"))
        let imported = try XCTUnwrap(try b.currentHead())
        XCTAssertEqual(imported.transform.map { $0.map(\.bitPattern) }, stored.transform.map { $0.map(\.bitPattern) })
        XCTAssertEqual(imported.verifier?.weights.map(\.bitPattern), stored.verifier?.weights.map(\.bitPattern))
        XCTAssertEqual(imported.verifier?.bias.bitPattern, stored.verifier?.bias.bitPattern)
        XCTAssertEqual(imported.threshold.bitPattern, stored.threshold.bitPattern)
        XCTAssertEqual(imported.method, stored.method)
        XCTAssertEqual(imported.report, stored.report)
        XCTAssertEqual(try b.exportJSON(), json)
        // A gallery that has a head keeps it on import.
        XCTAssertFalse(try b.importJSON(json).headImported)
        // Without a head the export stays version 1.
        XCTAssertEqual(try b.removeHeads(), 1)
        XCTAssertTrue(String(decoding: try b.exportJSON(), as: UTF8.self).contains("\"version\": 1,"))

        // Matching: with the head, a photo of person 0 is person 0 with P(same) ≥ 0.5.
        let query = Array(set.row(0))
        let matcher = try FaceMatcher(gallery: Gallery(path: tmp.file("a.db"), modelIdentity: modelA), threads: 1)
        XCTAssertEqual(matcher.tolerance, stored.threshold)
        let who = try matcher.identify([query])[0]
        XCTAssertEqual(who.name, "person 0")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(who.probability), 0.5)
        let plain = try FaceMatcher(gallery: Gallery(path: tmp.file("a.db"), modelIdentity: modelA), useHead: false, threads: 1)
        XCTAssertNil(plain.head)
        XCTAssertEqual(plain.tolerance, 0.6)
        XCTAssertNil(try plain.identify([query])[0].probability)
    }

    func testVersionOneGalleryIsMigrated() throws {
        let tmp = try TempDir()
        let path = tmp.file("old.db")
        let q = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(q, upTo: "v1")
        try q.close()
        let g = try Gallery(path: path, modelIdentity: modelA)
        XCTAssertEqual(try g.schemaVersion(), 2)
        XCTAssertNil(try g.currentHead())
    }

    func testVerificationSummary() {
        let s = Verification.summary(same: [0.1, 0.2, 0.3], different: [0.25, 0.5, 0.6, 0.7])
        XCTAssertEqual(s.areaUnderROC, 11.0 / 12.0, accuracy: 1e-9)
        XCTAssertEqual(Verification.equalErrorRate(same: [0.1, 0.2], different: [0.3, 0.4]), 0)
        XCTAssertEqual(Verification.bestThreshold(same: [0.1, 0.2], different: [0.4, 0.5]), 0.3, accuracy: 1e-6)
        XCTAssertEqual(Verification.summary(same: [0.1, 0.2], different: [0.4, 0.5], threshold: 0.45).falseAcceptRate, 0.5)
    }
}
