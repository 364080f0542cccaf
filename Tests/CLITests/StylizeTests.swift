import Foundation
import FrameModel
import ImageIO
import XCTest

/// The stylize stage end to end (real models; skipped when scripts/setup-models.sh has not run).
final class StylizeTests: XCTestCase {
    private let models = TestEnv.root + "/models"
    private let reference = TestEnv.root + "/.build-reference"

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: models + "/multistyle26.onnx") else {
            throw XCTSkip("models not fetched (scripts/setup-models.sh)")
        }
    }

    private func photo(_ w: Int = 96, _ h: Int = 64) throws -> Data {
        let image = try Codec.decode([UInt8](read(TestEnv.corpus + "/content/tubingen.jpg"))).image
        let r = try cnnpipe(["run", "-e", "resize width=\(w) height=\(h) mode=fill", "--format", "png"],
                            stdin: Data(try Codec.encode(image, as: .png)))
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    private func run(_ chain: String, _ input: Data) throws -> Image {
        let r = try cnnpipe(["run", "-e", chain, "--format", "png"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try Codec.decode([UInt8](r.stdout)).image
    }

    private func meanAbs(_ a: Image, _ b: Image) -> Double {
        zip(a.bytes, b.bytes).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(a.bytes.count) / 255
    }

    /// The stage's output equals ONNX Runtime's on the same pixels, to one 8-bit level.
    func testBuiltInStyleMatchesONNXRuntimeReference() throws {
        let raw = reference + "/photos/tubingen-64x64.rgb", expectedFile = reference + "/multistyle26-64x64-s7-out.npy"
        guard FileManager.default.fileExists(atPath: raw), FileManager.default.fileExists(atPath: expectedFile) else {
            throw XCTSkip("no reference data (scripts/make-reference.sh)")
        }
        let input = Image(width: 64, height: 64, format: .rgb8, bytes: [UInt8](try read(raw)))
        let out = try run("stylize style=7", Data(try Codec.encode(input, as: .png)))
        // .npy (version 1) float32 [1, 3, 64, 64]: a 10-byte preamble holding the header length, the header, the data.
        let npy = [UInt8](try read(expectedFile))
        let dataStart = 10 + (Int(npy[8]) | Int(npy[9]) << 8)
        let values = Array(npy[dataStart...]).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        guard values.count == 3 * 64 * 64 else { return XCTFail("reference has \(values.count) values") }
        var worst = 0
        for i in 0..<(64 * 64) { for c in 0..<3 {
            let want = Int((min(max(values[c * 4096 + i], 0), 1) * 255).rounded())
            worst = max(worst, abs(Int(out.bytes[i * 3 + c]) - want))
        } }
        XCTAssertLessThanOrEqual(worst, 1)
    }

    func testStrengthZeroReturnsTheOriginalAndBlendsAreNormalised() throws {
        let input = try photo()
        let original = try Codec.decode([UInt8](input)).image
        XCTAssertEqual(try run("stylize style=3 strength=0", input), original)
        let half = try run("stylize style=3 strength=0.5", input), full = try run("stylize style=3", input)
        XCTAssertGreaterThan(meanAbs(full, original), 0.05)
        XCTAssertLessThan(abs(meanAbs(half, original) - meanAbs(full, original) / 2), 0.01)
        XCTAssertEqual(try run("stylize style=3:1,12:1", input), try run("stylize style=12:0.5,3:0.5", input))
        XCTAssertNotEqual(try run("stylize style=3:1,12:1", input), full)
        // Built-in styles have names too.
        XCTAssertEqual(try run("stylize style=shards", input), full)
        XCTAssertEqual(try run("stylize style=shards:1,lavender:1", input), try run("stylize style=12:0.5,3:0.5", input))
    }

    func testPreserveColourKeepsTheChroma() throws {
        let input = try photo()
        let original = try Codec.decode([UInt8](input)).image
        let styled = try run("stylize style=17", input), kept = try run("stylize style=17 preserve-colour=true", input)
        func chromaDistance(_ a: Image) -> Double {
            var sum = 0.0
            for i in stride(from: 0, to: a.bytes.count, by: 3) {
                func cbcr(_ p: [UInt8], _ j: Int) -> (Double, Double) {
                    let (r, g, b) = (Double(p[j]), Double(p[j + 1]), Double(p[j + 2]))
                    let y = 0.299 * r + 0.587 * g + 0.114 * b
                    return (b - y, r - y)
                }
                let (u1, v1) = cbcr(a.bytes, i), (u2, v2) = cbcr(original.bytes, i)
                sum += abs(u1 - u2) + abs(v1 - v2)
            }
            return sum / Double(a.bytes.count / 3) / 255
        }
        XCTAssertLessThan(chromaDistance(kept), 0.03)
        XCTAssertGreaterThan(chromaDistance(styled), 3 * chromaDistance(kept))
    }

    /// The preset's stored vector is the painting's style vector. The predictor's activations are
    /// 8-bit quantised: a float sum that lands within rounding error of a step boundary may round
    /// either way depending on the CPU's summation order (OpenBLAS kernels differ between CPUs), so
    /// the vectors agree to one quantisation step per element (0.0199), not bit for bit.
    func testPaintingStyleFromImageAndFromPresetVectorAgree() throws {
        let input = try photo(64, 64)
        let json = try TestEnv.tempDir() + "/meta.jsonl"
        let r = try cnnpipe(["run", "-e", "stylize style-image=\(TestEnv.corpus)/styles/starry_night.jpg", "--format", "png",
                             "--json-file", json], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try JSONSerialization.jsonObject(with: try read(json).split(separator: 0x0A)[0]) as! [String: Any]
        let computed = ((line["tags"] as! [String: String])["style-vector"]!).split(separator: ",").map { Double($0)! }
        let preset = try String(contentsOfFile: TestEnv.root + "/presets/starry-night.yaml", encoding: .utf8)
        let stored = preset.components(separatedBy: "style-vector: \"")[1].prefix { $0 != "\"" }.split(separator: ",").map { Double($0)! }
        XCTAssertEqual(computed.count, 100)
        XCTAssertEqual(stored.count, 100)
        let worst = zip(computed, stored).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(worst, 0.0199 + 1e-4, "the preset's stored vector is the painting's")
        let fromPreset = try cnnpipe(["run", TestEnv.root + "/presets/starry-night.yaml", "--format", "png"], stdin: input)
        XCTAssertEqual(fromPreset.status, 0, fromPreset.stderr)
        XCTAssertGreaterThan(meanAbs(try Codec.decode([UInt8](fromPreset.stdout)).image, try Codec.decode([UInt8](input)).image), 0.05)
    }

    func testBadParametersAreOneLineErrors() throws {
        let input = try photo()
        for (chain, message, status) in [
            ("stylize style=26", "'26' is not a built-in style (0-25 or a name: 0 golden-haze", Int32(2)),
            ("stylize style=3:-1", "style: '3:-1' is not NAME or NAME:WEIGHT (a weight of 0 or more)", 2),
            ("stylize style-image=/no/such/painting.jpg", "style-image: cannot read /no/such/painting.jpg", 2),
            ("stylize style-vector=1,2,3", "needs 100 comma-separated numbers, got 3", 2),
            ("resize width=20 height=20 mode=exact | stylize", "stylize needs at least 32x32 pixels", 1),
        ] {
            let r = try cnnpipe(["run", "-e", chain], stdin: input)
            XCTAssertEqual(r.status, status, chain)
            XCTAssertTrue(r.stderr.contains(message), "\(chain): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
    }

    func testEveryPresetValidatesAndRunsOnASample() throws {
        let presets = try FileManager.default.contentsOfDirectory(atPath: TestEnv.root + "/presets").filter { $0.hasSuffix(".yaml") }
        XCTAssertGreaterThan(presets.count, 15)
        let sample = try photo(64, 48)
        // tag-people and draw-people need a gallery made by the user: validated here, run in IdentifyTests.
        // The classic (optimisation) presets take a minute per photo: validated here, the stage runs in
        // testClassicStylize with few iterations.
        for p in presets.sorted() where p.hasPrefix("classic-") {
            let v = try cnnpipe(["validate", TestEnv.root + "/presets/" + p])
            XCTAssertEqual(v.status, 0, "\(p): \(v.stderr)")
        }
        let needGallery = ["tag-people.yaml", "draw-people.yaml"]
        for p in presets.sorted() where p != "style-sheet.yaml" && !needGallery.contains(p) && !p.hasPrefix("classic-") {
            let r = try cnnpipe(["run", TestEnv.root + "/presets/" + p, "--format", "png"], stdin: sample)
            XCTAssertEqual(r.status, 0, "\(p): \(r.stderr)")
            XCTAssertNoThrow(try Codec.decode([UInt8](r.stdout)), p)
        }
        for p in needGallery { XCTAssertEqual(try cnnpipe(["validate", TestEnv.root + "/presets/" + p]).status, 0, p) }
        let v = try cnnpipe(["validate", TestEnv.root + "/presets/style-sheet.yaml"])
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(String(decoding: v.stdout, as: UTF8.self).contains("28 nodes"))
    }

    func testClassicStylize() throws {
        let input = try photo(80, 60)
        let csv = NSTemporaryDirectory() + "classic-\(getpid()).csv"
        try? FileManager.default.removeItem(atPath: csv)
        let painting = TestEnv.root + "/../shared/corpus/styles/starry_night.jpg"
        let chain = "stylize-classic style-image=\(painting) size=64 iterations=6 costs-csv=\(csv)"
        let r = try cnnpipe(["run", "-e", chain, "--format", "png"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try Codec.decode([UInt8](r.stdout)).image
        XCTAssertEqual([out.width, out.height], [64, 48])
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "image,scale,iteration,content,style,tv,temporal,total")
        XCTAssertEqual(rows.count, 7, "a row per iteration")
        let totals = rows.dropFirst().map { Double($0.split(separator: ",")[7])! }
        XCTAssertLessThan(totals.last!, totals.first!)
        for (chain, message) in [
            ("stylize-classic", "needs parameter 'style-image'"),
            ("stylize-classic style-image=/nonexistent.jpg", "style-image: cannot read /nonexistent.jpg"),
            ("stylize-classic style-image=\(painting) content-layer=nope", "layer 'nope' is not in the feature model"),
            ("stylize-classic style-image=\(painting):0", "style-image: weight 0 for"),
            ("stylize-classic style-image=\(painting) feature-model=/tmp/none.onnx", "feature-model: /tmp/none.onnx not found"),
        ] {
            let r = try cnnpipe(["run", "-e", chain], stdin: input)
            XCTAssertNotEqual(r.status, 0, chain)
            XCTAssertTrue(r.stderr.contains(message), "\(chain): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
    }

    /// Differences between two same-size 8-bit images: mean, worst pixel, and the worst mean over
    /// a single column or row (a seam shows up as a column or row that differs more than the rest).
    private func difference(_ a: Image, _ b: Image) -> (mean: Double, worst: Int, worstColumn: Double, worstRow: Double) {
        let w = a.width, h = a.height, c = a.format.channels
        var columns = [Double](repeating: 0, count: w), rows = [Double](repeating: 0, count: h)
        var worst = 0, total = 0.0
        for y in 0..<h { for x in 0..<w { for k in 0..<c {
            let d = abs(Int(a.bytes[(y * w + x) * c + k]) - Int(b.bytes[(y * w + x) * c + k]))
            worst = max(worst, d); total += Double(d); columns[x] += Double(d); rows[y] += Double(d)
        } } }
        return (total / Double(w * h * c) / 255, worst, columns.max()! / Double(h * c) / 255, rows.max()! / Double(w * c) / 255)
    }

    /// Tiles (forced small here) use whole-image normalisation statistics: the result matches the
    /// untiled one and no tile border shows; tiles normalised on their own do not match.
    func testTiledMatchesUntiledWithoutSeams() throws {
        let input = try photo(256, 160)
        let whole = try run("stylize style=19", input)
        let d = difference(whole, try run("stylize style=19 tile-size=96", input))
        XCTAssertLessThanOrEqual(d.mean, 0.01)
        XCTAssertLessThanOrEqual(d.worst, 2)
        XCTAssertLessThanOrEqual(max(d.worstColumn, d.worstRow), 1.0 / 255, "a tile border differs")
        let naive = difference(whole, try run("stylize style=19 tile-size=96 tile-statistics=tile", input))
        XCTAssertGreaterThan(naive.mean, 0.03, "tiles with their own statistics change tone")
    }

    func testTiledPaintingStyleMatchesUntiled() throws {
        let input = try photo(192, 128)
        let preset = try String(contentsOfFile: TestEnv.root + "/presets/the-scream.yaml", encoding: .utf8)
        guard let vector = preset.split(separator: "\"").dropFirst().first else { return XCTFail("no style vector in the preset") }
        let whole = try run("stylize style-vector=\(vector)", input)
        let d = difference(whole, try run("stylize style-vector=\(vector) tile-size=64", input))
        // The quantised transformer flips an occasional rounding step; the mean and the borders stay put.
        XCTAssertLessThanOrEqual(d.mean, 0.01)
        XCTAssertLessThanOrEqual(max(d.worstColumn, d.worstRow), 2.0 / 255, "a tile border differs")
    }
}
