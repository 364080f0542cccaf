import Foundation
import FrameModel
import ImageIO
import XCTest

/// End-to-end tests of `cnnpipe run`: real process, real plugins, real stdin/stdout.
final class RunTests: XCTestCase {
    private func pattern(_ w: Int, _ h: Int, _ format: PixelFormat = .rgb8) -> Image {
        var bytes = [UInt8](repeating: 0, count: w * h * format.bytesPerPixel)
        for i in bytes.indices { bytes[i] = UInt8((i * 7 + i / (w * format.bytesPerPixel) * 13) & 0xFF) }
        return Image(width: w, height: h, format: format, bytes: bytes)
    }

    private func encoded(_ image: Image, _ format: ImageFormat) throws -> [UInt8] {
        var options = EncodeOptions()
        options.webpLossless = true
        return try Codec.encode(image, as: format, options: options)
    }

    private func split(_ data: Data) throws -> [Image] {
        let reader = ImageStreamReader(bytes: [UInt8](data))
        var images: [Image] = []
        while let chunk = try reader.next() { images.append(try Codec.decode(chunk.bytes).image) }
        return images
    }

    func testOutputOrderEqualsInputOrderUnderPipelining() throws {
        let formats: [ImageFormat] = [.jpeg, .png, .webp]
        let widths = Array(20..<60)
        var stream = [UInt8]()
        for (i, w) in widths.enumerated() { stream += try encoded(pattern(w, 24 + i % 5), formats[i % 3]) }
        let r = try cnnpipe(["run", "-e", "rotate angle=90 | passthrough | rotate angle=0 flip=vertical", "--threads", "2",
                             "--format", "png"], stdin: Data(stream))
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try split(r.stdout)
        XCTAssertEqual(out.map(\.height), widths, "images came out in a different order")
        XCTAssertEqual(out.map(\.width), widths.indices.map { 24 + $0 % 5 })
    }

    func testGarbageOnStdinIsAOneLineErrorAndExit1() throws {
        let r = try cnnpipe(["run", "-e", "passthrough"], stdin: Data("this is not an image\n".utf8))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout.count, 0)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("stdin image 1: not a JPEG, PNG, WebP, PNM or PAM image"), r.stderr)
    }

    func testTruncatedImageStopsAfterWritingEarlierImagesCompletely() throws {
        let first = try encoded(pattern(40, 30), .png)
        let second = try encoded(pattern(50, 30), .jpeg)
        let third = try encoded(pattern(60, 30), .png)
        let r = try cnnpipe(["run", "-e", "passthrough", "--format", "png"],
                            stdin: Data(first + second.prefix(second.count / 2) + third))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("stdin image 2") && r.stderr.contains("truncated"), r.stderr)
        let out = try split(r.stdout)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out.first, pattern(40, 30))
    }

    func testKeepGoingSkipsBadFilesAndReportsThem() throws {
        let top = try TestEnv.tempDir(), dir = top + "/in"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(try encoded(pattern(10, 10), .png)).write(to: URL(fileURLWithPath: dir + "/a.png"))
        let jpeg = try encoded(pattern(12, 12), .jpeg)
        try Data(jpeg.prefix(jpeg.count - 40)).write(to: URL(fileURLWithPath: dir + "/b.jpg"))
        try Data(try encoded(pattern(14, 14), .webp)).write(to: URL(fileURLWithPath: dir + "/c.webp"))

        let stop = try cnnpipe(["run", "-e", "passthrough", dir, "-o", top + "/out-stop/"])
        XCTAssertEqual(stop.status, 1)
        XCTAssertTrue(stop.stderr.contains("b.jpg"), stop.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: top + "/out-stop"), ["a.png"])

        let go = try cnnpipe(["run", "-e", "passthrough", "--keep-going", dir, "-o", top + "/out-go/"])
        XCTAssertEqual(go.status, 1)
        XCTAssertTrue(go.stderr.contains("b.jpg") && go.stderr.contains("1 of 3 images failed"), go.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: top + "/out-go").sorted(), ["a.png", "c.webp"])
        XCTAssertEqual(try Codec.decode([UInt8](read(top + "/out-go/c.webp"))).image.width, 14)
    }

    func testFailedRunLeavesNoPartialFileAndKeepsWhatWasThere() throws {
        let dir = try TestEnv.tempDir()
        let target = dir + "/result.png"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: target))
        let r = try cnnpipe(["run", "-e", "passthrough", "-o", target], stdin: Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00]))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "precious")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["result.png"], "temp file left behind")
    }

    func testOutputFileFormatFollowsExtensionAndTemplate() throws {
        let dir = try TestEnv.tempDir()
        let input = try encoded(pattern(16, 8), .png) + encoded(pattern(8, 16), .jpeg)
        var r = try cnnpipe(["run", "-e", "passthrough", "-o", dir + "/both.webp"], stdin: Data(input))
        XCTAssertEqual(r.status, 0, r.stderr)
        let both = try split(read(dir + "/both.webp"))
        XCTAssertEqual(both.map(\.width), [16, 8])
        XCTAssertEqual(ImageFormat.sniff([UInt8](try read(dir + "/both.webp"))), .webp)

        r = try cnnpipe(["run", "-e", "passthrough", "-o", dir + "/t/{index}-{stem}.{ext}"], stdin: Data(input))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/t").sorted(),
                       ["0000-stdin-0000.png", "0001-stdin-0001.jpg"])
    }

    func testMaxPixelsRefusal() throws {
        let big = try encoded(pattern(1500, 1000), .jpeg)
        let r = try cnnpipe(["run", "-e", "passthrough", "--max-megapixels", "1"], stdin: Data(big))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("above the limit of 1"), r.stderr)
        XCTAssertEqual(r.stdout.count, 0)
    }

    func testBranchAndMergeBlendsAnImageWithItsTurnedSelf() throws {
        let dir = try TestEnv.tempDir()
        try """
        description: image blended with its upside-down self
        nodes:
          - {id: turned, stage: rotate, params: {angle: 180}, inputs: input}
          - {id: mix, stage: blend, params: {opacity: 0.5}, inputs: [input, turned]}
        """.write(toFile: dir + "/mirror.yaml", atomically: true, encoding: .utf8)
        let image = pattern(31, 17)
        let r = try cnnpipe(["run", dir + "/mirror.yaml", "--format", "png"], stdin: Data(try encoded(image, .png)))
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try split(r.stdout)[0]
        // blend(p, rot180(p)) is symmetric under a half turn, and each pixel is the mean of the two.
        for (x, y) in [(0, 0), (5, 3), (30, 16), (15, 8)] {
            for c in 0..<3 {
                let a = Int(image.bytes[(y * 31 + x) * 3 + c]), b = Int(image.bytes[((16 - y) * 31 + (30 - x)) * 3 + c])
                let got = Int(out.bytes[(y * 31 + x) * 3 + c])
                XCTAssertLessThanOrEqual(abs(got - (a + b) / 2), 1, "pixel \(x),\(y)")
            }
        }
    }

    func testGridAggregatesTheStreamIntoOneSheet() throws {
        var stream = [UInt8]()
        for i in 0..<5 { stream += try encoded(pattern(60 + i, 40), .png) }
        let r = try cnnpipe(["run", "-e", "grid cell=32 columns=3 gap=2 captions=false", "--format", "png"], stdin: Data(stream))
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try split(r.stdout)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].width, 3 * 32 + 4 * 2)    // 3 columns of 32 + gaps
        XCTAssertEqual(out[0].height, 2 * 21 + 3 * 2)   // 2 rows; the tallest tile is 60x40 scaled to 32x21
    }

    func testJSONLinesDescribeEveryFrame() throws {
        let dir = try TestEnv.tempDir()
        var stream = [UInt8]()
        for i in 0..<3 { stream += try encoded(pattern(10 + i, 10), .png) }
        let r = try cnnpipe(["run", "-e", "rotate angle=90", "--json-file", dir + "/meta.jsonl", "-o", dir + "/o/"],
                            stdin: Data(stream))
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: dir + "/meta.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        for (i, line) in lines.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(object["index"] as? Int, i)
            XCTAssertEqual(object["height"] as? Int, 10 + i)
            XCTAssertEqual(object["source"] as? String, "stdin")
            XCTAssertEqual(object["output"] as? String, dir + "/o/stdin-000\(i).png")
        }
    }

    func testBadPresetExitsWith2AndNamesThePlace() throws {
        let dir = try TestEnv.tempDir()
        try "stages:\n  - resize: {width: 10}\n  - blurr: {}\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        for command in ["run", "validate"] {
            let r = try cnnpipe([command, dir + "/bad.yaml"])
            XCTAssertEqual(r.status, 2)
            XCTAssertTrue(r.stderr.contains("bad.yaml:3:5: unknown stage 'blurr'"), r.stderr)
        }
        let r = try cnnpipe(["run", "-e", "resize width=10", "--set", "resize.width=abc"], stdin: Data())
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("width must be a whole number"), r.stderr)
    }

    /// A stateful aggregator after a failed image: the failed image takes its turn, the others make the sheet.
    func testAggregatorWithKeepGoingSkipsTheBadImage() throws {
        let dir = try TestEnv.tempDir()
        for (i, name) in ["a.png", "b.png", "c.png", "d.png"].enumerated() {
            var bytes = try encoded(pattern(40, 40), .png)
            if i == 1 { bytes = Array(bytes.prefix(30)) }
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        let r = try cnnpipe(["run", "-e", "resize width=20 | grid cell=20 columns=3 gap=0 captions=false", "--keep-going",
                             "--threads", "2", dir, "-o", dir + "/sheet.png"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("b.png"), r.stderr)
        let sheet = try Codec.decode([UInt8](read(dir + "/sheet.png"))).image
        XCTAssertEqual(sheet.width, 3 * 20)
    }

    func testResizeModesAndExtremeSizes() throws {
        let input = Data(try encoded(pattern(64, 48), .png))
        let cases: [(String, Int, Int)] = [
            ("width=1 height=1 mode=exact", 1, 1), ("width=3 height=1 mode=exact", 3, 1), ("width=7 height=5 mode=exact", 7, 5),
            ("width=200 height=3 mode=exact", 200, 3), ("width=32", 32, 24), ("height=96", 128, 96),
            ("width=40 height=40 mode=fit", 40, 30), ("width=40 height=40 mode=fill", 40, 40),
            ("width=640 upscale=false", 64, 48), ("width=1000 height=2 mode=fill", 1000, 2),
        ]
        for (params, w, h) in cases {
            let r = try cnnpipe(["run", "-e", "resize \(params)", "--format", "png", "--threads", "2"], stdin: input)
            XCTAssertEqual(r.status, 0, "\(params): \(r.stderr)")
            let out = try Codec.decode([UInt8](r.stdout)).image
            XCTAssertEqual([out.width, out.height], [w, h], params)
        }
        // A flat colour stays exactly that colour at any scale (weights sum to one).
        let flat = Image(width: 50, height: 30, format: .rgb8, bytes: [UInt8](repeating: 77, count: 50 * 30 * 3))
        for params in ["width=17 height=9 mode=exact", "width=333 height=201 mode=exact filter=bilinear", "width=5 filter=box"] {
            let r = try cnnpipe(["run", "-e", "resize \(params)", "--format", "png"], stdin: Data(try encoded(flat, .png)))
            XCTAssertEqual(Set(try Codec.decode([UInt8](r.stdout)).image.bytes), [77], params)
        }
    }
}
