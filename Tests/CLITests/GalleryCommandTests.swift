import Foundation
import XCTest

/// `cnnpipe gallery …`: list, info, rename, remove, notes, export and import (no model needed), and
/// enroll / enroll-dir on real photos (with the models).
final class GalleryCommandTests: XCTestCase {
    private let faces = TestEnv.corpus + "/faces"
    private let identity = String(repeating: "ab", count: 32)

    private func text(_ d: Data) -> String { String(decoding: d, as: UTF8.self) }

    /// A JSON export with people `names` (one embedding each) made with model `identity`.
    private func export(_ names: [String], identity: String? = nil, seed: Int = 0) -> Data {
        let people = names.enumerated().map { i, name -> [String: Any] in
            let vector = (0..<128).map { j in Double(Float(sin(Double(seed * 1000 + i * 128 + j)) * 0.1)) }
            return ["name": name, "notes": NSNull(), "created_at": "2024-05-01T10:00:00.000Z", "updated_at": "2024-05-01T10:00:00.000Z",
                    "embeddings": [["source": "\(name).jpg", "created_at": "2024-05-01T10:00:00.000Z", "vector": vector]]]
        }
        let doc: [String: Any] = ["format": "cnnpipe-gallery", "version": 1, "model_identity": identity ?? self.identity,
                                  "dimension": 128, "people": people]
        return try! JSONSerialization.data(withJSONObject: doc)
    }

    private func write(_ data: Data, _ path: String) throws -> String {
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func testManagementCommands() throws {
        let dir = try TestEnv.tempDir()
        let g = dir + "/g.db"
        // import creates the gallery and takes the export's model identity.
        var r = try cnnpipe(["gallery", "import", "--gallery", g, try write(export(["Ann", "Bob", "Cy"]), dir + "/a.json")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(text(r.stdout).contains("3 people added"), text(r.stdout))

        r = try cnnpipe(["gallery", "list", "--gallery", g])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = text(r.stdout).split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("NAME"))
        XCTAssertEqual(lines.dropFirst().prefix(3).map { String($0.split(separator: " ")[0]) }, ["Ann", "Bob", "Cy"])
        XCTAssertEqual(lines.last, "3 people, 3 embeddings")

        XCTAssertEqual(try cnnpipe(["gallery", "rename", "--gallery", g, "Cy", "Cyrus"]).status, 0)
        XCTAssertEqual(try cnnpipe(["gallery", "notes", "--gallery", g, "Bob", "met in Lisbon"]).status, 0)
        r = try cnnpipe(["gallery", "list", "--gallery", g, "--json"])
        let people = text(r.stdout).split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(people.map { $0["name"] as! String }, ["Ann", "Bob", "Cyrus"])
        XCTAssertEqual(people.map { $0["embeddings"] as! Int }, [1, 1, 1])
        XCTAssertEqual(people[1]["notes"] as? String, "met in Lisbon")
        XCTAssertEqual(people[0]["created_at"] as? String, "2024-05-01T10:00:00Z")

        // Errors: one line, exit 1; remove goes on with the other names.
        r = try cnnpipe(["gallery", "rename", "--gallery", g, "Ann", "Bob"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "cnnpipe: error: 'Bob' is already in \(g)\n")
        r = try cnnpipe(["gallery", "remove", "--gallery", g, "Nobody", "Ann"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "cnnpipe: error: no person 'Nobody' in \(g)\n")
        XCTAssertEqual(text(r.stdout), "removed Ann (1 embedding)\n")
        r = try cnnpipe(["gallery", "list", "--gallery", dir + "/missing.db"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "cnnpipe: error: \(dir)/missing.db: no such gallery\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/missing.db"))

        // export → import into a new gallery gives the same listing and the same export.
        r = try cnnpipe(["gallery", "export", "--gallery", g, "-o", dir + "/out.json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let exported = try read(dir + "/out.json")
        XCTAssertEqual(try cnnpipe(["gallery", "export", "--gallery", g]).stdout, exported)    // stdout by default
        r = try cnnpipe(["gallery", "import", "--gallery", dir + "/copy.db", "-"], stdin: exported)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try cnnpipe(["gallery", "export", "--gallery", dir + "/copy.db"]).stdout, exported)
        let info = text(try cnnpipe(["gallery", "info", "--gallery", dir + "/copy.db"]).stdout)
        XCTAssertTrue(info.contains("model: sha256:\(identity)") && info.contains("people: 2") && info.contains("schema version: 2"), info)

        // An export of another model is refused, naming both; a good file after it is still imported.
        let other = String(repeating: "cd", count: 32)
        r = try cnnpipe(["gallery", "import", "--gallery", g, try write(export(["Eve"], identity: other), dir + "/other.json"),
                         try write(export(["Dan"], seed: 1), dir + "/d.json")])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(identity) && r.stderr.contains(other), r.stderr)
        XCTAssertTrue(text(r.stdout).contains("d.json: 1 people added"), text(r.stdout))
        r = try cnnpipe(["gallery", "import", "--gallery", g, try write(Data("{\"format\": 1}".utf8), dir + "/bad.json")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("cnnpipe: error: \(dir)/bad.json: not a gallery export"), r.stderr)
        // A file that cannot be imported does not leave a new, empty gallery behind.
        r = try cnnpipe(["gallery", "import", "--gallery", dir + "/new.db", dir + "/bad.json"])
        XCTAssertEqual(r.status, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/new.db"))
    }

    // MARK: With the models

    private func needModels() throws {
        guard FileManager.default.fileExists(atPath: TestEnv.root + "/models/dlib_face_recognition_resnet_model_v1.dat") else {
            throw XCTSkip("models not fetched (scripts/setup-models.sh)")
        }
    }

    /// Without --gallery every command uses the user's gallery ($XDG_DATA_HOME/cnnpipe/people.db here),
    /// making its folder on the first enrolment, so people are known from any folder.
    func testCommandsDefaultToTheUsersGallery() throws {
        try needModels()
        let data = try TestEnv.tempDir() + "/data"
        let env = ["XDG_DATA_HOME": data, "CNNPIPE_GALLERY": ""]
        var r = try cnnpipe(["gallery", "enroll", "--name", "John Simm", faces + "/train/john_simm/000288_00470387.jpg"], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: data + "/cnnpipe/people.db"))
        r = try cnnpipe(["gallery", "list"], environment: env)
        XCTAssertTrue(text(r.stdout).contains("John Simm"), text(r.stdout))
        r = try cnnpipe(["faces", "identify", faces + "/test/john_simm/000309_00470287.jpg"], environment: env)
        XCTAssertTrue(text(r.stdout).contains(",John Simm,"), text(r.stdout) + r.stderr)
        // $CNNPIPE_GALLERY names another one; the help does not show anyone's home folder as a default.
        r = try cnnpipe(["gallery", "list"], environment: ["CNNPIPE_GALLERY": data + "/other.db"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(data + "/other.db"), r.stderr)
        XCTAssertFalse(try cnnpipe(["gallery", "list", "--help"]).stdout.isEmpty)
        XCTAssertFalse(text(try cnnpipe(["gallery", "list", "--help"]).stdout).contains(NSHomeDirectory() + "/.local"))
    }

    func testEnrollOneFacePerPhoto() throws {
        try needModels()
        let dir = try TestEnv.tempDir()
        let g = dir + "/g.db"
        let simm = faces + "/train/john_simm/000288_00470387.jpg", group = faces + "/group/2008_001322.jpg"
        var r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--name", "John Simm", "--notes", "actor", simm])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(text(r.stdout), "enrolled John Simm: 1 embedding, 1 in total\n")
        // The same photo again is not stored twice.
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--name", "John Simm", simm])
        XCTAssertEqual(text(r.stdout), "added to John Simm: 0 embeddings (1 already enrolled), 1 in total\n")

        // Three faces: rejected (nothing enrolled, not even the good photo) unless --largest.
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--name", "Group", faces + "/train/john_salley/000179_02159509.jpg", group])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, """
            cnnpipe: error: \(group): 3 faces found; enrol a photo of one person, or pass --largest to take the largest face
            cnnpipe: error: 1 of 2 photos rejected; nothing enrolled

            """)
        r = try cnnpipe(["gallery", "list", "--gallery", g, "--json"])
        XCTAssertEqual(text(r.stdout).split(separator: "\n").count, 1, text(r.stdout))
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--name", "Group", "--largest", group])
        XCTAssertEqual(r.status, 0, r.stderr)

        // The stored source is the photo's absolute path; the notes are kept.
        let json = try JSONSerialization.jsonObject(with: try cnnpipe(["gallery", "export", "--gallery", g]).stdout) as! [String: Any]
        let people = json["people"] as! [[String: Any]]
        XCTAssertEqual(people.map { $0["name"] as! String }, ["Group", "John Simm"])
        XCTAssertEqual(people[1]["notes"] as? String, "actor")
        let source = ((people[1]["embeddings"] as! [[String: Any]])[0]["source"] as! String)
        XCTAssertEqual(source, URL(fileURLWithPath: simm).standardizedFileURL.path)
        // The model identity is the SHA-256 of the model file.
        let sum = try runProcess("/usr/bin/sha256sum", [TestEnv.root + "/models/dlib_face_recognition_resnet_model_v1.dat"])
        XCTAssertEqual(json["model_identity"] as? String, String(text(sum.stdout).prefix(64)))
    }

    func testEnrollIntoAGalleryOfAnotherModelIsRefused() throws {
        try needModels()
        let dir = try TestEnv.tempDir()
        let g = dir + "/g.db"
        XCTAssertEqual(try cnnpipe(["gallery", "import", "--gallery", g, try write(export(["Ann"]), dir + "/a.json")]).status, 0)
        let r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--name", "John Simm", faces + "/train/john_simm/000288_00470387.jpg"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("model identity mismatch") && r.stderr.contains(identity), r.stderr)
    }

    /// face_recognition's layouts: a folder per person, and a photo named after the person.
    func testEnrollDir() throws {
        try needModels()
        let dir = try TestEnv.tempDir()
        let people = dir + "/people"
        let fm = FileManager.default
        try fm.createDirectory(atPath: people + "/John Salley", withIntermediateDirectories: true)
        for f in ["000179_02159509.jpg", "000183_02159543.jpg"] {
            try fm.copyItem(atPath: faces + "/train/john_salley/" + f, toPath: people + "/John Salley/" + f)
        }
        try fm.copyItem(atPath: faces + "/noface/giraffe.jpg", toPath: people + "/John Salley/giraffe.jpg")
        try fm.copyItem(atPath: faces + "/train/john_simm/000288_00470387.jpg", toPath: people + "/John Simm.jpg")
        try Data("not a photo".utf8).write(to: URL(fileURLWithPath: people + "/README.txt"))
        let g = dir + "/g.db"
        var r = try cnnpipe(["gallery", "enroll-dir", "--gallery", g, people])
        XCTAssertEqual(r.status, 1, "a photo was rejected")
        XCTAssertTrue(r.stderr.contains("giraffe.jpg: no face found"), r.stderr)
        XCTAssertEqual(text(r.stdout), """
            John Salley: 2 of 3 photos enrolled, 1 rejected
            John Simm: 1 of 1 photo enrolled
            enrolled 2 of 2 people, 3 embeddings; 1 photo rejected

            """)
        r = try cnnpipe(["gallery", "list", "--gallery", g, "--json"])
        let listed = text(r.stdout).split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(listed.map { $0["name"] as! String }, ["John Salley", "John Simm"])
        XCTAssertEqual(listed.map { $0["embeddings"] as! Int }, [2, 1])

        r = try cnnpipe(["gallery", "enroll-dir", "--gallery", g, dir + "/nowhere"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "cnnpipe: error: \(dir)/nowhere: no such folder\n")
    }
}
