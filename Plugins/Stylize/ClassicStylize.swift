import CNNRuntime
import Foundation
import FrameModel
import PluginKit
import StyleTransfer

/// The classic method (Gatys et al.): optimises the pixels of the output so that a middle layer of a
/// trained CNN sees the photo's content and the Gram matrices of several layers see the painting's
/// style. Any painting at full quality, but minutes per image instead of a second.
final class ClassicStylize: Stage {
    static let name = "stylize-classic"
    static let summary = "Style transfer by optimisation: gradient descent on the pixels (slow; any painting, several blended)"
    enum Optimizer: String, CaseIterable { case lbfgs, adam }
    enum Start: String, CaseIterable { case content, noise }
    static let styleImage = Param<[Weighted]>(required: "style-image",
                                              list: "painting(s) to take the style from: PATH or PATH:WEIGHT,PATH:WEIGHT,... (weights normalised)",
                                              count: 1...64).filePath()
    static let contentWeight = Param<Float>("content-weight", default: 1, range: 0...1e6, "α: weight of the content cost")
    static let styleWeight = Param<Float>("style-weight", default: 1000, range: 0...1e9, "β: weight of the style cost")
    static let tvWeight = Param<Float>("tv-weight", default: 0.01, range: 0...1e6, "weight of the total-variation cost (smoothness)")
    static let iterations = Param<Int>("iterations", default: 100, range: 1...10_000, "optimisation steps per scale")
    static let optimizer = Param<Optimizer>("optimizer", default: .lbfgs, "L-BFGS (fewer, surer steps) or Adam")
    static let learningRate = Param<Float>("learning-rate", default: 0.02, range: 1e-5...10, "Adam's step in pixel units (pixels are 0-1)")
    static let start = Param<Start>("init", default: .content, "start from the photo or from random noise")
    static let seed = Param<Int>("seed", default: 1, range: 0...Int(Int32.max), "random seed of the noise start")
    static let size = Param<Int>("size", default: 512, range: 0...4096, "longest side of the output in pixels; 0 = the photo's size")
    static let scales = Param<Int>("scales", default: 1, range: 1...4, "coarse-to-fine levels (2: half size, then full size)")
    static let preserveColour = Param<Bool>("preserve-colour", default: false, "keep the photo's own colours (the result's brightness only)")
    static let featureModel = Param<String>("feature-model", default: "arbitrary_predict",
                                            "the CNN whose layers define content and style (model name or ONNX path)").filePath()
    static let contentLayer = Param<String>("content-layer", default: ClassicLayers.content, "layer for the content cost")
    static let styleLayers = Param<[Weighted]>("style-layers", list: "layers for the style cost, NAME:WEIGHT,...",
                                               default: ClassicLayers.styleText, count: 1...64)
    static let temporal = Param<Temporal>("temporal", default: .off,
                                          "video: off = each frame on its own; stable = each frame starts from the previous result moved by the optical flow "
                                          + "and pays temporal-weight for departing from it where the motion is reliable (Ruder et al. 2016; reset at a scene cut)")
    static let temporalWeight = Param<Float>("temporal-weight", default: 2000, range: 0...1e9, "temporal=stable: weight of the consistency cost")
    static let costsCSV = Param<String?>("costs-csv",
                                         "append every iteration's costs to this CSV file (image,scale,iteration,content,style,tv,temporal,total)").filePath()
    static let parameters = Parameter.list(styleImage, contentWeight, styleWeight, tvWeight, iterations, optimizer, learningRate, start,
                                           seed, size, scales, preserveColour, featureModel, contentLayer, styleLayers, temporal,
                                           temporalWeight, TemporalState.sceneCut, costsCSV)
    /// One instance, frames in stream order: each run already uses every thread, and costs-csv numbers the images.
    static let options: StageOptions = []

    let style: NeuralStyle
    let paintings: [(image: FloatImage, weight: Float)]
    let size: Int
    let preserveColour: Bool
    let costsFile: String?
    let host: StageHost
    private var imageCount = 0
    let temporal: Bool
    let temporalWeight: Float, sceneCut: Float
    /// temporal=stable: the last frame's brightness, colour signature and result.
    private var state = TemporalState()

    init(_ p: ParameterValues, host: StageHost) throws {
        self.host = host
        size = try p[Self.size]
        preserveColour = try p[Self.preserveColour]
        costsFile = try p[Self.costsCSV]
        temporal = try p[Self.temporal] == .stable
        temporalWeight = try p[Self.temporalWeight]
        sceneCut = try p[TemporalState.sceneCut]
        paintings = try Self.positive(try p[Self.styleImage], "style-image").map { painting in
            (try Stylize.loadImage(painting.name).floatImage, painting.weight)
        }
        var settings = NeuralStyleSettings(contentLayer: try p[Self.contentLayer],
                                           styleLayers: try Self.positive(try p[Self.styleLayers], "style-layers")
                                               .map { StyleLayer($0.name, weight: $0.weight) })
        settings.contentWeight = try p[Self.contentWeight]
        settings.styleWeight = try p[Self.styleWeight]
        settings.variationWeight = try p[Self.tvWeight]
        settings.iterations = try p[Self.iterations]
        settings.optimizer = try p[Self.optimizer] == .adam ? .adam : .lbfgs
        settings.learningRate = try p[Self.learningRate]
        settings.start = try p[Self.start] == .noise ? .noise : .content
        settings.seed = UInt64(try p[Self.seed])
        settings.scales = try p[Self.scales]
        let model = try p[Self.featureModel]
        let path: String
        if model.hasSuffix(".onnx") {
            guard FileManager.default.fileExists(atPath: model) else { throw StageError("feature-model: \(model) not found") }
            path = model
        } else {
            do { path = try host.modelPath(model + ".onnx") } catch { throw StageError("feature-model: \(error)") }
        }
        do {
            style = try NeuralStyle(model: try ONNXImporter.load(path: path), settings: settings, threads: host.threads)
        } catch let e as ModelError { throw StageError("\(e)") }
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        guard frame.width >= 32, frame.height >= 32 else {
            throw StageError("image is \(frame.width)x\(frame.height); stylize-classic needs at least 32x32 pixels")
        }
        let (photo, _) = PlanarRGB.split(frame.image)
        var content = photo.floatImage
        let longest = max(content.width, content.height)
        if size > 0 && size != longest {
            let scale = Double(size) / Double(longest)
            content = Resampler.resize(content, width: max(32, Int((Double(content.width) * scale).rounded())),
                                       height: max(32, Int((Double(content.height) * scale).rounded())), filter: .lanczos3)
        }
        let settings = style.settings
        let total = Double(settings.iterations * settings.scales)
        imageCount += 1
        var rows: [String] = []
        let planarContent = temporal || preserveColour ? PlanarRGB(content) : nil
        let gray = temporal ? planarContent.map(MotionBlend.gray) : nil, signature = temporal ? planarContent.map(SceneSignature.of) : nil
        var prior: TemporalPrior?
        if let gray, let signature, !state.isSceneCut(signature, threshold: sceneCut),
           let motion = state.motion(to: gray, width: content.width, height: content.height) {
            prior = TemporalPrior(warped: motion.warped.floatImage, trust: motion.trust, weight: temporalWeight)
        }
        let (result, _) = try style.transfer(content: content, styles: paintings, temporal: prior) { p in
            rows.append(String(format: "%d,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g", imageCount, p.level + 1, p.iteration,
                               p.costs.content, p.costs.style, p.costs.variation, p.costs.temporal, p.costs.total))
            host.progress(Double(p.level * p.iterations + p.iteration), of: total)
            if p.iteration % 10 == 0 || p.iteration == p.iterations {
                host.log(String(format: "scale %d/%d iteration %d: J %.4g = content %.4g + style %.4g + tv %.4g",
                                p.level + 1, p.levels, p.iteration, p.costs.total, p.costs.content, p.costs.style, p.costs.variation))
            }
            return !host.isCancelled
        }
        if host.isCancelled { throw StageError("cancelled") }
        if let costsFile { try Self.append(rows, to: costsFile) }
        var planar = PlanarRGB(result)
        if let gray, let signature { state = TemporalState(signature: signature, gray: gray, output: planar) }
        if preserveColour, let planarContent { planar = planar.withChroma(of: planarContent) }
        let sx = Double(result.width) / Double(frame.width), sy = Double(result.height) / Double(frame.height)
        let annotations = frame.annotations.mappingFaces { .init(x: $0.x * sx, y: $0.y * sy) }
        try output.emit(planar.image(frame.format.hasAlpha ? .rgb8 : frame.format, alpha: nil), annotations: annotations, like: frame)
    }

    static func append(_ rows: [String], to path: String) throws {
        let header = FileManager.default.fileExists(atPath: path) ? "" : "image,scale,iteration,content,style,tv,temporal,total\n"
        let text = header + rows.map { $0 + "\n" }.joined()
        guard let handle = FileHandle(forWritingAtPath: path) ?? (FileManager.default.createFile(atPath: path, contents: nil)
                                                                 ? FileHandle(forWritingAtPath: path) : nil) else {
            throw StageError("costs-csv: cannot write \(path)")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// The items, refused when one has weight 0 (a layer named "X:0" needs its weight after it: "X:0:1").
    static func positive(_ items: [Weighted], _ what: String) throws -> [Weighted] {
        if let zero = items.first(where: { $0.weight == 0 }) {
            throw StageError("\(what): weight 0 for '\(zero.name)' (a name ending in ':0' needs a weight after it, e.g. \(zero.name):0:1)")
        }
        return items
    }
}

/// The default layers of the Magenta style predictor's MobileNetV2 (see docs/CLASSIC-STYLE.md).
enum ClassicLayers {
    static let content = "Relu6__35:0"
    static let style: [(String, Float)] = [("Relu6__5:0", 1), ("Relu6__10:0", 1), ("Relu6__20:0", 1), ("Relu6__35:0", 1), ("Relu6__60:0", 1)]
    static let styleText = style.map { "\($0.0):\($0.1)" }.joined(separator: ",")
}
