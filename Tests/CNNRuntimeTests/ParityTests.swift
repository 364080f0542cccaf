import Foundation
import XCTest
@testable import CNNRuntime

/// cnnpipe's runtime against ONNX Runtime on the real models and real photos. The reference
/// outputs come from scripts/make-reference.sh (ONNX Runtime, run by scripts/test.sh before the tests).
final class ParityTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let references = ProcessInfo.processInfo.environment["CNNPIPE_REFERENCE"] ?? root + "/.build-reference"
    static let models = ProcessInfo.processInfo.environment["CNNPIPE_MODELS"] ?? root + "/models"

    struct Case: Decodable {
        let name: String
        let model: String
        let inputs: [String: String]
        let output: String
        let tolerance: Float
    }

    static func cases() throws -> [Case] {
        let file = Self.references + "/cases.json"
        guard let data = FileManager.default.contents(atPath: file) else {
            throw XCTSkip("no reference data at \(Self.references) (run scripts/make-reference.sh)")
        }
        struct All: Decodable { let cases: [Case] }
        return try JSONDecoder().decode(All.self, from: data).cases
    }

    private func compare(_ c: Case) throws -> (maxDiff: Float, meanDiff: Float, psnr: Double) {
        let session = try Session(path: Self.models + "/\(c.model).onnx", threads: 2)
        var feeds: [String: Tensor] = [:]
        for (name, file) in c.inputs { feeds[name] = try NPY.read(path: Self.references + "/\(file).npy") }
        let got = try XCTUnwrap(try session.run(feeds).values.first)
        let expected = try NPY.read(path: Self.references + "/\(c.output).npy")
        XCTAssertEqual(got.shape, expected.shape, c.name)
        let a = got.floats, b = expected.floats
        var maxDiff: Float = 0, sum: Double = 0, sq: Double = 0
        for i in a.indices {
            let d = abs(a[i] - b[i])
            maxDiff = max(maxDiff, d); sum += Double(d); sq += Double(d * d)
        }
        let mse = sq / Double(a.count)
        return (maxDiff, Float(sum / Double(a.count)), mse == 0 ? .infinity : 10 * log10(1 / mse))
    }

    func testMultistyle26MatchesONNXRuntimeWithin1e4() throws {
        let all = try Self.cases().filter { $0.model == "multistyle26" }
        XCTAssertGreaterThanOrEqual(all.count, 7)
        for c in all {
            let r = try compare(c)
            print("parity \(c.name): max abs diff \(r.maxDiff)")
            XCTAssertLessThanOrEqual(r.maxDiff, 1e-4, c.name)
        }
    }

    /// The int8 QDQ models. Quantization steps amplify any float rounding difference: an activation
    /// that lands within an ulp of a rounding boundary can end one step (here ~0.04) apart, and that
    /// step travels on through later layers. ONNX Runtime differs from itself by that much between its
    /// own optimisation levels (0.04 on the predictor; 0.50 on CPUs without VNNI, where its int8 kernels
    /// saturate, so the references come from its unoptimised run: the QDQ nodes as the spec defines
    /// them). So these assert closeness in bulk, and the closing note reports the max abs difference.
    func testMagentaQDQModelsMatchONNXRuntimeClosely() throws {
        let all = try Self.cases().filter { $0.model != "multistyle26" }
        XCTAssertEqual(all.count, 4)
        for c in all {
            let r = try compare(c)
            print("parity \(c.name): max abs diff \(r.maxDiff), mean \(r.meanDiff), PSNR \(String(format: "%.1f", r.psnr)) dB")
            if c.model == "arbitrary_predict" {
                // With the integer convolutions the style vector is within one output step (0.0199) of
                // ONNX Runtime's; the float path is within a few (values span about ±3).
                XCTAssertLessThanOrEqual(r.maxDiff, Session.integerConvolutions ? 0.0199 * 1.001 : 0.1, c.name)
            } else {
                XCTAssertLessThanOrEqual(r.meanDiff, 0.05, c.name)    // image in 0..1
                XCTAssertGreaterThan(r.psnr, 25, c.name)
            }
        }
    }
}
