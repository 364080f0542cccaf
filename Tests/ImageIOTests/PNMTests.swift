import FrameModel
import XCTest
@testable import ImageIO

final class PNMTests: XCTestCase {
    func testRoundTripsEveryLayoutAndDepth() throws {
        let cases: [(PixelFormat, ImageFormat, PixelFormat)] = [
            (.rgb8, .pnm, .rgb8), (.gray8, .pnm, .gray8), (.rgb16, .pnm, .rgb16), (.gray16, .pnm, .gray16),
            (.rgba8, .pam, .rgba8), (.grayAlpha8, .pam, .grayAlpha8), (.rgba16, .pam, .rgba16), (.rgb8, .pam, .rgb8),
            (.gray16, .pam, .gray16),
        ]
        for (source, format, stored) in cases {
            let image = TestImages.pattern(width: 13, height: 7, format: source)
            let bytes = try Codec.encode(image, as: format)
            XCTAssertEqual(ImageFormat.sniff(bytes), format)
            let decoded = try Codec.decode(bytes)
            XCTAssertEqual(decoded.format, format)
            XCTAssertEqual(decoded.image.format, stored, "\(source) as \(format)")
            XCTAssertEqual(decoded.image.bytes, image.bytes, "\(source) as \(format)")
        }
    }

    func testPPMDropsAlphaAndKeepsColour() throws {
        let image = TestImages.pattern(width: 5, height: 4, format: .rgba8)
        let decoded = try Codec.decode(try Codec.encode(image, as: .pnm))
        XCTAssertEqual(decoded.image.format, .rgb8)
        XCTAssertEqual(decoded.image.bytes, image.converted(to: .rgb8).bytes)
    }

    func testSixteenBitSamplesAreBigEndian() throws {
        let image = Image(width: 1, height: 1, format: .gray16, bytes: [0x34, 0x12])   // 0x1234 in host order
        XCTAssertEqual(Array(try Codec.encode(image, as: .pnm).suffix(2)), [0x12, 0x34])
    }

    func testHeadersWithCommentsAndOddWhitespace() throws {
        let ppm = Array("P6 # a comment\n#another\n 2\t1\r\n255\n".utf8) + [1, 2, 3, 4, 5, 6]
        let decoded = try Codec.decode(ppm)
        XCTAssertEqual(decoded.image.width, 2)
        XCTAssertEqual(decoded.image.bytes, [1, 2, 3, 4, 5, 6])
        let pam = Array("P7\n# made by hand\nWIDTH 1\nHEIGHT 2\nDEPTH 2\nMAXVAL 255\nTUPLTYPE GRAYSCALE_ALPHA\nENDHDR\n".utf8) + [9, 8, 7, 6]
        let p = try Codec.decode(pam)
        XCTAssertEqual(p.image.format, .grayAlpha8)
        XCTAssertEqual(p.image.bytes, [9, 8, 7, 6])
    }

    func testBadHeadersAreOneLineErrors() {
        let bad: [(String, String)] = [
            ("P6\n2 x\n255\n", "bad height"),
            ("P6\n2 2\n1023\n", "maxval 1023"),
            ("P6\n0 2\n255\n", "no pixels"),
            ("P6\n1234567890 2\n255\n", "bad width"),
            ("P7\nWIDTH 1\nHEIGHT 1\nDEPTH 3\nMAXVAL 255\nTUPLTYPE CMYK\nENDHDR\n", "CMYK"),
            ("P7\nWIDTH 1\nHEIGHT 1\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n", "DEPTH 4"),
            ("P7\nWIDTH 1\nHEIGHT 1\nMAXVAL 255\nENDHDR\n", "lacks"),
            ("P7\nWIDTH 1\nCOLOUR blue\nENDHDR\n", "unknown header line"),
        ]
        for (header, message) in bad {
            let bytes = Array(header.utf8) + [UInt8](repeating: 0, count: 64)
            XCTAssertThrowsError(try Codec.decode(bytes), header) { error in
                XCTAssertTrue("\(error)".contains(message), "\(header): \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
            XCTAssertThrowsError(try ImageStreamReader(bytes: bytes).next(), header)
        }
    }

    func testPixelLimitIsCheckedFromTheHeader() {
        let bytes = Array("P5\n30000 30000\n255\n".utf8) + [0, 0, 0]
        XCTAssertThrowsError(try Codec.decode(bytes, limits: DecodeLimits(maxPixels: 1_000_000))) { error in
            XCTAssertTrue("\(error)".contains("above the limit"), "\(error)")
        }
        XCTAssertThrowsError(try ImageStreamReader(bytes: bytes).next()) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
    }

    func testHugeDeclaredRasterIsRefusedBeforeBuffering() {
        let reader = ImageStreamReader(bytes: Array("P6\n99999999 99999999\n65535\n".utf8) + [1, 2, 3])
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertTrue("\(error)".contains("corrupt length"), "\(error)")
        }
    }

    func testConcatenatedFramesSplitInOrder() throws {
        let frames: [[UInt8]] = try (0..<6).map { i in
            let formats: [PixelFormat] = [.rgb8, .gray8, .rgba16, .rgb16, .grayAlpha8, .rgb8]
            return try Codec.encode(TestImages.pattern(width: 10 + i, height: 3 + i, format: formats[i], seed: i),
                                    as: i % 2 == 0 ? .pnm : .pam)
        }
        let png = try Codec.encode(TestImages.pattern(width: 4, height: 4, format: .rgb8), as: .png)
        let reader = ImageStreamReader(bytes: frames.flatMap { $0 } + png)
        var got: [ImageStreamReader.Chunk] = []
        while let c = try reader.next() { got.append(c) }
        XCTAssertEqual(got.map(\.bytes), frames + [png])
        XCTAssertEqual(got.map(\.format), [.pnm, .pam, .pnm, .pam, .pnm, .pam, .png])
    }

    func testTruncatedFrameAndTruncatedHeader() throws {
        let frame = try Codec.encode(TestImages.pattern(width: 8, height: 8, format: .rgb8), as: .pnm)
        for cut in [1, 5, 100] {
            let reader = ImageStreamReader(bytes: frame + frame.prefix(frame.count - cut))
            XCTAssertEqual(try reader.next()?.bytes, frame)
            XCTAssertThrowsError(try reader.next()) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        }
        for header in ["P6\n8 8", "P7\nWIDTH 8\nHEIGHT"] {
            XCTAssertThrowsError(try ImageStreamReader(bytes: Array(header.utf8)).next()) {
                XCTAssertTrue("\($0)".contains("truncated header"), "\($0)")
            }
        }
        XCTAssertThrowsError(try Codec.decode(Array(frame.dropLast()))) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
    }
}
