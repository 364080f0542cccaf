import Foundation
import FrameModel
import XCTest
@testable import ImageIO

final class CodecTests: XCTestCase {
    func testPNGRoundTripIsExactForEveryIntegerFormat() throws {
        let formats: [PixelFormat] = [.gray8, .grayAlpha8, .rgb8, .rgba8, .gray16, .grayAlpha16, .rgb16, .rgba16]
        for format in formats {
            let image = TestImages.pattern(width: 37, height: 23, format: format)
            let png = try Codec.encode(image, as: .png)
            let back = try Codec.decode(png)
            XCTAssertEqual(back.format, .png)
            XCTAssertEqual(back.image.format, format, "\(format)")
            XCTAssertEqual(back.image, image, "PNG round trip of \(format) changed pixels")
        }
    }

    func testPNGSixteenBitCanBeWrittenAsEightBit() throws {
        let image = TestImages.pattern(width: 16, height: 16, format: .rgb16)
        var options = EncodeOptions()
        options.pngBitDepth = 8
        let back = try Codec.decode(try Codec.encode(image, as: .png, options: options))
        XCTAssertEqual(back.image.format, .rgb8)
        XCTAssertEqual(back.image, image.converted(to: .rgb8))
    }

    /// Palette, 1/2/4-bit gray and tRNS PNGs, written by Python's zlib so our encoder is not involved.
    func testPNGPaletteAndLowBitDepthDecode() throws {
        let script = """
        import struct, sys, zlib
        def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
        def png(path, w, h, depth, ctype, rows, extra=b''):
            raw = b''.join(b'\\x00' + r for r in rows)
            ihdr = struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, 0)
            open(path, 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr) + extra + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
        d = sys.argv[1]
        plte = chunk(b'PLTE', bytes([255,0,0, 0,255,0, 0,0,255, 10,20,30]))
        png(d + '/pal.png', 4, 1, 8, 3, [bytes([0,1,2,3])], plte)
        png(d + '/paltrns.png', 4, 1, 8, 3, [bytes([0,1,2,3])], plte + chunk(b'tRNS', bytes([255, 128, 0])))
        png(d + '/gray1.png', 8, 1, 1, 0, [bytes([0b10110001])])
        png(d + '/gray2.png', 4, 1, 2, 0, [bytes([0b00011011])])
        png(d + '/gray4.png', 2, 1, 4, 0, [bytes([0x0F])])
        """
        let dir = NSTemporaryDirectory() + "cnnpipe-png-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try TestImages.tool("python3", ["-c", script, dir])
        func decode(_ name: String) throws -> Image {
            try Codec.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))).image
        }
        let pal = try decode("pal.png")
        XCTAssertEqual(pal.format, .rgb8)
        XCTAssertEqual(pal.bytes, [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
        let trns = try decode("paltrns.png")
        XCTAssertEqual(trns.format, .rgba8)
        XCTAssertEqual(trns.bytes, [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 255])
        XCTAssertEqual(try decode("gray1.png").bytes, [255, 0, 255, 255, 0, 0, 0, 255])
        XCTAssertEqual(try decode("gray2.png").bytes, [0, 85, 170, 255])
        XCTAssertEqual(try decode("gray4.png").bytes, [0, 255])
    }

    func testWebPLosslessRoundTripIsExact() throws {
        var options = EncodeOptions()
        options.webpLossless = true
        for format in [PixelFormat.rgb8, .rgba8] {
            let image = TestImages.pattern(width: 41, height: 19, format: format)
            let back = try Codec.decode(try Codec.encode(image, as: .webp, options: options))
            XCTAssertEqual(back.format, .webp)
            XCTAssertEqual(back.image, image, "lossless WebP changed \(format) pixels")
        }
    }

    func testWebPLossyKeepsAlphaAndLooksRight() throws {
        let image = TestImages.pattern(width: 64, height: 48, format: .rgba8, smooth: true)
        let back = try Codec.decode(try Codec.encode(image, as: .webp)).image
        XCTAssertEqual(back.format, .rgba8)
        XCTAssertGreaterThan(TestImages.psnr(back, image), 30)
    }

    func testJPEGRoundTripQualityByPSNR() throws {
        let image = try Codec.decode(try TestImages.corpusFile("content/tubingen.jpg")).image
        for (quality, minimum) in [(95, 38.0), (75, 31.0)] {
            var options = EncodeOptions()
            options.quality = quality
            let back = try Codec.decode(try Codec.encode(image, as: .jpeg, options: options)).image
            XCTAssertGreaterThan(TestImages.psnr(back, image), minimum, "quality \(quality)")
        }
    }

    func testJPEGProgressiveAnd444AndGrayscale() throws {
        let image = TestImages.pattern(width: 80, height: 40, format: .rgb8, smooth: true)
        var options = EncodeOptions()
        options.progressive = true
        options.subsampling = .s444
        let jpeg = try Codec.encode(image, as: .jpeg, options: options)
        // A progressive JPEG has an SOF2 marker.
        XCTAssertTrue(zip(jpeg, jpeg.dropFirst()).contains { $0 == 0xFF && $1 == 0xC2 })
        XCTAssertGreaterThan(TestImages.psnr(try Codec.decode(jpeg).image, image), 38)

        let gray = TestImages.pattern(width: 30, height: 30, format: .gray8, smooth: true)
        let decoded = try Codec.decode(try Codec.encode(gray, as: .jpeg)).image
        XCTAssertEqual(decoded.format, .gray8)
        XCTAssertGreaterThan(TestImages.psnr(decoded, gray), 35)
    }

    func testCMYKJPEGDecodesToRGB() throws {
        let rgbPath = TestImages.tempPath("png"), cmykPath = TestImages.tempPath("jpg")
        let image = TestImages.pattern(width: 48, height: 32, format: .rgb8, smooth: true)
        try Data(try Codec.encode(image, as: .png)).write(to: URL(fileURLWithPath: rgbPath))
        try TestImages.tool("convert", [rgbPath, "-colorspace", "CMYK", "-quality", "98", cmykPath])
        let decoded = try Codec.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: cmykPath)))).image
        XCTAssertEqual(decoded.format, .rgb8)
        XCTAssertGreaterThan(TestImages.psnr(decoded, image), 25, "CMYK conversion is off")
    }

    func testEveryEXIFOrientationIsAppliedAndReset() throws {
        // Stored 3x2:  A B C / D E F. Expected upright layouts, written by hand from the EXIF spec.
        let A: [UInt8] = [10, 0, 0], B: [UInt8] = [20, 0, 0], C: [UInt8] = [30, 0, 0]
        let D: [UInt8] = [40, 0, 0], E: [UInt8] = [50, 0, 0], F: [UInt8] = [60, 0, 0]
        let stored = Image(width: 3, height: 2, format: .rgb8, bytes: [A, B, C, D, E, F].flatMap { $0 })
        let expected: [Int: (Int, Int, [[UInt8]])] = [
            1: (3, 2, [A, B, C, D, E, F]), 2: (3, 2, [C, B, A, F, E, D]),
            3: (3, 2, [F, E, D, C, B, A]), 4: (3, 2, [D, E, F, A, B, C]),
            5: (2, 3, [A, D, B, E, C, F]), 6: (2, 3, [D, A, E, B, F, C]),
            7: (2, 3, [F, C, E, B, D, A]), 8: (2, 3, [C, F, B, E, A, D]),
        ]
        for orientation in 1...8 {
            let png = try Codec.encode(stored, metadata: FrameMetadata(exif: TestImages.exif(orientation: orientation)), as: .png)
            let decoded = try Codec.decode(png)
            let (w, h, pixels) = expected[orientation]!
            XCTAssertEqual(decoded.image.width, w, "orientation \(orientation)")
            XCTAssertEqual(decoded.image.height, h, "orientation \(orientation)")
            XCTAssertEqual(decoded.image.bytes, pixels.flatMap { $0 }, "orientation \(orientation)")
            XCTAssertEqual(decoded.metadata.exif.flatMap(Exif.orientation), 1, "orientation not reset")
        }
    }

    func testOrientationMatchesImageMagickOnARealJPEG() throws {
        let source = TestImages.tempPath("jpg")
        try Data(try TestImages.corpusFile("content/tubingen.jpg")).write(to: URL(fileURLWithPath: source))
        for orientation in [3, 6, 8] {
            let tagged = TestImages.tempPath("jpg"), reference = TestImages.tempPath("png")
            try FileManager.default.copyItem(atPath: source, toPath: tagged)
            try TestImages.tool("exiftool", ["-q", "-overwrite_original", "-n", "-Orientation=\(orientation)", tagged])
            try TestImages.tool("convert", [tagged, "-auto-orient", reference])
            let ours = try Codec.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: tagged)))).image
            let theirs = try Codec.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: reference)))).image
            XCTAssertEqual(ours.width, theirs.width)
            XCTAssertEqual(ours.height, theirs.height)
            XCTAssertGreaterThan(TestImages.psnr(ours, theirs.converted(to: ours.format)), 40, "orientation \(orientation)")
        }
    }

    func testMaxPixelsIsCheckedBeforeAllocating() throws {
        // A PNG header claiming 60000 x 60000 pixels (3.6 gigapixels); no pixel data at all.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(60000) + be32(60000) + [8, 2, 0, 0, 0])
        png += chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        png += chunk("IEND", [])
        XCTAssertThrowsError(try Codec.decode(png)) { error in
            XCTAssertTrue("\(error)".contains("above the limit"), "\(error)")
        }
        // And a small image is refused by a small limit.
        let small = try Codec.encode(TestImages.pattern(width: 100, height: 100, format: .rgb8), as: .jpeg)
        XCTAssertThrowsError(try Codec.decode(small, limits: DecodeLimits(maxPixels: 5000)))
        XCTAssertNoThrow(try Codec.decode(small, limits: DecodeLimits(maxPixels: 10000)))
    }

    func testCorruptDataIsAnErrorNotACrash() throws {
        let jpeg = try Codec.encode(TestImages.pattern(width: 64, height: 64, format: .rgb8), as: .jpeg)
        let png = try Codec.encode(TestImages.pattern(width: 64, height: 64, format: .rgb8), as: .png)
        let webp = try Codec.encode(TestImages.pattern(width: 64, height: 64, format: .rgb8), as: .webp)
        for (name, data) in [("jpeg", jpeg), ("png", png), ("webp", webp)] {
            XCTAssertThrowsError(try Codec.decode(Array(data.prefix(data.count / 2))), "truncated \(name)")
            var flipped = data
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<200 {
                // Random corruption after the signature: must never crash (errors are fine).
                flipped = data
                for _ in 0..<8 { flipped[Int.random(in: 12..<flipped.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                _ = try? Codec.decode(flipped)
            }
        }
        XCTAssertThrowsError(try Codec.decode(Array("hello world, not an image".utf8)))
    }

    /// A JPEG whose frame header promises far more rows than its scan data holds, ended by a proper
    /// EOI: libjpeg only warns and pads with grey; we refuse it (issue 15).
    func testScanDataEndingBeforeTheImageIsAnError() throws {
        var jpeg = try Codec.encode(TestImages.pattern(width: 16, height: 16, format: .rgb8), as: .jpeg)
        let sof = try XCTUnwrap((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && (0xC0...0xC2).contains(jpeg[$0 + 1]) })
        for (offset, byte) in [(5, 0x0F), (6, 0xA0), (7, 0x0F), (8, 0xA0)] { jpeg[sof + offset] = UInt8(byte) }  // 4000 x 4000
        XCTAssertThrowsError(try Codec.decode(jpeg)) { error in
            XCTAssertTrue("\(error)".contains("premature end of data segment"), "\(error)")
        }
        // The same file with its size left alone still decodes.
        XCTAssertNoThrow(try Codec.decode(try Codec.encode(TestImages.pattern(width: 16, height: 16, format: .rgb8), as: .jpeg)))
    }

    func testMaxPixelsMessageNamesTheRealOption() throws {
        let small = try Codec.encode(TestImages.pattern(width: 100, height: 100, format: .rgb8), as: .jpeg)
        XCTAssertThrowsError(try Codec.decode(small, limits: DecodeLimits(maxPixels: 9999))) { error in
            XCTAssertEqual("\(error)", "100x100 is 10000 pixels, above the limit of 9999 pixels (raise it with --max-megapixels)")
        }
    }

    private func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}
