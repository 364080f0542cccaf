import Foundation
import XCTest
@testable import CNNRuntime

/// dlib `.dat` import: the serialization primitives (examples from ../shared/docs/dlib-format.md),
/// both networks' layer-by-layer shapes, malformed files, and the face ResNet against the real dlib
/// (reference data from scripts/make-reference.sh → .build-reference/dlib/).
final class DlibImportTests: XCTestCase {
    static let resnetFile = "dlib_face_recognition_resnet_model_v1.dat"
    static let detectorFile = "mmod_human_face_detector.dat"
    static let references = ParityTests.references + "/dlib"

    private func modelPath(_ file: String) throws -> String {
        let path = ParityTests.models + "/" + file
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is missing (run scripts/setup-models.sh or set CNNPIPE_MODELS)")
        }
        return path
    }

    private func modelBytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: try modelPath(file))))
    }

    // MARK: primitives

    func testCompressedIntegers() throws {
        let examples: [([UInt8], Int)] = [([0x01, 0x00], 0), ([0x01, 0x01], 1), ([0x01, 0x96], 150), ([0x81, 0x01], -1),
                                          ([0x02, 0x2C, 0x01], 300), ([0x84, 0x78, 0x56, 0x34, 0x12], -0x1234_5678)]
        for (bytes, value) in examples {
            var r = DlibReader(bytes)
            XCTAssertEqual(try r.int("x"), value, "\(bytes)")
            XCTAssertTrue(r.isAtEnd)
        }
        // n = 0, n > 8, bits 4–6 set: bad control bytes, each reported at its offset.
        for control: UInt8 in [0x00, 0x80, 0x09, 0x0F, 0x11, 0x41] {
            var r = DlibReader([0x01, 0x05, control, 1, 2, 3, 4, 5, 6, 7, 8, 9])
            XCTAssertEqual(try r.int("first"), 5)
            XCTAssertThrowsError(try r.int("second")) { XCTAssertTrue("\($0)".hasPrefix("byte 2: bad integer control byte"), "\($0)") }
        }
        var truncated = DlibReader([0x02, 0x2C])
        XCTAssertThrowsError(try truncated.int("num_filters")) {
            XCTAssertEqual("\($0)", "byte 1: truncated: num_filters needs 2 bytes, 1 left")
        }
        var negative = DlibReader([0x81, 0x01])
        XCTAssertThrowsError(try negative.count("rows")) { XCTAssertEqual("\($0)", "byte 0: rows is negative (-1)") }
        var tooBig = DlibReader([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try tooBig.int("x"))
    }

    func testPortableFloats() throws {
        var one = DlibReader([0x01, 0x10, 0x81, 0x04])                 // 16 × 2^−4
        XCTAssertEqual(try one.double("x"), 1.0)
        var pointZeroFour = DlibReader([0x03, 0x0A, 0xD7, 0xA3, 0x81, 0x1C])   // 0xA3D70A × 2^−28
        let value = try pointZeroFour.double("x")
        XCTAssertEqual(value, Double(0xA3D70A) / Double(1 << 28))
        XCTAssertEqual(value, 0.04, accuracy: 1e-8)
        var negativeHalf = DlibReader([0x81, 0x01, 0x81, 0x01])        // −1 × 2^−1
        XCTAssertEqual(try negativeHalf.float("x"), -0.5)
        var specials = DlibReader([0x01, 0x00, 0x02, 0x00, 0x7D, 0x01, 0x00, 0x02, 0x01, 0x7D, 0x01, 0x00, 0x02, 0x02, 0x7D])
        XCTAssertEqual(try specials.double("x"), .infinity)
        XCTAssertEqual(try specials.double("x"), -.infinity)
        XCTAssertTrue(try specials.double("x").isNaN)
        var wideExponent = DlibReader([0x01, 0x01, 0x03, 0x00, 0x00, 0x01])
        XCTAssertThrowsError(try wideExponent.double("eps")) { XCTAssertTrue("\($0)".contains("bad integer control byte 0x03 for eps (exponent)"), "\($0)") }
    }

    func testBooleansStringsAndContainers() throws {
        var r = DlibReader([0x31, 0x30, 0x78] + [0x01, 0x05] + Array("con_4".utf8))
        XCTAssertTrue(try r.bool("a"))
        XCTAssertFalse(try r.bool("b"))
        XCTAssertThrowsError(try r.bool("use_bias")) { XCTAssertEqual("\($0)", "byte 2: use_bias is byte 0x78, not a boolean ('0' or '1')") }
        XCTAssertEqual(r.peekString(prefix: "con"), "con_4")
        XCTAssertNil(r.peekString(prefix: "input"))
        XCTAssertEqual(try r.string("type"), "con_4")
        XCTAssertTrue(r.isAtEnd)

        // matrix<float> 2×1 = [1, −0.5]: negated dimensions, then portable floats.
        var m = DlibReader([0x81, 0x02, 0x81, 0x01, 0x01, 0x10, 0x81, 0x04, 0x81, 0x01, 0x81, 0x01])
        let matrix = try m.floatMatrix("shape")
        XCTAssertEqual(matrix.rows, 2); XCTAssertEqual(matrix.columns, 1); XCTAssertEqual(matrix.values, [1, -0.5])
        var huge = DlibReader([0x84, 0xFF, 0xFF, 0xFF, 0x7F, 0x84, 0xFF, 0xFF, 0xFF, 0x7F, 0x01])
        XCTAssertThrowsError(try huge.floatMatrix("initial_shape")) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }

        // The empty tensor, a 1×2×1×1 tensor of raw float32, an alias tensor.
        var empty = DlibReader([0x01, 0x02, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00])
        let e = try empty.tensor("x_grad")
        XCTAssertEqual(e.shape, [0, 0, 0, 0]); XCTAssertTrue(e.values.isEmpty); XCTAssertTrue(empty.isAtEnd)
        var bytes: [UInt8] = [0x01, 0x02, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x01]
        for v: Float in [1.5, -2] { bytes += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        var t = DlibReader(bytes)
        let tensor = try t.tensor("params")
        XCTAssertEqual(tensor.shape, [1, 2, 1, 1]); XCTAssertEqual(tensor.values, [1.5, -2])
        var cut = DlibReader(Array(bytes.dropLast()))
        XCTAssertThrowsError(try cut.tensor("params")) { XCTAssertEqual("\($0)", "byte 0: truncated: params of shape [1, 2, 1, 1] needs 2 float32 values, 7 bytes left") }
        var version1 = DlibReader([0x01, 0x01] + bytes.dropFirst(2))
        XCTAssertThrowsError(try version1.tensor("params")) { XCTAssertEqual("\($0)", "byte 0: params version is 1, expected 2") }
        var alias = DlibReader([0x01, 0x01, 0x01, 0x20, 0x01, 0x03, 0x01, 0x07, 0x01, 0x07])
        XCTAssertEqual(try alias.aliasTensorShape("filters"), [32, 3, 7, 7])
    }

    // MARK: the two networks

    func testResNetRecordsAndParameters() throws {
        let network = try DlibImporter.network(bytes: try modelBytes(Self.resnetFile), options: .init(foldAffineIntoConvolution: false))
        XCTAssertEqual(network.kind, .faceDescriptor)
        XCTAssertEqual(network.loss, .metric(margin: 0.04, distanceThreshold: 0.6))
        guard case .sizedImage(let mean, 150, 150) = network.input else { return XCTFail("input \(network.input)") }
        XCTAssertEqual(mean[0], 122.782, accuracy: 1e-4); XCTAssertEqual(mean[1], 117.001, accuracy: 1e-4)
        XCTAssertEqual(mean[2], 104.298, accuracy: 1e-4)
        XCTAssertEqual(network.layerNames.count, 108)
        let graph = network.graph
        XCTAssertEqual(graph.inputs.map(\.name), ["image"]); XCTAssertEqual(graph.inputs[0].shape, [1, 3, 150, 150])
        XCTAssertEqual(graph.outputs.map(\.name), ["descriptor"]); XCTAssertEqual(graph.outputs[0].shape, [1, 128])
        var ops: [String: Int] = [:]
        for n in graph.nodes { ops[n.opType, default: 0] += 1 }
        XCTAssertEqual(ops, ["Sub": 1, "Mul": 30, "Conv": 29, "Add": 29, "Relu": 29, "ZeroPaddedAdd": 14, "MaxPool": 1,
                             "AveragePool": 4, "GlobalAveragePool": 1, "Flatten": 1, "Gemm": 1])
        // dlib-format.md §5: 5,614,592 parameters (conv 5,574,720 with biases, affine 7,104, fc 32,768).
        func parameters(_ kind: String) -> Int {
            graph.initializers.filter { $0.key.hasSuffix(kind) && !$0.key.hasPrefix("input.") }.values.map(\.count).reduce(0, +)
        }
        XCTAssertEqual(parameters(".weight") + parameters(".bias"), 5_574_720 + 32_768)
        XCTAssertEqual(parameters(".gamma") + parameters(".beta"), 7_104)
        XCTAssertEqual(graph.initializers["fc.weight"]?.shape, [256, 128])
        XCTAssertEqual(graph.nodes.first { $0.name == "down3.add" }?.inputs, ["down3.shortcut", "down3.bn2"])
    }

    func testDetectorRecordsAndParameters() throws {
        let network = try DlibImporter.network(bytes: try modelBytes(Self.detectorFile), options: .init(foldAffineIntoConvolution: false))
        XCTAssertEqual(network.kind, .faceDetector)
        guard case .mmod(let o) = network.loss else { return XCTFail("loss \(network.loss)") }
        XCTAssertEqual(o.windows, [.init(width: 80, height: 80)])
        XCTAssertEqual(o.nmsIoU, 0.33827613, accuracy: 1e-7); XCTAssertEqual(o.nmsCovered, 1)
        XCTAssertEqual(o.ignoreIoU, 0.5); XCTAssertEqual(o.truthMatchIoU, 0.5); XCTAssertTrue(o.assumesImagePyramid)
        guard case .imagePyramid(_, 10, 11) = network.input else { return XCTFail("input \(network.input)") }
        XCTAssertEqual(network.layerNames.count, 19)
        let graph = network.graph
        XCTAssertEqual(graph.inputs[0].shape, [1, 3, nil, nil]); XCTAssertEqual(graph.outputs.map(\.name), ["scores"])
        let convWeights = graph.initializers.filter { $0.key.hasSuffix(".weight") || $0.key.hasSuffix(".bias") }.values.map(\.count).reduce(0, +)
        let affine = graph.initializers.filter { $0.key.hasSuffix(".gamma") || $0.key.hasSuffix(".beta") }.values.map(\.count).reduce(0, +)
        XCTAssertEqual(convWeights, 180_711)      // §6: 181,141 = conv 180,711 + bn gamma/beta 430
        XCTAssertEqual(affine, 430)
    }

    /// Runs a graph with every node's output exposed; returns each value's shape.
    private func allShapes(_ graph: ModelGraph, height: Int, width: Int) throws -> [String: [Int]] {
        var g = graph
        g.outputs = graph.nodes.flatMap(\.outputs).map { ValueInfo(name: $0, elementType: .float, shape: nil) }
        let session = try Session(g, threads: 2)
        let x = Tensor(shape: [1, 3, height, width], floats: (0..<(3 * height * width)).map { Float($0 % 256) })
        return try session.run(["image": x]).mapValues(\.shape)
    }

    /// dlib-format.md §5: 150×150 → 72 → 35 → 17 → 8 → 4 (a 3×3 branch on a 4×4 shortcut) → 2 (1×1 on 2×2).
    func testResNetShapesLayerByLayerAt150() throws {
        let network = try DlibImporter.network(bytes: try modelBytes(Self.resnetFile), options: .init(foldAffineIntoConvolution: false))
        let shapes = try allShapes(network.graph, height: 150, width: 150)
        var expected: [String: [Int]] = ["stem.conv": [1, 32, 72, 72], "stem.bn": [1, 32, 72, 72], "stem.relu": [1, 32, 72, 72],
                                         "stem.pool": [1, 32, 35, 35], "pool": [1, 256, 1, 1], "descriptor": [1, 128]]
        func residual(_ block: String, _ shape: [Int]) {
            for layer in ["conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu"] { expected[block + "." + layer] = shape }
        }
        func down(_ block: String, branch: [Int], shortcut: [Int], sum: [Int]) {
            for layer in ["conv1", "bn1", "relu1", "conv2", "bn2"] { expected[block + "." + layer] = branch }
            expected[block + ".shortcut"] = shortcut
            expected[block + ".add"] = sum
            expected[block + ".relu"] = sum
        }
        for i in 1...3 { residual("res\(i)", [1, 32, 35, 35]) }
        down("down1", branch: [1, 64, 17, 17], shortcut: [1, 32, 17, 17], sum: [1, 64, 17, 17])
        for i in 4...6 { residual("res\(i)", [1, 64, 17, 17]) }
        down("down2", branch: [1, 128, 8, 8], shortcut: [1, 64, 8, 8], sum: [1, 128, 8, 8])
        for i in 7...8 { residual("res\(i)", [1, 128, 8, 8]) }
        down("down3", branch: [1, 256, 3, 3], shortcut: [1, 128, 4, 4], sum: [1, 256, 4, 4])
        for i in 9...10 { residual("res\(i)", [1, 256, 4, 4]) }
        down("down4", branch: [1, 256, 1, 1], shortcut: [1, 256, 2, 2], sum: [1, 256, 2, 2])
        // Every dlib layer has a checked shape (the fc's output is the graph output "descriptor").
        XCTAssertEqual(Set(network.layerNames.filter { $0 != "fc" }), Set(expected.keys).subtracting(["descriptor"]))
        for (name, shape) in expected { XCTAssertEqual(shapes[name], shape, name) }
    }

    /// 5×5/2 convs without padding three times, then size-preserving 5×5 and 9×9 convs.
    func testDetectorShapesLayerByLayer() throws {
        let network = try DlibImporter.network(bytes: try modelBytes(Self.detectorFile), options: .init(foldAffineIntoConvolution: false))
        let shapes = try allShapes(network.graph, height: 180, width: 240)
        let sizes = [("down1", 16, 88, 118), ("down2", 32, 42, 57), ("down3", 32, 19, 27),
                     ("features1", 45, 19, 27), ("features2", 45, 19, 27), ("features3", 45, 19, 27)]
        var checked = 0
        for (block, k, h, w) in sizes {
            for layer in ["conv", "bn", "relu"] {
                XCTAssertEqual(shapes[block + "." + layer], [1, k, h, w], block + "." + layer)
                checked += 1
            }
        }
        XCTAssertEqual(shapes["scores"], [1, 1, 19, 27])
        XCTAssertEqual(checked + 1, network.layerNames.count)
    }

    func testFoldedAndUnfoldedGraphsAgree() throws {
        let bytes = try modelBytes(Self.detectorFile)
        let folded = try DlibImporter.network(bytes: bytes).graph
        let plain = try DlibImporter.network(bytes: bytes, options: .init(foldAffineIntoConvolution: false)).graph
        XCTAssertEqual(folded.nodes.filter { $0.opType == "Conv" }.map(\.name).prefix(2), ["down1.conv+bn", "down2.conv+bn"])
        XCTAssertFalse(folded.nodes.contains { $0.opType == "Mul" || $0.opType == "Sub" }, "batch norms and the input normalisation folded into the convolutions")
        XCTAssertTrue(plain.nodes.contains { $0.name == "input.center" })
        var rng = SystemRandomNumberGenerator()
        let x = Tensor(shape: [1, 3, 96, 128], floats: (0..<(3 * 96 * 128)).map { _ in Float.random(in: 0...255, using: &rng) })
        let a = try Session(folded, threads: 2).run(["image": x])["scores"]!.floats
        let b = try Session(plain, threads: 2).run(["image": x])["scores"]!.floats
        XCTAssertEqual(a.count, 9 * 13)
        let diff = zip(a, b).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(diff, 1e-4, "folded vs unfolded scores")
    }

    // MARK: zero-padded add (dlib's add_prev)

    func testZeroPaddedAddWidensToTheLargerShape() throws {
        let ctx = ExecutionContext(threads: 2)
        let a = Tensor(shape: [1, 2, 2, 2], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        let b = Tensor(shape: [1, 1, 3, 1], floats: [10, 20, 30])
        let sum = try ZeroPaddedAddKernel().run([a, b], ctx)[0]
        XCTAssertEqual(sum.shape, [1, 2, 3, 2])
        XCTAssertEqual(sum.floats, [11, 2, 23, 4, 30, 0,
                                    5, 6, 7, 8, 0, 0])
        let same = try ZeroPaddedAddKernel().run([a, a], ctx)[0]
        XCTAssertEqual(same.floats, [2, 4, 6, 8, 10, 12, 14, 16])
        XCTAssertThrowsError(try ZeroPaddedAddKernel().run([a, Tensor(shape: [3], floats: [1, 2, 3])], ctx))
        // Through the registry, by its domain; an unknown op in that domain is refused.
        let node = Node(name: "n", opType: "ZeroPaddedAdd", domain: "com.cnnpipe", inputs: ["a", "b"], outputs: ["c"])
        XCTAssertNoThrow(try OpRegistry.kernel(for: node, opset: 17))
        var other = node
        other.opType = "Frobnicate"
        XCTAssertThrowsError(try OpRegistry.kernel(for: other, opset: 17)) {
            XCTAssertEqual("\($0)", "node 'n': op com.cnnpipe.Frobnicate is not supported")
        }
    }

    // MARK: malformed files

    func testEveryTruncationIsAnErrorWithAByteOffset() throws {
        let bytes = try modelBytes(Self.detectorFile)
        var cuts = Array(0..<400) + [bytes.count - 1, bytes.count - 4, bytes.count - 11]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<150 { cuts.append(Int.random(in: 400..<bytes.count, using: &rng)) }
        for n in cuts {
            XCTAssertThrowsError(try DlibImporter.network(bytes: Array(bytes.prefix(n))), "cut at \(n)") { error in
                XCTAssertTrue("\(error)".contains("byte "), "cut at \(n): \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        let resnet = try modelBytes(Self.resnetFile)
        for n in [0, 1, 20, 288, 289, 400, 5_000, resnet.count / 2, resnet.count - 5] {
            XCTAssertThrowsError(try DlibImporter.network(bytes: Array(resnet.prefix(n))), "ResNet cut at \(n)")
        }
        XCTAssertThrowsError(try DlibImporter.network(bytes: bytes + [0])) {
            XCTAssertEqual("\($0)", "byte 729940: 1 unexpected bytes after the last layer")
        }
    }

    /// Flipped bytes anywhere (structure or weights): an error or a graph that runs; never a crash.
    func testCorruptedBytesAreErrorsNeverCrashes() throws {
        let bytes = try modelBytes(Self.detectorFile)
        var rng = SystemRandomNumberGenerator()
        let x = Tensor(shape: [1, 3, 40, 40], floats: Array(repeating: 128, count: 4800))
        var refused = 0, loaded = 0
        for trial in 0..<300 {
            var corrupted = bytes
            // Half the trials hit the first 200 bytes (loss, headers, input record), the rest anywhere.
            let range = trial % 2 == 0 ? 0..<200 : 0..<bytes.count
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                corrupted[Int.random(in: range, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            do {
                let network = try DlibImporter.network(bytes: corrupted)
                _ = try Session(network.graph, threads: 1).run(["image": x])
                loaded += 1
            } catch {
                XCTAssertFalse("\(error)".isEmpty)
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 50)
        XCTAssertGreaterThan(loaded, 0)
        for _ in 0..<200 {
            let junk = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            XCTAssertThrowsError(try DlibImporter.network(bytes: junk))
        }
    }

    /// A well-formed record that differs from the architecture is refused, naming dlib's layer index.
    func testLayerThatDiffersFromTheArchitectureIsNamed() throws {
        var bytes = try modelBytes(Self.detectorFile)
        // The 4th con_4 record is features1.conv (45 filters 5×5, stride 1, pad 2); make it stride 2, pad 0.
        let tag: [UInt8] = [0x01, 0x05] + Array("con_4".utf8)
        let starts = (0..<(bytes.count - tag.count)).filter { Array(bytes[$0..<($0 + tag.count)]) == tag }
        XCTAssertEqual(starts.count, 7)
        var r = DlibReader(bytes)
        while r.offset < starts[3] { _ = try r.byte("skip") }
        _ = try r.string("type"); _ = try r.tensor("params")
        XCTAssertEqual([try r.count("filters"), try r.count("nr"), try r.count("nc")], [45, 5, 5])
        let at = r.offset
        XCTAssertEqual(Array(bytes[at..<(at + 8)]), [0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x02])
        bytes.replaceSubrange(at..<(at + 8), with: [0x01, 0x02, 0x01, 0x02, 0x01, 0x00, 0x01, 0x00])
        XCTAssertThrowsError(try DlibImporter.network(bytes: bytes)) {
            XCTAssertEqual("\($0)", "layer 10 (features1.conv): the file has con 45 5×5/2 pad 0, the MMOD face detector "
                + "(mmod_human_face_detector) expects con 45 5×5/1 pad 2 here")
        }
        var loss = try modelBytes(Self.resnetFile)
        loss[4 + 10] = UInt8(ascii: "x")          // "loss_metric_2" → "loss_metrix_2"
        XCTAssertThrowsError(try DlibImporter.network(bytes: loss)) {
            XCTAssertEqual("\($0)", "byte 2: loss type 'loss_metrix_2' is not supported (expected loss_metric or loss_mmod)")
        }
    }

    func testLoadingByPathNamesTheFile() throws {
        let dir = NSTemporaryDirectory() + "cnnpipe-dlib-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/broken.dat"
        try Data(try modelBytes(Self.detectorFile).prefix(500)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try DlibImporter.load(path: path)) { XCTAssertTrue("\($0)".hasPrefix(path + ": layer 19: byte "), "\($0)") }
        XCTAssertThrowsError(try DlibImporter.load(path: dir + "/none.dat")) { XCTAssertEqual("\($0)", dir + "/none.dat: cannot read file") }
    }

    // MARK: parity with dlib

    struct Reference: Decodable {
        struct Chip: Decodable { let name: String; let chip: String; let descriptor: String }
        let dlib: String
        let chips: [Chip]
    }

    /// Our descriptor of dlib's own aligned chips vs dlib's compute_face_descriptor on the same chips.
    func testResNetDescriptorsMatchDlibWithin1e4() throws {
        guard let data = FileManager.default.contents(atPath: Self.references + "/cases.json") else {
            throw XCTSkip("no dlib reference data at \(Self.references) (run scripts/make-reference.sh)")
        }
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        XCTAssertGreaterThanOrEqual(reference.chips.count, 5)
        let bytes = try modelBytes(Self.resnetFile)
        for fold in [true, false] {
            let network = try DlibImporter.network(bytes: bytes, options: .init(foldAffineIntoConvolution: fold))
            let session = try Session(network.graph, threads: 2)
            for c in reference.chips {
                let chip = try NPY.read(path: Self.references + "/\(c.chip).npy")
                guard case .uint8(let pixels) = chip.storage, chip.shape == [150, 150, 3] else {
                    return XCTFail("\(c.chip): expected a 150×150×3 uint8 chip, got \(chip.shape) \(chip.elementType)")
                }
                let want = try NPY.read(path: Self.references + "/\(c.descriptor).npy").floats
                let got = try XCTUnwrap(session.run(["image": DlibImporter.inputTensor(rgb: pixels, width: 150, height: 150)])["descriptor"])
                XCTAssertEqual(got.shape, [1, 128])
                let maxDiff = zip(got.floats, want).map { abs($0 - $1) }.max() ?? .infinity
                print("dlib parity \(c.name) (fold \(fold)): max abs diff \(maxDiff) (dlib \(reference.dlib))")
                XCTAssertLessThanOrEqual(maxDiff, 1e-4, c.name)
            }
        }
    }
}
