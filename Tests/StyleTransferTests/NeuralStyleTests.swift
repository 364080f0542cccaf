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
        guard FileManager.default.fileExists(atPath: Self.model) else { throw XCTSkip("models not fetched: run scripts/setup-models.sh") }
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

extension NeuralStyleTests {
    /// The claim of the method, measured: after optimisation the output's style cost against the
    /// painting is far below the photo's own, while the photo's content survives (content cost small
    /// next to the style cost removed).
    func testOptimisationLowersTheStyleCostFarBelowThePhotos() throws {
        let style = try neuralStyle { $0.iterations = 40 }
        let content = try Self.photo("content/tubingen.jpg", longest: 96)
        let painting = try Self.photo("styles/starry_night.jpg", longest: 128)
        let targets = try style.targets(content: content, styles: [(painting, 1)])
        let before = try style.evaluate(content.samples, width: content.width, height: content.height, targets).0
        let (result, history) = try style.transfer(content: content, styles: [(painting, 1)])
        let after = try style.evaluate(result.samples, width: result.width, height: result.height, targets).0
        print(String(format: "style cost: photo %.4g, result %.4g (%.1f%%); content cost of the result %.4g; %d evaluations",
                     before.style, after.style, 100 * after.style / before.style, after.content, history.count))
        XCTAssertLessThan(after.style, 0.1 * before.style, "style cost must fall by 10x or more")
        XCTAssertLessThan(after.content, 0.1 * before.style)
        XCTAssertEqual(before.content, 0, accuracy: 1e-12, "the photo is its own content")
        XCTAssertEqual([result.width, result.height], [content.width, content.height])
        XCTAssertTrue(result.samples.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testSameSeedSameImage() throws {
        let style = try neuralStyle { $0.iterations = 5; $0.start = .noise; $0.seed = 42; $0.scales = 2 }
        let content = try Self.photo("content/chicago.jpg", longest: 72)
        let painting = try Self.photo("styles/the_scream.jpg", longest: 72)
        let a = try style.transfer(content: content, styles: [(painting, 1)]).image.samples
        let b = try style.transfer(content: content, styles: [(painting, 1)]).image.samples
        XCTAssertEqual(a, b)
        let other = try neuralStyle { $0.iterations = 5; $0.start = .noise; $0.seed = 43; $0.scales = 2 }
        XCTAssertNotEqual(try other.transfer(content: content, styles: [(painting, 1)]).image.samples, a)
    }

    func testAdamAlsoDescends() throws {
        let style = try neuralStyle { $0.iterations = 15; $0.optimizer = .adam; $0.learningRate = 0.02 }
        let content = try Self.photo("content/tubingen.jpg", longest: 64)
        let painting = try Self.photo("styles/great_wave.jpg", longest: 64)
        let history = try style.transfer(content: content, styles: [(painting, 1)]).history
        XCTAssertLessThan(history.last!.total, 0.5 * history.first!.total)
    }

    func testBadLayersAreClearErrors() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.model), "models not fetched: run scripts/setup-models.sh")
        XCTAssertThrowsError(try neuralStyle { $0.contentLayer = "Relu6__35" }) { error in
            XCTAssertTrue("\(error)".contains("layer 'Relu6__35' is not in the feature model"), "\(error)")
            XCTAssertTrue("\(error)".contains("similar: Relu6__35:0"), "\(error)")
        }
        XCTAssertThrowsError(try neuralStyle { $0.styleLayers = [] })
    }
}
