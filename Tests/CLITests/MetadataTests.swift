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

        for ext in ["jpg", "png", "webp"] {
            let output = dir + "/out.\(ext)"
            let r = try cnnpipe(["run", "-e", "passthrough", input, "-o", output])
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
}
