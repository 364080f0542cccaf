import Foundation
import GRDB
import XCTest
@testable import Gallery

final class GalleryStoreTests: XCTestCase {
    var tmp: TempDir!
    override func setUpWithError() throws { tmp = try TempDir() }
    override func tearDown() { tmp = nil }

    func testFreshFileSchema() throws {
        let path = tmp.file("g.db")
        let g = try Gallery(path: path, modelIdentity: modelA)
        XCTAssertEqual(g.modelIdentity, modelA)
        XCTAssertEqual(try g.schemaVersion(), 2)
        XCTAssertEqual(try g.people(), [])
        try g.pool.read { db in
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA journal_mode"), "wal")
            XCTAssertTrue(try db.tableExists("people"))
            XCTAssertTrue(try db.tableExists("embeddings"))
            XCTAssertEqual(try Set(db.columns(in: "people").map(\.name)), ["id", "name", "notes", "created_at", "updated_at"])
            XCTAssertEqual(try Set(db.columns(in: "embeddings").map(\.name)), ["id", "person_id", "vector", "source", "created_at"])
            let fk = try db.foreignKeys(on: "embeddings")
            XCTAssertEqual(fk.first?.destinationTable, "people")
            XCTAssertEqual(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"), ["v1", "v2"])
            XCTAssertEqual(try Gallery.metadata(db, "model_identity"), modelA)
            XCTAssertEqual(try Gallery.metadata(db, "format"), "cnnpipe-gallery")
        }
        // Opening again runs no migration and keeps everything.
        let again = try Gallery(path: path, modelIdentity: modelA)
        XCTAssertEqual(try again.schemaVersion(), 2)
    }

    func testMustExistAndNotAGallery() throws {
        XCTAssertThrowsError(try Gallery(path: tmp.file("missing.db"), create: false)) { e in
            XCTAssertEqual("\(e)", "\(tmp.file("missing.db")): no such gallery")
        }
        // Another application's SQLite file is not turned into a gallery.
        let other = tmp.file("other.db")
        let q = try DatabaseQueue(path: other)
        try q.write { try $0.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY)") }
        try q.close()
        XCTAssertThrowsError(try Gallery(path: other, modelIdentity: modelA)) { e in
            XCTAssertTrue("\(e)".contains("not a cnnpipe gallery"), "\(e)")
        }
        // Not SQLite at all.
        let text = tmp.file("text.db")
        try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try Gallery(path: text, modelIdentity: modelA)) { e in
            XCTAssertTrue("\(e)".hasPrefix(text + ":"), "\(e)")
            XCTAssertFalse("\(e)".contains("\n"))
        }
    }

    func testNewerSchemaIsRefused() throws {
        let path = tmp.file("g.db")
        let g = try Gallery(path: path, modelIdentity: modelA)
        try g.write { try Gallery.setMetadata($0, "schema_version", "7") }
        XCTAssertThrowsError(try Gallery(path: path, modelIdentity: modelA)) { e in
            XCTAssertTrue("\(e)".contains("schema version 7 is newer"), "\(e)")
        }
    }

    func testEnrollListRenameRemove() throws {
        var rng = SplitMix(1)
        let g = try Gallery(path: tmp.file("g.db"), modelIdentity: modelA)
        let e1 = randomEmbedding(&rng), e2 = randomEmbedding(&rng), e3 = randomEmbedding(&rng)
        var s = try g.enroll(name: "Ada Lovelace", embeddings: [e1], sources: ["ada.jpg"], notes: "mathematician")
        XCTAssertEqual(s.peopleAdded, 1)
        XCTAssertEqual(s.embeddingsAdded, 1)
        // Enrolling again adds to the same person; the same embedding is not stored twice; nil notes keep the notes.
        s = try g.enroll(name: "Ada Lovelace", embeddings: [e2, e1], sources: ["ada2.jpg", "ada.jpg"])
        XCTAssertEqual(s.peopleUpdated, 1)
        XCTAssertEqual(s.embeddingsAdded, 1)
        XCTAssertEqual(s.embeddingsAlreadyPresent, 1)
        try g.enroll(name: "Charles Babbage", embeddings: [e3])
        var people = try g.people()
        XCTAssertEqual(people.map(\.name), ["Ada Lovelace", "Charles Babbage"])
        XCTAssertEqual(people.map(\.embeddingCount), [2, 1])
        XCTAssertEqual(people[0].notes, "mathematician")
        XCTAssertNil(people[1].notes)
        XCTAssertLessThanOrEqual(people[0].createdAt, people[0].updatedAt)
        XCTAssertEqual(try g.counts().embeddings, 3)

        try g.rename("Charles Babbage", to: "Charles")
        XCTAssertEqual(try g.people().map(\.name), ["Ada Lovelace", "Charles"])
        XCTAssertThrowsError(try g.rename("Nobody", to: "X")) { XCTAssertEqual("\($0)", "no person 'Nobody' in \(g.path)") }
        XCTAssertThrowsError(try g.rename("Charles", to: "Ada Lovelace")) { XCTAssertTrue("\($0)".contains("already in")) }
        XCTAssertThrowsError(try g.rename("Charles", to: " ")) { XCTAssertTrue("\($0)".contains("empty")) }
        try g.setNotes("Charles", "engineer")
        XCTAssertEqual(try g.people().last?.notes, "engineer")

        XCTAssertEqual(try g.remove("Ada Lovelace"), 2)
        people = try g.people()
        XCTAssertEqual(people.map(\.name), ["Charles"])
        // The embeddings went with her (ON DELETE CASCADE).
        XCTAssertEqual(try g.counts().embeddings, 1)
        XCTAssertThrowsError(try g.remove("Ada Lovelace")) { XCTAssertEqual("\($0)", "no person 'Ada Lovelace' in \(g.path)") }

        // Bad input is refused before anything is written.
        XCTAssertThrowsError(try g.enroll(name: "X", embeddings: [[1, 2, 3]])) { XCTAssertTrue("\($0)".contains("3 numbers, expected 128")) }
        var nan = e1; nan[5] = .nan
        XCTAssertThrowsError(try g.enroll(name: "X", embeddings: [nan], sources: ["x.jpg"])) { XCTAssertTrue("\($0)".hasPrefix("x.jpg:")) }
        XCTAssertThrowsError(try g.enroll(name: "", embeddings: [e1]))
        XCTAssertEqual(try g.people().map(\.name), ["Charles"])
    }

    func testEmbeddingsAreStoredAsLittleEndianFloat32() throws {
        let g = try Gallery(path: tmp.file("g.db"), modelIdentity: modelA)
        var v = [Float](repeating: 0, count: 128)
        v[0] = 1; v[1] = -2.5; v[127] = 0.1
        try g.enroll(name: "p", embeddings: [v], sources: ["a.jpg"])
        let blob = try g.pool.read { try Data.fetchOne($0, sql: "SELECT vector FROM embeddings")! }
        XCTAssertEqual(blob.count, 512)
        XCTAssertEqual(Array(blob.prefix(8)), [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0])
        XCTAssertEqual(Array(blob.suffix(4)), [0xcd, 0xcc, 0xcc, 0x3d])
        XCTAssertEqual(Embedding.decode(blob), v)
    }

    func testModelIdentityRefusal() throws {
        let path = tmp.file("g.db")
        var rng = SplitMix(2)
        try Gallery(path: path, modelIdentity: modelA).enroll(name: "p", embeddings: [randomEmbedding(&rng)])
        XCTAssertThrowsError(try Gallery(path: path, modelIdentity: modelB)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains(modelA) && text.contains(modelB), text)
            XCTAssertFalse(text.contains("\n"))
        }
        // Without an identity the gallery can be managed, but not enrolled into or matched against.
        let managed = try Gallery(path: path, create: false)
        XCTAssertEqual(managed.modelIdentity, modelA)
        XCTAssertEqual(try managed.people().count, 1)
        XCTAssertThrowsError(try managed.enroll(name: "q", embeddings: [randomEmbedding(&rng)])) {
            XCTAssertTrue("\($0)".contains("model identity"))
        }
        XCTAssertThrowsError(try GalleryIndex(gallery: managed))
        // Importing an export of model B is refused, naming both.
        let other = try Gallery(path: tmp.file("b.db"), modelIdentity: modelB)
        try other.enroll(name: "z", embeddings: [randomEmbedding(&rng)])
        XCTAssertThrowsError(try managed.importJSON(try other.exportJSON())) { e in
            XCTAssertTrue("\(e)".contains(modelA) && "\(e)".contains(modelB), "\(e)")
        }
        XCTAssertEqual(try managed.people().map(\.name), ["p"])
    }

    func testExportImportRoundTripIsExact() throws {
        var rng = SplitMix(3)
        let a = try Gallery(path: tmp.file("a.db"), modelIdentity: modelA)
        // Awkward floats too: tiny, huge, negative zero, subnormal, many digits.
        var odd = randomEmbedding(&rng)
        odd[0] = 1e-38; odd[1] = -0.0; odd[2] = 3.4e38; odd[3] = Float.leastNonzeroMagnitude; odd[4] = 0.1; odd[5] = Float.ulpOfOne
        try a.enroll(name: "Zoë \"quoted\" \\ name", embeddings: [odd, randomEmbedding(&rng)], sources: ["x/ü.jpg", "tab\there.jpg"],
                     notes: "line one\nline two")
        for i in 0..<20 {
            try a.enroll(name: "person \(i)", embeddings: (0..<3).map { _ in randomEmbedding(&rng) }, sources: [])
        }
        try a.enroll(name: "no notes", embeddings: [randomEmbedding(&rng)])
        let json = try a.exportJSON()
        // Valid JSON for any reader.
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: json))

        let b = try Gallery(path: tmp.file("b.db"))        // empty: takes the export's identity
        let s = try b.importJSON(json)
        XCTAssertEqual(s.peopleAdded, 22)
        XCTAssertEqual(s.embeddingsAdded, 63)
        XCTAssertEqual(b.modelIdentity, nil)               // the handle was opened before the import…
        XCTAssertEqual(try Gallery(path: b.path, create: false).modelIdentity, modelA)   // …the file has it now
        let da = try a.document(), db = try Gallery(path: b.path, create: false).document()
        XCTAssertEqual(da, db)                             // names, notes, sources, dates, every float bit for bit
        for (pa, pb) in zip(da.people, db.people) {
            for (ea, eb) in zip(pa.embeddings, pb.embeddings) {
                XCTAssertEqual(ea.vector.map(\.bitPattern), eb.vector.map(\.bitPattern))
            }
        }
        // Importing the same export again adds nothing (merge by name, same vectors skipped).
        let again = try b.importJSON(json)
        XCTAssertEqual(again.peopleAdded, 0)
        XCTAssertEqual(again.peopleUpdated, 22)
        XCTAssertEqual(again.embeddingsAdded, 0)
        XCTAssertEqual(again.embeddingsAlreadyPresent, 63)
    }

    func testImportMergesByName() throws {
        var rng = SplitMix(4)
        let a = try Gallery(path: tmp.file("a.db"), modelIdentity: modelA)
        try a.enroll(name: "shared", embeddings: [randomEmbedding(&rng)], notes: "from a")
        try a.enroll(name: "only a", embeddings: [randomEmbedding(&rng)])
        let b = try Gallery(path: tmp.file("b.db"), modelIdentity: modelA)
        try b.enroll(name: "shared", embeddings: [randomEmbedding(&rng), randomEmbedding(&rng)])
        try b.enroll(name: "only b", embeddings: [randomEmbedding(&rng)], notes: "from b")
        let s = try a.importJSON(try b.exportJSON())
        XCTAssertEqual(s.peopleAdded, 1)
        XCTAssertEqual(s.peopleUpdated, 1)
        XCTAssertEqual(s.embeddingsAdded, 3)
        let people = try a.people()
        XCTAssertEqual(people.map(\.name), ["only a", "only b", "shared"])
        XCTAssertEqual(people.map(\.embeddingCount), [1, 1, 3])
        XCTAssertEqual(people.map(\.notes), [nil, "from b", "from a"])     // existing notes win
    }

    func testImportRejectsBadDocuments() throws {
        let g = try Gallery(path: tmp.file("g.db"), modelIdentity: modelA)
        func expect(_ json: String, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try g.importJSON(Data(json.utf8)), line: line) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(e)", line: line)
                XCTAssertFalse("\(e)".contains("\n"), line: line)
            }
        }
        expect("[1, 2]", "not a gallery export")
        expect("{\"format\": \"cnnpipe-gallery\"}", "not a gallery export")
        let head = "{\"format\": \"cnnpipe-gallery\", \"version\": 1, \"model_identity\": \"\(modelA)\", \"dimension\": 128, "
        expect(head + "\"people\": [{\"name\": \"x\", \"created_at\": \"2024-01-01T00:00:00Z\", \"updated_at\": \"2024-01-01T00:00:00Z\", "
               + "\"embeddings\": [{\"created_at\": \"2024-01-01T00:00:00Z\", \"vector\": [1, 2]}]}]}", "2 numbers, expected 128")
        expect(head.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 9") + "\"people\": []}", "version 9 is newer")
        expect(head + "\"people\": [{\"name\": \"x\", \"created_at\": \"yesterday\", \"updated_at\": \"2024-01-01T00:00:00Z\", \"embeddings\": []}]}",
               "not an ISO 8601 date")
        // 60 fraction digits: ICU's date parser died of SIGFPE on this (found by the gallery-json fuzzer).
        let long = "2023-11-14T22:13:20." + String(repeating: "8", count: 60) + "Z"
        expect(head + "\"people\": [{\"name\": \"x\", \"created_at\": \"\(long)\", \"updated_at\": \"2024-01-01T00:00:00Z\", \"embeddings\": []}]}",
               "not an ISO 8601 date")
        for good in ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00+01:00", "2024-01-01T00:00:00.5-08:00"] {
            XCTAssertTrue(GalleryJSON.isISO8601DateTime(good), good)
        }
        for bad in ["2024-01-01T00:00:00.1234567890Z", "2024-01-01T00:00:00", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00Zx", ""] {
            XCTAssertFalse(GalleryJSON.isISO8601DateTime(bad), bad)
        }
        XCTAssertEqual(try g.people(), [])
        // An empty people list is a valid (empty) export.
        XCTAssertEqual(try g.importJSON(Data((head + "\"people\": []}").utf8)), EnrolmentSummary())
    }
}
