import Foundation
import ImageIO
import XCTest

/// One-shot enrolment, `cnnpipe faces identify`, and the tag-people preset end to end (names in
/// the XMP face regions). Accuracy over the whole corpus is in FaceKitTests/RecognitionAccuracyTests.
final class IdentifyTests: XCTestCase {
    private let faces = TestEnv.corpus + "/faces"

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: TestEnv.root + "/models/dlib_face_recognition_resnet_model_v1.dat") else {
            throw XCTSkip("models not fetched (scripts/setup-models.sh)")
        }
    }

    /// A gallery with one photo each of three people (LFW-size photos keep the debug build quick),
    /// enrolled in one command and shared by the tests.
    private static var shared: String?
    private func gallery() throws -> String {
        if let g = Self.shared { return g }
        let g = try TestEnv.tempDir() + "/people.db"
        for (name, photo) in [("John Salley", "john_salley/000179_02159509.jpg"), ("John Savage", "john_savage/000274_01099061.jpg"),
                              ("John Simm", "john_simm/000288_00470387.jpg")] {
            let r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--name", name, faces + "/train/" + photo])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        Self.shared = g
        return g
    }

    func testOneShotEnrolmentIdentifiesNewPhotos() throws {
        let g = try gallery()
        let tests = ["john_salley/000197_02159525.jpg", "john_savage/000293_01099081.jpg", "john_simm/000309_00470287.jpg"].map { faces + "/test/" + $0 }
        let r = try cnnpipe(["faces", "identify", "--gallery", g] + tests + [faces + "/noface/giraffe.jpg"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(lines.map { $0[1] }, ["John Salley", "John Savage", "John Simm", "no_persons_found"])
        XCTAssertTrue(lines.prefix(3).allSatisfy { Double($0[2])! < 0.6 }, "\(lines)")
        // Someone never enrolled.
        let stranger = try cnnpipe(["faces", "identify", "--gallery", g, faces + "/test/john_schneider"])
        XCTAssertTrue(String(decoding: stranger.stdout, as: UTF8.self).split(separator: "\n").allSatisfy { $0.contains(",unknown_person,") },
                      String(decoding: stranger.stdout, as: UTF8.self))
    }

    func testTagPeopleWritesNamesIntoTheRegions() throws {
        let g = try gallery()
        let out = try TestEnv.tempDir() + "/tagged.jpg"
        let r = try cnnpipe(["run", "tag-people", "--set", "face-detect.upsample=0", "--set", "identify.gallery=\(g)",
                             faces + "/test/john_simm/000309_00470287.jpg", "-o", out, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("\"name\":\"John Simm\""), r.stderr)
        let x = try runProcess("/usr/bin/exiftool", ["-j", "-XMP-mwg-rs:RegionName", out])
        XCTAssertTrue(String(decoding: x.stdout, as: UTF8.self).contains("John Simm"), String(decoding: x.stdout, as: UTF8.self))
        // Metadata only: the decoded pixels are the input's (the coded image was not even re-encoded).
        let input = try Codec.decode([UInt8](read(faces + "/test/john_simm/000309_00470287.jpg"))).image
        XCTAssertEqual(try Codec.decode([UInt8](read(out))).image, input)
        // draw-people draws the names into the pixels.
        let drawn = try TestEnv.tempDir() + "/drawn.jpg"
        let d = try cnnpipe(["run", "draw-people", "--set", "face-detect.upsample=0", "--set", "identify.gallery=\(g)",
                             faces + "/test/john_simm/000309_00470287.jpg", "-o", drawn])
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertNotEqual(try Codec.decode([UInt8](read(drawn))).image, input)
    }

    func testIdentifyErrors() throws {
        let photo = faces + "/test/john_simm/000309_00470287.jpg"
        let missing = try cnnpipe(["run", "-e", "face-detect | identify gallery=/no/such.db", photo])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/no/such.db"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        // No gallery named: the user's own, which names itself when it is missing.
        let data = try TestEnv.tempDir()
        let none = try cnnpipe(["run", "-e", "face-detect | identify", photo], environment: ["XDG_DATA_HOME": data, "CNNPIPE_GALLERY": ""])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains(data + "/cnnpipe/people.db: no such gallery"), none.stderr)
        XCTAssertTrue(none.stderr.contains("cnnpipe gallery enroll"), none.stderr)
    }
}
