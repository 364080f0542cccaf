import Foundation
import FrameModel
import ImageIO
import XCTest

/// Issue 15: inputs and parameters that used to crash, hang or lose data through the CLI.
final class HardeningCLITests: XCTestCase {
    static func png(_ width: Int, _ height: Int, value: UInt8 = 100) throws -> Data {
        let image = Image(width: width, height: height, format: .rgb8, bytes: [UInt8](repeating: value, count: width * height * 3))
        return Data(try Codec.encode(image, as: .png))
    }

    static func assertOneLineError(_ r: ProcessResult, status: Int32 = 1, mentions: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(mentions), r.stderr, file: file, line: line)
    }

    func testResizeBeyondTheFrameLimitIsAnError() throws {
        let r = try cnnpipe(["run", "-e", "resize width=65535 height=65535 mode=exact", "--format", "png"], stdin: try Self.png(8, 8))
        Self.assertOneLineError(r, mentions: "65535x65535")
        XCTAssertEqual(r.stdout.count, 0)
        // The limit is the run's --max-megapixels.
        let small = try cnnpipe(["run", "-e", "resize width=1200 height=1000 mode=exact", "--max-megapixels", "1", "--format", "png"],
                                stdin: try Self.png(8, 8))
        Self.assertOneLineError(small, mentions: "--max-megapixels")
        let fits = try cnnpipe(["run", "-e", "resize width=1000 height=1000 mode=exact", "--max-megapixels", "1", "--format", "png"],
                               stdin: try Self.png(8, 8))
        XCTAssertEqual(fits.status, 0, fits.stderr)
    }

    func testGridSheetBeyondTheFrameLimitIsAnError() throws {
        let frames = try Self.png(720, 720) + Self.png(720, 720, value: 30)   // sheet 1452 x 728
        let r = try cnnpipe(["run", "-e", "grid columns=2 cell=1024 captions=false", "--max-megapixels", "1", "--format", "png"],
                            stdin: frames)
        Self.assertOneLineError(r, mentions: "--max-megapixels")
        let fits = try cnnpipe(["run", "-e", "grid columns=2 cell=256 captions=false", "--max-megapixels", "1", "--format", "png"],
                               stdin: frames)
        XCTAssertEqual(fits.status, 0, fits.stderr)
    }

    func testHugeMaxMegapixelsIsACommandLineError() throws {
        let r = try cnnpipe(["run", "-e", "passthrough", "--max-megapixels", "9223372036855"], stdin: try Self.png(8, 8))
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--max-megapixels must be 1-1000000"), r.stderr)
    }

    func testTruncatedScanDataIsAnErrorOrReportedWithKeepGoing() throws {
        let image = Image(width: 16, height: 16, format: .rgb8, bytes: (0..<768).map { UInt8($0 % 251) })
        var jpeg = try Codec.encode(image, as: .jpeg)
        let sof = try XCTUnwrap((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && (0xC0...0xC2).contains(jpeg[$0 + 1]) })
        for (offset, byte) in [(5, 0x27), (6, 0x10), (7, 0x27), (8, 0x10)] { jpeg[sof + offset] = UInt8(byte) }  // 10000 x 10000
        let dir = try TestEnv.tempDir()
        try Data(jpeg).write(to: URL(fileURLWithPath: dir + "/short.jpg"))
        let r = try cnnpipe(["run", "-e", "passthrough", dir + "/short.jpg", "-o", dir + "/out.png"])
        Self.assertOneLineError(r, mentions: "short.jpg")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out.png"))
        try Self.png(8, 8).write(to: URL(fileURLWithPath: dir + "/good.png"))
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        let k = try cnnpipe(["run", "-e", "passthrough", "--keep-going", dir + "/short.jpg", dir + "/good.png", "-o", dir + "/out"])
        XCTAssertEqual(k.status, 1, k.stderr)
        XCTAssertTrue(k.stderr.contains("short.jpg"), k.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/out").count, 1)
    }
}
