import Foundation
import XCTest
@testable import CNNRuntime

final class ImporterTests: XCTestCase {
    static let models = ParityTests.models

    private func modelBytes() throws -> Data {
        let small = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx"
        let path = FileManager.default.fileExists(atPath: Self.models + "/multistyle26.onnx") ? Self.models + "/multistyle26.onnx" : small
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Random bytes, truncations and bit flips of a real model: errors are fine, crashes are not.
    func testMalformedFilesAreErrorsNeverCrashes() throws {
        let data = try modelBytes()
        var rng = SystemRandomNumberGenerator()
        var errors = 0
        for n in [0, 1, 7, 100, data.count / 3, data.count / 2, data.count - 1] {
            do { _ = try Session(try ONNXImporter.load(data: data.prefix(n))) } catch { errors += 1 }
        }
        XCTAssertEqual(errors, 7, "every truncation must be refused")
        for _ in 0..<200 {
            let junk = Data((0..<Int.random(in: 0...2000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            _ = try? Session(try ONNXImporter.load(data: junk))
        }
        for _ in 0..<60 {
            var flipped = data
            for _ in 0..<4 { flipped[Int.random(in: 0..<flipped.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            if let graph = try? ONNXImporter.load(data: flipped), let session = try? Session(graph) {
                _ = try? session.run(["image": Tensor(shape: [1, 3, 16, 16], floats: Array(repeating: 0.5, count: 768)),
                                      "style_weights": Tensor(shape: [26], floats: [1] + Array(repeating: 0, count: 25))])
            }
        }
    }

    func testTruncatedModelSaysHowToFetchItAgain() throws {
        // Half of a tiny model can still be a valid protobuf: this needs a real one.
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.models + "/multistyle26.onnx"),
                          "models not fetched: run scripts/setup-models.sh")
        let dir = NSTemporaryDirectory() + "cnnpipe-models-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let whole = try modelBytes()
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/broken.onnx"))
        let models = ModelLocator(directories: [dir], fetchHint: "run the set-up")
        XCTAssertThrowsError(try models.loadONNX(dir + "/broken.onnx")) { error in
            XCTAssertTrue("\(error)".contains("run the set-up"), "\(error)")
        }
        XCTAssertThrowsError(try models.find("no-such-model")) { error in
            XCTAssertTrue("\(error)".contains("not found") && "\(error)".contains(dir) && "\(error)".contains("run the set-up"), "\(error)")
        }
    }

    func testUnsupportedOpIsAnErrorNamingTheNode() throws {
        let graph = ModelGraph(name: "t", nodes: [Node(name: "weird_node", opType: "Einsum", inputs: ["x"], outputs: ["y"])],
                               inputs: [ValueInfo(name: "x", elementType: .float, shape: [2])],
                               outputs: [ValueInfo(name: "y", elementType: .float, shape: [2])], initializers: [:], opsetVersion: 17)
        XCTAssertThrowsError(try Session(graph)) { XCTAssertEqual("\($0)", "node 'weird_node': op Einsum is not supported") }
        let conv = ModelGraph(name: "t", nodes: [Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                                                      attributes: ["frobnicate": .int(1)])],
                              inputs: [ValueInfo(name: "x", elementType: .float, shape: [1, 1, 4, 4])],
                              outputs: [ValueInfo(name: "y", elementType: .float, shape: nil)],
                              initializers: ["w": Tensor(shape: [1, 1, 1, 1], floats: [1])], opsetVersion: 17)
        XCTAssertThrowsError(try Session(conv)) { XCTAssertEqual("\($0)", "node 'c' (Conv): attribute 'frobnicate' is not supported") }
    }

    /// QuantizeLinear rounds half to even and saturates, like ONNX Runtime.
    func testQuantizeRoundsHalfToEvenAndSaturates() throws {
        let q = try QuantizeKernel(AttributeReader(Node(name: "q", opType: "QuantizeLinear", inputs: [], outputs: [])))
        let x = Tensor(shape: [8], floats: [0.5, 1.5, 2.5, -0.5, -1.5, 300, -300, 254.5])
        let ctx = ExecutionContext(threads: 1)
        let u8 = try q.run([x, .scalar(1), Tensor(shape: [], storage: .uint8([0]))], ctx)[0]
        XCTAssertEqual(u8.int64s, [0, 2, 2, 0, 0, 255, 0, 254])
        let i8 = try q.run([x, .scalar(1), Tensor(shape: [], storage: .int8([0]))], ctx)[0]
        XCTAssertEqual(i8.int64s, [0, 2, 2, 0, -2, 127, -128, 127])
        // The fused Q→DQ gives exactly what the two ops give.
        let fq = FakeQuantKernel(scale: 0.1, zeroPoint: 3, lo: 0, hi: 255)
        // Many values (the vector path), including exact ties k·0.1 + 0.05 and values beyond the range.
        let values = (0..<1003).map { Float($0 - 100) * 0.05 } + [-1, 100, 0.25]
        let y = Tensor(shape: [values.count], floats: values)
        let direct = try DequantizeKernel(AttributeReader(Node(name: "d", opType: "DequantizeLinear", inputs: [], outputs: [])))
            .run([try q.run([y, .scalar(0.1), Tensor(shape: [], storage: .uint8([3]))], ctx)[0], .scalar(0.1),
                  Tensor(shape: [], storage: .uint8([3]))], ctx)[0]
        XCTAssertEqual(try fq.run([y], ctx)[0].floats, direct.floats)
    }

    func testNPYRoundTrip() throws {
        let t = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6.5])
        let back = try NPY.decode(NPY.encode(t))
        XCTAssertEqual(back.shape, [2, 3])
        XCTAssertEqual(back.floats, t.floats)
        XCTAssertThrowsError(try NPY.decode(Array(NPY.encode(t).prefix(20))))
    }
}
