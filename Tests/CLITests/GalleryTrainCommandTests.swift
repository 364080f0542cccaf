import Foundation
import XCTest

/// `cnnpipe gallery train`, `head`, `evaluate` and `faces verify --gallery` with the built binary,
/// on galleries imported from synthetic exports (no face model needed for training).
final class GalleryTrainCommandTests: XCTestCase {
    private let identity = String(repeating: "cd", count: 32)

    private func text(_ d: Data) -> String { String(decoding: d, as: UTF8.self) }

    /// An export of `people` people with `photos` embeddings each: identity in the first 16 numbers,
    /// per-photo noise in the rest (a seeded generator, the same on every run).
    private func export(people: Int, photos: [Int], seed: UInt64 = 1) -> Data {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        let list = (0..<people).map { p -> [String: Any] in
            let centre = (0..<16).map { _ in 0.2 * uniform() }
            let embeddings = (0..<photos[p]).map { _ -> [String: Any] in
                let v = centre.map { $0 + 0.01 * uniform() } + (0..<112).map { _ in 0.1 * uniform() }
                return ["source": NSNull(), "created_at": "2024-05-01T10:00:00.000Z", "vector": v.map { Double(Float($0)) }]
            }
            return ["name": "person \(p)", "notes": NSNull(), "created_at": "2024-05-01T10:00:00.000Z",
                    "updated_at": "2024-05-01T10:00:00.000Z", "embeddings": embeddings]
        }
        let doc: [String: Any] = ["format": "cnnpipe-gallery", "version": 1, "model_identity": identity, "dimension": 128, "people": list]
        return try! JSONSerialization.data(withJSONObject: doc)
    }

    private func gallery(_ dir: String, _ name: String, _ data: Data) throws -> String {
        let json = dir + "/" + name + ".json", g = dir + "/" + name + ".db"
        try data.write(to: URL(fileURLWithPath: json))
        let r = try cnnpipe(["gallery", "import", "--gallery", g, json])
        XCTAssertEqual(r.status, 0, r.stderr)
        return g
    }

    func testTrainStoresAHeadThatEvaluateExportAndImportUse() throws {
        let dir = try TestEnv.tempDir()
        let g = try gallery(dir, "train", export(people: 6, photos: [8, 8, 8, 8, 8, 1]))
        var r = try cnnpipe(["gallery", "train", "--gallery", g, "--method", "both", "--epochs", "80", "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("note: skipped 1 people with a single photo: person 5"), r.stderr)
        let out = text(r.stdout)
        XCTAssertTrue(out.contains("method both: 5 people, 30 training and 10 held-out embeddings"), out)
        XCTAssertTrue(out.contains("held-out after (head distance):"), out)
        XCTAssertTrue(out.contains("held-out after (verifier, P>=0.5):"), out)
        XCTAssertTrue(out.contains("stored in \(g)"), out)

        r = try cnnpipe(["gallery", "head", "--gallery", g, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(report["method"] as? String, "both")
        XCTAssertEqual(report["selection"] as? String, "hard")
        let after = try XCTUnwrap(report["after_binary"] as? [String: Any])
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(after["accuracy"] as? Double), 0.95)
        XCTAssertTrue(text(try cnnpipe(["gallery", "info", "--gallery", g]).stdout).contains("head: both, threshold"))

        // Another gallery as the test set: plain distance, head distance and verifier over all its pairs.
        let test = try gallery(dir, "test", export(people: 5, photos: [4, 4, 4, 4, 4]))
        r = try cnnpipe(["gallery", "evaluate", "--gallery", g, test])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = text(r.stdout).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.map { $0.components(separatedBy: ":")[0] }, ["plain distance", "head distance", "verifier"])

        // Export → import into a new gallery keeps the head.
        r = try cnnpipe(["gallery", "export", "--gallery", g, "-o", dir + "/with-head.json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try cnnpipe(["gallery", "import", "--gallery", dir + "/copy.db", dir + "/with-head.json"])
        XCTAssertTrue(text(r.stdout).contains("head imported"), text(r.stdout))
        XCTAssertEqual(text(try cnnpipe(["gallery", "head", "--gallery", dir + "/copy.db", "--json"]).stdout), text(try cnnpipe(["gallery", "head", "--gallery", g, "--json"]).stdout))

        r = try cnnpipe(["gallery", "head", "--gallery", g, "--remove"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try cnnpipe(["gallery", "head", "--gallery", g])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("cnnpipe: error: \(g) has no head"), r.stderr)
    }

    func testTooFewPhotosPerPersonIsAOneLineError() throws {
        let dir = try TestEnv.tempDir()
        let g = try gallery(dir, "small", export(people: 3, photos: [2, 2, 1]))
        let r = try cnnpipe(["gallery", "train", "--gallery", g])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "cnnpipe: error: gallery train needs at least 2 people with 3 or more photos each (this gallery has 0); enrol more photos per person\n")
        XCTAssertEqual(text(try cnnpipe(["gallery", "info", "--gallery", g]).stdout).contains("head: none"), true)

        let missing = try cnnpipe(["gallery", "train", "--gallery", dir + "/missing.db"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no such gallery"), missing.stderr)
        let bad = try cnnpipe(["gallery", "train", "--gallery", g, "--method", "quadruplet"])
        XCTAssertNotEqual(bad.status, 0)
    }
}
