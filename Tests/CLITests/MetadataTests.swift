import Foundation
import ImageIO
import XCTest

/// EXIF, ICC and XMP carried from input to output, checked with exiftool (an independent reader).
final class MetadataTests: XCTestCase {
    private func exiftool(_ path: String) throws -> [String: Any] {
        let r = try runProcess("/usr/bin/exiftool", ["-j", "-G", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let list = try JSONSerialization.jsonObject(with: r.stdout) as! [[String: Any]]
        return list[0]
    }

    func testEXIFICCAndXMPSurviveIntoEveryFormatWithOrientationReset() throws {
        let dir = try TestEnv.tempDir()
        let input = dir + "/dog.jpg"
        try FileManager.default.copyItem(atPath: TestEnv.corpus + "/content/dog.jpg", toPath: input)
        // Turn the photo sideways in its EXIF only: cnnpipe must rotate the pixels and reset the tag.
        let tag = try runProcess("/usr/bin/exiftool", ["-q", "-overwrite_original", "-n", "-Orientation=6", input])
        XCTAssertEqual(tag.status, 0, tag.stderr)
        let original = try exiftool(input)
        let (w, h) = (original["File:ImageWidth"] as! Int, original["File:ImageHeight"] as! Int)

        // JPEG to JPEG with the pixels unchanged: the very same file, orientation tag included.
        let same = dir + "/same.jpg"
        XCTAssertEqual(try cnnpipe(["run", "-e", "passthrough", input, "-o", same]).status, 0)
        XCTAssertEqual(try read(same), try read(input), "a passthrough must not re-encode")
        XCTAssertEqual(try exiftool(same)["EXIF:Orientation"] as? String, "Rotate 90 CW")

        for ext in ["jpg", "png", "webp"] {
            let output = dir + "/out.\(ext)"
            // --quality asks for a new encoding: the pixels are turned upright and the tag reset.
            let r = try cnnpipe(["run", "-e", "passthrough", input, "-o", output] + (ext == "jpg" ? ["--quality", "90"] : []))
            XCTAssertEqual(r.status, 0, r.stderr)
            let meta = try exiftool(output)
            XCTAssertEqual(meta["EXIF:Make"] as? String, "Canon", "\(ext): EXIF lost")
            XCTAssertEqual(meta["EXIF:Orientation"] as? String, "Horizontal (normal)", "\(ext): orientation not reset")
            XCTAssertEqual(meta["ICC_Profile:ProfileDescription"] as? String, "sRGB IEC61966-2.1", "\(ext): ICC lost")
            XCTAssertEqual(meta["XMP:XMPToolkit"] as? String, original["XMP:XMPToolkit"] as? String, "\(ext): XMP lost")
            XCTAssertNotNil(original["XMP:XMPToolkit"])
            // Upright: the stored landscape photo becomes portrait.
            let size = try Codec.decode([UInt8](read(output))).image
            XCTAssertEqual(size.width, h, ext)
            XCTAssertEqual(size.height, w, ext)
        }
    }

    /// Face regions tagged by another tool are read into the frame's faces and written back as MWG
    /// (and Microsoft) regions into JPEG, PNG and WebP, following geometry changes; other XMP stays.
    func testFaceRegionsInXMPAreKeptAndFollowTheImage() throws {
        let dir = try TestEnv.tempDir()
        let input = dir + "/tagged.jpg"
        try FileManager.default.copyItem(atPath: TestEnv.root + "/samples/images/color-bars.jpg", toPath: input)
        let region = "-XMP-mwg-rs:RegionInfo={AppliedToDimensions={W=640,H=360,Unit=pixel},RegionList=["
            + "{Area={W=0.1,H=0.2,X=0.5,Y=0.5,Unit=normalized},Name=Ada Lovelace,Type=Face},"
            + "{Area={W=0.05,H=0.1,X=0.1,Y=0.1,Unit=normalized},Type=Face}]}"
        let tag = try runProcess("/usr/bin/exiftool", ["-q", "-overwrite_original", "-XMP-dc:Subject=holiday", region, input])
        XCTAssertEqual(tag.status, 0, tag.stderr)
        func regions(_ path: String) throws -> [String: Any] {
            let r = try runProcess("/usr/bin/exiftool", ["-j", "-n", "-XMP-mwg-rs:all", "-XMP-dc:Subject", "-XMP-MP:all", path])
            XCTAssertEqual(r.status, 0, r.stderr)
            return (try JSONSerialization.jsonObject(with: r.stdout) as! [[String: Any]])[0]
        }
        for ext in ["jpg", "png", "webp"] {
            let output = dir + "/out.\(ext)"
            let r = try cnnpipe(["run", "-e", "passthrough", input, "-o", output])
            XCTAssertEqual(r.status, 0, r.stderr)
            let m = try regions(output)
            XCTAssertEqual(m["RegionName"] as? String, "Ada Lovelace", ext)
            XCTAssertEqual(m["RegionType"] as? [String], ["Face", "Face"], ext)
            XCTAssertEqual(m["RegionAreaX"] as? [Double], [0.5, 0.1], ext)
            XCTAssertEqual(m["RegionAreaW"] as? [Double], [0.1, 0.05], ext)
            XCTAssertEqual(m["RegionAppliedToDimensionsW"] as? Int, 640, ext)
            XCTAssertEqual(m["Subject"] as? String, "holiday", "\(ext): other XMP lost")
            XCTAssertEqual(m["RegionPersonDisplayName"] as? String, "Ada Lovelace", "\(ext): Microsoft regions")
        }
        // Half the size: same normalised areas over the new dimensions.
        let half = dir + "/half.jpg"
        XCTAssertEqual(try cnnpipe(["run", "-e", "resize width=320", input, "-o", half]).status, 0)
        let h = try regions(half)
        XCTAssertEqual(h["RegionAppliedToDimensionsW"] as? Int, 320)
        XCTAssertEqual((h["RegionAreaX"] as? [Double])?.map { ($0 * 1000).rounded() / 1000 }, [0.5, 0.1])
        // A crop around the named face: it moves, the other face is cut away and dropped.
        let crop = dir + "/crop.png"
        XCTAssertEqual(try cnnpipe(["run", "-e", "crop x=240 y=100 width=160 height=160", input, "-o", crop]).status, 0)
        let c = try regions(crop)
        XCTAssertEqual(c["RegionName"] as? String, "Ada Lovelace")
        XCTAssertEqual(c["RegionAreaX"] as? Double ?? 0, 0.5, accuracy: 0.001)     // (320 − 240) / 160
        XCTAssertEqual(c["RegionAreaW"] as? Double ?? 0, 0.4, accuracy: 0.001)     // 64 / 160
        XCTAssertEqual(c["RegionType"] as? String, "Face", "only one region left")
    }
}
