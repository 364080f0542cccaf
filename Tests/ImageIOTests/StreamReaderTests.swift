import Foundation
import FrameModel
import XCTest
@testable import ImageIO

final class StreamReaderTests: XCTestCase {
    func testMixedFormatStreamSplitsIntoTheOriginalImages() throws {
        var lossless = EncodeOptions()
        lossless.webpLossless = true
        var progressive = EncodeOptions()
        progressive.progressive = true
        let images: [[UInt8]] = [
            try TestImages.corpusFile("faces/train/barack_obama/obama.jpg"),   // real camera JPEG with EXIF (thumbnail inside APP1)
            try Codec.encode(TestImages.pattern(width: 20, height: 10, format: .rgba8), as: .png),
            try Codec.encode(TestImages.pattern(width: 21, height: 11, format: .rgb8), as: .webp, options: lossless),
            try Codec.encode(TestImages.pattern(width: 22, height: 12, format: .rgb8), as: .jpeg, options: progressive),
            try Codec.encode(TestImages.pattern(width: 23, height: 13, format: .rgba8), as: .webp),
        ]
        let reader = ImageStreamReader(bytes: images.flatMap { $0 })
        var chunks: [ImageStreamReader.Chunk] = []
        while let c = try reader.next() { chunks.append(c) }
        XCTAssertEqual(chunks.map(\.format), [.jpeg, .png, .webp, .jpeg, .webp])
        XCTAssertEqual(chunks.map(\.bytes), images)
    }

    func testStreamFromAPipeArrivingInSmallPieces() throws {
        let images = try (0..<5).map { i in
            try Codec.encode(TestImages.pattern(width: 300 + i, height: 200, format: .rgb8), as: i % 2 == 0 ? .jpeg : .png)
        }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let all = images.flatMap { $0 }
        let writeEnd = fds[1]
        let writer = Thread {
            var offset = 0
            while offset < all.count {                  // dribble 1000 bytes at a time
                let n = min(1000, all.count - offset)
                _ = all.withUnsafeBytes { write(writeEnd, $0.baseAddress! + offset, n) }
                offset += n
            }
            close(writeEnd)
        }
        writer.start()
        let reader = ImageStreamReader(fileDescriptor: fds[0], closeOnDeinit: true)
        var got: [[UInt8]] = []
        while let c = try reader.next() { got.append(c.bytes) }
        XCTAssertEqual(got, images)
    }

    func testTruncatedImageIsReportedAndEarlierImagesAreIntact() throws {
        let first = try Codec.encode(TestImages.pattern(width: 30, height: 30, format: .rgb8), as: .png)
        for format in ImageFormat.allCases {
            let second = try Codec.encode(TestImages.pattern(width: 30, height: 30, format: .rgb8), as: format)
            let reader = ImageStreamReader(bytes: first + second.prefix(second.count - 10))
            XCTAssertEqual(try reader.next()?.bytes, first)
            XCTAssertThrowsError(try reader.next(), "\(format)") { error in
                XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
            }
        }
    }

    /// A small file with one corrupt length field is a corrupt length, not "an image larger than 1024 MiB".
    func testACorruptLengthInASmallFileSaysSo() throws {
        var png = try Codec.encode(TestImages.pattern(width: 40, height: 40, format: .rgb8), as: .png)
        png[33] = 0xFF; png[34] = 0xFF; png[35] = 0xFF   // the first chunk after IHDR: length 0xFFFFFFxx > 2^31
        png[33] = 0x7F
        var webp = try Codec.encode(TestImages.pattern(width: 40, height: 40, format: .rgb8), as: .webp)
        webp[7] = 0x7F
        for (name, data) in [("PNG", png), ("WebP", webp)] {
            XCTAssertThrowsError(try ImageStreamReader(bytes: data).next(), name) { error in
                XCTAssertTrue("\(error)".hasPrefix(name) && "\(error)".contains("corrupt length"), "\(error)")
                XCTAssertFalse("\(error)".contains("1024 MiB"), "\(error)")
            }
        }
    }

    func testGarbageIsRejectedWithTheBytesItStartsWith() {
        let reader = ImageStreamReader(bytes: Array("GIF89a and more".utf8))
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertTrue("\(error)".contains("not a JPEG, PNG, WebP, PNM or PAM"), "\(error)")
            XCTAssertTrue("\(error)".contains("47 49 46 38"), "\(error)")
        }
    }

    func testEmptyStreamHasNoImages() throws {
        XCTAssertNil(try ImageStreamReader(bytes: []).next())
    }

    func testRandomBytesNeverCrashTheSplitter() {
        var rng = SystemRandomNumberGenerator()
        let prefixes: [[UInt8]] = [[0xFF, 0xD8, 0xFF], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], Array("RIFF".utf8)]
        for i in 0..<300 {
            var bytes = prefixes[i % 3] + (0..<Int.random(in: 0...400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if i % 3 == 2 && bytes.count >= 12 { bytes.replaceSubrange(8..<12, with: Array("WEBP".utf8)) }
            let reader = ImageStreamReader(bytes: bytes)
            while let _ = try? reader.next() {}
        }
    }
}
