import Foundation
import XCTest
@testable import CNNRuntime

/// Opt-in bf16 convolutions: close to fp32 on a single convolution and on multistyle26, and a clean
/// fallback to fp32 (with the note) where the CPU has no bf16.
final class BF16PrecisionTests: XCTestCase {
    override func setUpWithError() throws {
        guard DNNL.library != nil, DNNL.available else { throw XCTSkip("oneDNN (libdnnl.so.2) is not loaded") }
    }

    private func requireHardwareBF16() throws {
        if let reason = BF16Support.missingReason { throw XCTSkip(reason) }
    }

    func testBF16ConvolutionStaysWithinBF16RoundingOfFP32() throws {
        try requireHardwareBF16()
        let graph = Self.convolutionGraph(input: [1, 32, 24, 20], weights: [48, 32, 3, 3])
        let feeds = ["x": Tensor.deterministic([1, 32, 24, 20], seed: 1)]
        let fp32 = try XCTUnwrap(try Session(graph, threads: 2).run(feeds)["y"])
        let session = try Session(graph, threads: 2, precision: .bf16)
        XCTAssertEqual(session.precision, .bf16)
        XCTAssertNil(session.precisionNote)
        let bf16 = try XCTUnwrap(try session.run(feeds)["y"])
        XCTAssertEqual(bf16.shape, fp32.shape)
        // bf16 keeps 8 significant bits: each rounded input and weight is off by at most 2^-9
        // relatively, so the error over the whole output is a few 2^-9 of its size.
        let error = Self.relativeError(bf16.floats, fp32.floats)
        print("bf16 conv: relative L2 error \(error)")
        XCTAssertGreaterThan(error, 0, "identical to fp32: bf16 did not run")
        XCTAssertLessThan(error, 8e-3)
        let conv = try XCTUnwrap(session.steps.lazy.compactMap { $0.kernel as? ConvKernel }.first)
        XCTAssertEqual(conv.precision, .bf16)
    }

    func testMultistyle26InBF16IsWithin40dBOfFP32() throws {
        try requireHardwareBF16()
        let model = ParityTests.models + "/multistyle26.onnx"
        guard FileManager.default.fileExists(atPath: model) else { throw XCTSkip("no \(model)") }
        let fp32 = try Session(path: model, threads: 2)
        let bf16 = try Session(path: model, threads: 2, precision: .bf16)
        for name in ["multistyle26-256x256-s7", "multistyle26-256x256-blend3-12"] {
            let image = ParityTests.references + "/\(name)-image.npy"
            guard FileManager.default.fileExists(atPath: image) else { throw XCTSkip("no reference photo \(image)") }
            let feeds = ["image": try NPY.read(path: image),
                         "style_weights": try NPY.read(path: ParityTests.references + "/\(name)-style_weights.npy")]
            let expected = try XCTUnwrap(try fp32.run(feeds).values.first)
            let got = try XCTUnwrap(try bf16.run(feeds).values.first)
            let psnr = Self.psnr(got.floats, expected.floats)
            print("bf16 \(name): PSNR \(psnr) dB against fp32")
            XCTAssertGreaterThanOrEqual(psnr, 40, name)
        }
    }

    func testWithoutBF16HardwareTheSessionRunsFP32AndSaysSo() throws {
        let saved = BF16Support.pretendMissing
        defer { BF16Support.pretendMissing = saved }
        BF16Support.pretendMissing = true
        let graph = Self.convolutionGraph(input: [1, 16, 12, 12], weights: [16, 16, 3, 3])
        let feeds = ["x": Tensor.deterministic([1, 16, 12, 12], seed: 4)]
        let session = try Session(graph, threads: 2, precision: .bf16)
        XCTAssertEqual(session.precision, .fp32)
        XCTAssertEqual(session.precisionChoice.requested, .bf16)
        XCTAssertEqual(session.precisionNote, "bf16 needs avx512_bf16 or AMX; running fp32")
        let fallback = try XCTUnwrap(try session.run(feeds)["y"])
        let fp32 = try XCTUnwrap(try Session(graph, threads: 2).run(feeds)["y"])
        XCTAssertEqual(fallback.floats, fp32.floats)
    }

    func testFP32SessionHasNoNote() throws {
        let session = try Session(Self.convolutionGraph(input: [1, 4, 8, 8], weights: [4, 4, 3, 3]), threads: 1)
        XCTAssertEqual(session.precision, .fp32)
        XCTAssertNil(session.precisionNote)
    }

    /// Conv (3×3, pad 1, bias) followed by Relu, which the session fuses.
    static func convolutionGraph(input: [Int], weights: [Int]) -> ModelGraph {
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                 attributes: ["pads": .ints([1, 1, 1, 1])]),
            Node(name: "act", opType: "Relu", inputs: ["c"], outputs: ["y"]),
        ]
        return ModelGraph(name: "bf16", nodes: nodes, inputs: [ValueInfo(name: "x", elementType: .float, shape: input)],
                          outputs: [ValueInfo(name: "y", elementType: .float, shape: nil)],
                          initializers: ["w": Tensor.deterministic(weights, seed: 2), "b": Tensor.deterministic([weights[0]], seed: 3)], opsetVersion: 13)
    }

    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        var diff = 0.0, norm = 0.0
        for (x, y) in zip(a, b) { diff += Double((x - y) * (x - y)); norm += Double(y * y) }
        return (diff / max(norm, .leastNonzeroMagnitude)).squareRoot()
    }

    /// PSNR for values in 0…1 (multistyle26's output range).
    static func psnr(_ a: [Float], _ b: [Float]) -> Double {
        let mse = zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(max(1, a.count))
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }
}
