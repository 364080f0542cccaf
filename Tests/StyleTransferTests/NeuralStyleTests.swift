import CNNRuntime
import FrameModel
import ImageIO
@testable import StyleTransfer
import XCTest

final class NeuralStyleTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let model = root + "/models/arbitrary_predict.onnx"
    static let corpus = root + "/../shared/corpus"

    static func photo(_ path: String, longest: Int) throws -> FloatImage {
        let data = try Data(contentsOf: URL(fileURLWithPath: corpus + "/" + path))
        let image = FloatImage(try Codec.decode([UInt8](data)).image.converted(to: .rgbF32))
        let scale = Double(longest) / Double(max(image.width, image.height))
        return Resampler.resize(image, width: Int(Double(image.width) * scale), height: Int(Double(image.height) * scale), filter: .lanczos3)
    }

    func neuralStyle(_ configure: (inout NeuralStyleSettings) -> Void = { _ in }) throws -> NeuralStyle {
        guard FileManager.default.fileExists(atPath: Self.model) else { throw XCTSkip("models not fetched") }
        var settings = NeuralStyleSettings(contentLayer: "Relu6__35:0",
                                           styleLayers: ["Relu6__5:0", "Relu6__10:0", "Relu6__20:0", "Relu6__35:0"].map { StyleLayer($0, weight: 1) })
        configure(&settings)
        return try NeuralStyle(model: try ONNXImporter.load(path: Self.model), settings: settings, threads: 2)
    }

    /// The gradient of the whole cost J(G) through the network agrees with finite differences along
    /// a random direction.
    func testCostGradientThroughTheNetwork() throws {
        let style = try neuralStyle()
        let content = try Self.photo("content/tubingen.jpg", longest: 48)
        let painting = try Self.photo("styles/starry_night.jpg", longest: 48)
        let targets = try style.targets(content: content, styles: [(painting, 1)])
        var x = content.samples
        for i in x.indices { x[i] = min(max(x[i] + Float(i % 7) * 0.01 - 0.03, 0), 1) }
        let (_, g) = try style.evaluate(x, width: content.width, height: content.height, targets)
        var state: UInt64 = 3
        let d = x.map { _ -> Float in state = state &* 6364136223846793005 &+ 1442695040888963407; return Float(state >> 40) / Float(1 << 24) - 0.5 }
        // Small steps: the network is piecewise linear (ReLU6), larger ones cross kinks (1e-3: +4%).
        let eps: Float = 1e-4
        let plus = try style.evaluate(zip(x, d).map { $0 + eps * $1 }, width: content.width, height: content.height, targets).0.total
        let minus = try style.evaluate(zip(x, d).map { $0 - eps * $1 }, width: content.width, height: content.height, targets).0.total
        let numeric = (plus - minus) / Double(2 * eps)
        let analytic = zip(g, d).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(analytic, numeric, accuracy: 0.01 * abs(numeric), "directional derivative")
    }
}
