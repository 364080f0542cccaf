import Foundation
import XCTest

/// Galleries written or edited by other programs, and hostile names and numbers (issue 15).
final class GalleryHardeningTests: XCTestCase {
    private let identity = String(repeating: "cd", count: 32)

    private func export(_ names: [String], vector: [Any]? = nil) throws -> Data {
        let people = names.enumerated().map { i, name -> [String: Any] in
            ["name": name, "notes": NSNull(), "created_at": "2024-05-01T10:00:00.000Z", "updated_at": "2024-05-01T10:00:00.000Z",
             "embeddings": [["source": NSNull(), "created_at": "2024-05-01T10:00:00.000Z",
                             "vector": vector ?? (0..<128).map { j in Double(i * 128 + j).truncatingRemainder(dividingBy: 7) / 10 }]]]
        }
        let doc: [String: Any] = ["format": "cnnpipe-gallery", "version": 1, "model_identity": identity, "dimension": 128, "people": people]
        return try JSONSerialization.data(withJSONObject: doc)
    }

    /// A gallery with Ann and Bob, imported from JSON (no model needed).
    private func gallery() throws -> (dir: String, path: String) {
        let dir = try TestEnv.tempDir()
        let r = try cnnpipe(["gallery", "import", "--gallery", dir + "/g.db", "-"], stdin: try export(["Ann", "Bob"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        return (dir, dir + "/g.db")
    }

    private func sql(_ db: String, _ statement: String) throws {
        let r = try runProcess("/usr/bin/sqlite3", [db, statement])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testANonDateCreatedAtIsAOneLineError() throws {
        let g = try gallery()
        try sql(g.path, "UPDATE people SET created_at = 'yesterday-ish' WHERE name = 'Bob'")
        for command in [["gallery", "list"], ["gallery", "export"]] {
            let r = try cnnpipe(command + ["--gallery", g.path])
            HardeningCLITests.assertOneLineError(r, mentions: "g.db")
            XCTAssertTrue(r.stderr.contains("created_at"), r.stderr)
        }
    }

    func testAGalleryWithAnExtraTableIsRefused() throws {
        let g = try gallery()
        try sql(g.path, "CREATE TABLE holiday_photos (id INTEGER PRIMARY KEY, path TEXT)")
        let r = try cnnpipe(["gallery", "list", "--gallery", g.path])
        HardeningCLITests.assertOneLineError(r, mentions: "holiday_photos")
        XCTAssertTrue(r.stderr.contains("not a cnnpipe gallery"), r.stderr)
    }

    func testNamesWithNULOrEscapesAreRefusedAndNeverPrintedRaw() throws {
        let g = try gallery()
        for bad in ["Eve\u{0}Mallory", "\u{1B}[31mRed\u{1B}[0m"] {
            let r = try cnnpipe(["gallery", "import", "--gallery", g.path, "-"], stdin: try export([bad]))
            HardeningCLITests.assertOneLineError(r, mentions: "control characters")
            XCTAssertFalse(r.stderr.contains("\u{1B}"), r.stderr)
        }
        // (A NUL cannot travel in argv; ESC can.)
        let rename = try cnnpipe(["gallery", "rename", "--gallery", g.path, "Ann", "\u{1B}]0;pwned\u{7}Ann"])
        HardeningCLITests.assertOneLineError(rename, status: 2, mentions: "control characters")
        XCTAssertFalse(rename.stderr.contains("\u{1B}"), rename.stderr)
        // A name another program stored with an escape sequence is shown escaped.
        try sql(g.path, "UPDATE people SET name = 'Bob' || char(27) || '[2J' WHERE name = 'Bob'")
        let list = try cnnpipe(["gallery", "list", "--gallery", g.path])
        XCTAssertEqual(list.status, 0, list.stderr)
        let text = String(decoding: list.stdout, as: UTF8.self)
        XCTAssertFalse(text.contains("\u{1B}"), text)
        XCTAssertTrue(text.contains("Bob\\u{1b}[2J"), text)
    }

    func testNonFiniteEmbeddingsAreRefusedAtImport() throws {
        let g = try gallery()
        for value in ["\"nan\"", "\"inf\"", "\"-inf\"", "1e39", "-3.5e38"] {
            // The export with its first number replaced by `value`, as another program might write it.
            var text = String(decoding: try export(["Nan"], vector: Array(repeating: 0.25, count: 128)), as: UTF8.self)
            text = text.replacingOccurrences(of: "[0.25,", with: "[\(value),")
            XCTAssertTrue(text.contains("[\(value),"))
            let r = try cnnpipe(["gallery", "import", "--gallery", g.path, "-"], stdin: Data(text.utf8))
            // "nan"/"inf" are read and refused by the check; out-of-range numbers by the JSON reader.
            HardeningCLITests.assertOneLineError(r, mentions: value.hasPrefix("\"") ? "NaN or infinite" : "not a gallery export")
        }
    }

    /// A NaN written into the database by another program: export refuses it instead of writing
    /// JSON no import would read (and the search index refuses it instead of never matching).
    func testANonFiniteStoredEmbeddingIsAnError() throws {
        let g = try gallery()
        let nan = String(repeating: "0000C07F", count: 128)
        try sql(g.path, "UPDATE embeddings SET vector = X'\(nan)' WHERE person_id = (SELECT id FROM people WHERE name = 'Bob')")
        let r = try cnnpipe(["gallery", "export", "--gallery", g.path])
        HardeningCLITests.assertOneLineError(r, mentions: "'Bob'")
        XCTAssertTrue(r.stderr.contains("NaN or infinite"), r.stderr)
    }
}
