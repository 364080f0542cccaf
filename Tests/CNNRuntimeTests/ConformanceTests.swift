import Foundation
import XCTest
@testable import CNNRuntime

/// Runs the ONNX backend test data (Debian libonnx-testdata) through CNNRuntime. Every test whose
/// ops are all supported must pass; the rest are skipped with the reason, and all are listed.
final class ConformanceTests: XCTestCase {
    static let root = "/usr/share/libonnx-testdata/data"
    static let suites = ["node", "pytorch-converted", "pytorch-operator", "simple"]

    /// Features of supported ops that are deliberately not implemented (skipped, with this reason).
    /// Features of supported ops that are deliberately not implemented: (test name prefix, contains, reason).
    static let knownUnsupported: [(String, String, String)] = [
        ("test_resize_", "cubic", "Resize cubic mode is not implemented (nearest and linear are)"),
        ("test_resize_", "antialias", "Resize antialias is not implemented"),
        ("test_resize_", "keep_aspect_ratio", "Resize keep_aspect_ratio_policy is not implemented"),
        ("test_resize_", "_axes_", "Resize with an axes attribute is not implemented"),
        ("test_resize_", "tf_crop_and_resize", "Resize tf_crop_and_resize (region of interest) is not implemented"),
        ("test_maxpool_with_argmax", "", "MaxPool's Indices output is not implemented"),
        ("test_maxpool_2d_uint8", "", "uint8 pooling is not implemented"),
        ("test_batchnorm_", "training_mode", "training-mode BatchNormalization is not implemented"),
        ("test_wrap_pad", "", "Pad wrap mode is not implemented"),
    ]

    enum Outcome { case passed, failed(String), skipped(String) }

    func testONNXBackendConformance() throws {
        guard FileManager.default.fileExists(atPath: Self.root) else {
            throw XCTSkip("libonnx-testdata is not installed (scripts/setup.sh installs it)")
        }
        var passed: [String] = [], failed: [(String, String)] = [], skipped: [(String, String)] = []
        for suite in Self.suites {
            let dir = Self.root + "/" + suite
            for test in (try FileManager.default.contentsOfDirectory(atPath: dir)).sorted() {
                let name = "\(suite)/\(test)"
                switch run(dir + "/" + test) {
                case .passed: passed.append(name)
                case .failed(let why): failed.append((name, why))
                case .skipped(let why): skipped.append((name, why))
                }
            }
        }
        var report = "ONNX backend conformance:\n"
        for (n, why) in skipped { report += "  skipped \(n): \(why)\n" }
        for (n, why) in failed { report += "  FAILED \(n): \(why)\n" }
        report += "conformance: \(passed.count) passed, \(failed.count) failed, \(skipped.count) skipped\n"
        print(report)
        // The ops with the most demanding tests must really have run.
        for required in ["node/test_conv_with_strides_padding", "node/test_maxpool_3d_default", "node/test_averagepool_1d_default",
                         "node/test_convtranspose_3d", "node/test_quantizelinear", "node/test_dequantizelinear",
                         "node/test_resize_upsample_scales_linear", "node/test_instancenorm_example"] {
            XCTAssertTrue(passed.contains(required), "\(required) did not pass")
        }
        XCTAssertEqual(failed.count, 0, failed.map { "\($0.0): \($0.1)" }.joined(separator: "\n"))
        XCTAssertGreaterThan(passed.count, 300)
    }

    private func run(_ dir: String) -> Outcome {
        let name = (dir as NSString).lastPathComponent
        let graph: ModelGraph
        do { graph = try ONNXImporter.load(path: dir + "/model.onnx") } catch {
            return .skipped("import: \(error)")            // e.g. double, string or float16 tensors
        }
        let unsupported = Set(graph.nodes.map(\.opType)).subtracting(OpRegistry.supported)
        if !unsupported.isEmpty { return .skipped("ops not supported: \(unsupported.sorted().joined(separator: ", "))") }
        if let rule = Self.knownUnsupported.first(where: { name.hasPrefix($0.0) && ($0.1.isEmpty || name.contains($0.1)) }) {
            return .skipped(rule.2)
        }
        if let io = (graph.inputs + graph.outputs).first(where: { $0.elementType == nil }) {
            return .skipped("value '\(io.name)' has an element type the runtime does not support")
        }
        let session: Session
        do { session = try Session(graph, threads: 2) } catch { return .failed("prepare: \(error)") }
        let sets = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { return .skipped("no test data") }
        for set in sets {
            let path = dir + "/" + set
            do {
                var feeds: [String: Tensor] = [:]
                for (i, info) in graph.inputs.enumerated() {
                    let file = path + "/input_\(i).pb"
                    guard let data = FileManager.default.contents(atPath: file) else { break }   // optional input left out
                    feeds[info.name] = try ONNXImporter.tensor(serialized: data).tensor
                }
                let outputs = try session.run(feeds)
                for (i, info) in graph.outputs.enumerated() {
                    guard let data = FileManager.default.contents(atPath: path + "/output_\(i).pb") else { continue }
                    let expected = try ONNXImporter.tensor(serialized: data).tensor
                    guard let got = outputs[info.name] else { return .failed("\(set): output \(info.name) missing") }
                    if let problem = compare(got, expected) { return .failed("\(set) output \(info.name): \(problem)") }
                }
            } catch {
                return .failed("\(set): \(error)")
            }
        }
        return .passed
    }

    /// The ONNX backend's tolerance: |got − expected| ≤ atol + rtol·|expected| (rtol 1e-3, atol 1e-7); integers exact.
    private func compare(_ got: Tensor, _ expected: Tensor) -> String? {
        guard got.shape == expected.shape else { return "shape \(got.shape), expected \(expected.shape)" }
        guard got.elementType == expected.elementType else { return "type \(got.elementType), expected \(expected.elementType)" }
        if expected.elementType != .float {
            let a = got.int64s, b = expected.int64s
            if let i = a.indices.first(where: { a[$0] != b[$0] }) { return "element \(i) is \(a[i]), expected \(b[i])" }
            return nil
        }
        let a = got.floats, b = expected.floats
        for i in a.indices {
            if b[i].isNaN && a[i].isNaN { continue }
            if abs(a[i] - b[i]) > 1e-7 + 1e-3 * abs(b[i]) || a[i].isNaN != b[i].isNaN {
                return "element \(i) is \(a[i]), expected \(b[i])"
            }
        }
        return nil
    }
}
