import Foundation
import FrameModel
import ImageIO
import XCTest

/// The face-detect stage and `cnnpipe faces detect` end to end: faces and landmarks into the frame
/// metadata, MWG face regions in every output format (read back with exiftool), regions the file
/// already had, drawing, and errors.
final class FaceDetectTests: XCTestCase {
    private let photo = TestEnv.corpus + "/faces/group/2008_001322.jpg"     // 500×375, three faces

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: TestEnv.root + "/models/mmod_human_face_detector.dat") else {
            throw XCTSkip("models not fetched (scripts/setup-models.sh)")
        }
    }

    private func regions(_ path: String) throws -> [String: Any] {
        let r = try runProcess("/usr/bin/exiftool", ["-j", "-n", "-XMP-mwg-rs:all", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return (try JSONSerialization.jsonObject(with: r.stdout) as! [[String: Any]])[0]
    }

    private func list(_ value: Any?) -> [Any] { (value as? [Any]) ?? (value.map { [$0] } ?? []) }

    func testFacesAndLandmarksBecomeRegionsInEveryFormat() throws {
        let dir = try TestEnv.tempDir()
        for ext in ["jpg", "png", "webp"] {
            let out = dir + "/faces.\(ext)"
            let r = try cnnpipe(["run", "-e", "face-detect", photo, "-o", out, "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let meta = try JSONSerialization.jsonObject(with: Data(r.stderr.utf8)) as! [String: Any]
            let faces = meta["faces"] as! [[String: Any]]
            XCTAssertEqual(faces.count, 3, ext)
            XCTAssertEqual(faces.map { ($0["landmarks"] as! [Any]).count }, [5, 5, 5])
            XCTAssertGreaterThan(faces[0]["confidence"] as! Double, 1)
            let m = try regions(out)
            XCTAssertEqual(list(m["RegionType"]).count, 3, "\(ext): \(m)")
            XCTAssertEqual(m["RegionAppliedToDimensionsW"] as? Int, 500)
            // dlib's first box (356, 164)-(435, 243): centre x (356 + 80 / 2) / 500.
            XCTAssertTrue(list(m["RegionAreaX"]).contains { abs(($0 as! Double) - 396.0 / 500) < 1e-4 }, "\(m)")
        }
    }

    func testRegionsAlreadyInTheFileAreKeptMergedOrReplaced() throws {
        let dir = try TestEnv.tempDir()
        let input = dir + "/tagged.jpg"
        try FileManager.default.copyItem(atPath: photo, toPath: input)
        // One region on a detected face (with a name), one on the wall (no face there).
        let tag = "-XMP-mwg-rs:RegionInfo={AppliedToDimensions={W=500,H=375,Unit=pixel},RegionList=["
            + "{Area={W=0.16,H=0.213,X=0.792,Y=0.544,Unit=normalized},Name=Alice,Type=Face},"
            + "{Area={W=0.05,H=0.05,X=0.05,Y=0.05,Unit=normalized},Name=Portrait,Type=Face}]}"
        XCTAssertEqual(try runProcess("/usr/bin/exiftool", ["-q", "-overwrite_original", tag, input]).status, 0)
        let kept = dir + "/kept.jpg", replaced = dir + "/replaced.jpg"
        XCTAssertEqual(try cnnpipe(["run", "-e", "face-detect", input, "-o", kept]).status, 0)
        let k = try regions(kept)
        XCTAssertEqual(list(k["RegionType"]).count, 4, "3 detections + the wall region; the named face is merged: \(k)")
        XCTAssertEqual(Set(list(k["RegionName"]).map { "\($0)" }), ["Alice", "Portrait"])
        XCTAssertEqual(try cnnpipe(["run", "-e", "face-detect replace-regions=true", input, "-o", replaced]).status, 0)
        let r = try regions(replaced)
        XCTAssertEqual(list(r["RegionType"]).count, 3)
        XCTAssertNil(r["RegionName"])
    }

    func testDrawingChangesOnlyWhatItShould() throws {
        let original = try Codec.decode([UInt8](read(photo))).image
        let plain = try cnnpipe(["run", "-e", "face-detect", photo, "--format", "png"])
        XCTAssertEqual(try Codec.decode([UInt8](plain.stdout)).image, original, "without draw the pixels pass unchanged")
        let drawn = try Codec.decode([UInt8](try cnnpipe(["run", "-e", "face-detect draw=true", photo, "--format", "png"]).stdout)).image
        // The top edge of the first box, row 164 from x = 356 to 435, is now the box colour.
        let i = (164 * 500 + 400) * 3
        XCTAssertEqual(Array(drawn.bytes[i..<(i + 3)]), [51, 221, 85])
        XCTAssertNotEqual(drawn, original)
    }

    func testNoFacesNoRegions() throws {
        let dir = try TestEnv.tempDir()
        let noface = try FileManager.default.contentsOfDirectory(atPath: TestEnv.corpus + "/faces/noface").sorted()[0]
        let out = dir + "/out.jpg"
        let r = try cnnpipe(["run", "-e", "face-detect", TestEnv.corpus + "/faces/noface/" + noface, "-o", out, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("\"faces\":[]"), r.stderr)
        XCTAssertNil(try regions(out)["RegionType"])
    }

    func testFacesDetectCommand() throws {
        let garbage = try TestEnv.tempDir() + "/garbage.jpg"
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: garbage))
        let r = try cnnpipe(["faces", "detect", photo, garbage])
        XCTAssertEqual(r.status, 1, "a bad input makes the exit code 1")
        XCTAssertEqual(String(decoding: r.stdout, as: UTF8.self).split(separator: "\n"),
                       ["\(photo),164,435,243,356", "\(photo),148,179,227,100", "\(photo),204,299,283,220"])
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("garbage.jpg: not a JPEG, PNG, WebP, PNM or PAM image"), r.stderr)
        let bad = try cnnpipe(["run", "-e", "face-detect upsample=3", photo])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("upsample"), bad.stderr)
    }
}
