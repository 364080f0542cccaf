import CNNRuntime
import Foundation
import FrameModel

/// One layer whose Gram matrix the style cost compares, with its weight in the sum.
public struct StyleLayer: Sendable, Equatable {
    public var name: String
    public var weight: Float
    public init(_ name: String, weight: Float) { self.name = name; self.weight = weight }
}

/// What the classic method optimises and how.
public struct NeuralStyleSettings: Sendable {
    public enum Optimizer: String, Sendable, CaseIterable { case lbfgs, adam }
    public enum Start: String, Sendable, CaseIterable { case content, noise }

    public var contentLayer: String
    public var styleLayers: [StyleLayer]
    /// α, β and the total-variation weight of J(G) = α·J_content + β·J_style + γ·J_tv.
    public var contentWeight: Float = 1
    public var styleWeight: Float = 1000
    public var variationWeight: Float = 0.01
    public var iterations = 100
    public var optimizer = Optimizer.lbfgs
    /// Adam's step in pixel units (pixels are 0…1); L-BFGS's first step moves pixels by up to 5× this.
    public var learningRate: Float = 0.02
    public var start = Start.content
    public var seed: UInt64 = 1
    /// Coarse-to-fine levels: 1 runs at full size only; 3 runs at ¼, ½ and full size.
    public var scales = 1

    public init(contentLayer: String, styleLayers: [StyleLayer]) {
        self.contentLayer = contentLayer
        self.styleLayers = styleLayers
    }
}

/// The costs at one iteration (after the weights are applied, so they add up to `total`).
public struct StyleCostTerms: Sendable {
    public var content: Double, style: Double, variation: Double
    /// Short-term temporal consistency with the previous video frame (0 without a TemporalPrior).
    public var temporal: Double = 0
    public var total: Double { content + style + variation + temporal }
}

/// For video (Ruder et al. 2016, short-term consistency): the previous frame's result moved onto
/// this frame by the optical flow, and per pixel how far the motion can be trusted (0…1). The
/// optimisation starts from `warped` and pays weight · mean(trust · (G − warped)²) for departing from it.
public struct TemporalPrior: Sendable {
    public var warped: FloatImage
    public var trust: [Float]
    public var weight: Float
    public init(warped: FloatImage, trust: [Float], weight: Float) {
        (self.warped, self.trust, self.weight) = (warped, trust, weight)
    }

    /// The cost and its gradient for pixels G (interleaved RGB of the warped image's size).
    func cost(_ pixels: [Float]) -> (cost: Double, gradient: [Float]) {
        let n = pixels.count, scale = weight / Float(n)
        var gradient = [Float](repeating: 0, count: n)
        var sum: Double = 0
        pixels.withUnsafeBufferPointer { g in
            warped.samples.withUnsafeBufferPointer { w in
                trust.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { d in
                        for i in 0..<n {
                            let diff = g[i] - w[i], c = t[i / 3]
                            sum += Double(c * diff * diff)
                            d[i] = 2 * scale * c * diff
                        }
                    }
                }
            }
        }
        return (Double(scale) * sum, gradient)
    }
}

/// Style transfer by optimisation (Gatys et al.): gradient descent on the pixels of G so that its
/// middle-layer activations match the content photo and its Gram matrices match the painting(s).
/// Gradients come from CNNRuntime's reverse-mode differentiation of the feature network.
public final class NeuralStyle: @unchecked Sendable {
    public let settings: NeuralStyleSettings
    let network: GradientSession
    let inputName: String

    /// `model`: an image network CNNRuntime loads whose input is NHWC RGB in 0…1 (the Magenta style
    /// predictor's MobileNet by default).
    public init(model: ModelGraph, settings: NeuralStyleSettings, threads: Int) throws {
        guard let input = model.inputs.first(where: { $0.shape?.count == 4 }) else {
            throw ModelError("the feature model has no 4-D image input")
        }
        guard !settings.styleLayers.isEmpty else { throw ModelError("no style layers") }
        let produced = model.producedValues.map(\.value)
        for name in [settings.contentLayer] + settings.styleLayers.map(\.name) where !produced.contains(name) {
            let similar = ModelGraph.similarNames(to: name, in: produced)
            throw ModelError("layer '\(name)' is not in the feature model" + (similar.isEmpty ? "" : "; similar: \(similar.joined(separator: ", "))")
                             + "; list them with: cnnpipe model layers MODEL")
        }
        self.settings = settings
        inputName = input.name
        let outputs = Array(Set([settings.contentLayer] + settings.styleLayers.map(\.name))).sorted()
        network = try GradientSession(model, outputs: outputs, activationQuantization: .removed, threads: threads)
        network.session.acceptsAnyInputSize = true
    }

    /// What G is compared with, at one image size.
    struct Targets {
        var content: [Float]
        var grams: [String: [Float]]
    }

    func activations(_ pixels: [Float], width: Int, height: Int) throws -> GradientSession.Tape {
        try network.forward([inputName: Tensor(shape: [1, height, width, 3], floats: pixels)])
    }

    /// The content photo's activations and the weighted blend of the paintings' Grams; each painting
    /// is scaled to about the photo's pixel count first (so its strokes keep their size relative to G).
    func targets(content: FloatImage, styles: [(image: FloatImage, weight: Float)]) throws -> Targets {
        let c = try activations(content.samples, width: content.width, height: content.height).outputs
        var grams: [String: [Float]] = [:]
        let total = styles.reduce(0) { $0 + $1.weight }
        for (painting, weight) in styles {
            let scale = (Double(content.width * content.height) / Double(painting.width * painting.height)).squareRoot()
            let resized = Resampler.resize(painting, width: max(32, Int(Double(painting.width) * scale)),
                                           height: max(32, Int(Double(painting.height) * scale)), filter: .lanczos3)
            let s = try activations(resized.samples, width: resized.width, height: resized.height).outputs
            for layer in settings.styleLayers {
                let a = s[layer.name]!
                let g = StyleCosts.gram(a.floats, channels: a.shape[1], threads: network.session.threads)
                grams[layer.name] = zip(grams[layer.name] ?? [Float](repeating: 0, count: g.count), g).map { $0 + $1 * weight / total }
            }
        }
        return Targets(content: c[settings.contentLayer]!.floats, grams: grams)
    }

    /// J(G) and ∂J/∂G for pixels G (interleaved RGB, width × height).
    func evaluate(_ pixels: [Float], width: Int, height: Int, _ targets: Targets,
                  temporal: TemporalPrior? = nil) throws -> (StyleCostTerms, [Float]) {
        let tape = try activations(pixels, width: width, height: height)
        var seeds: [String: [Float]] = [:]
        func seed(_ name: String, _ g: [Float], _ weight: Float) {
            var sum = seeds.removeValue(forKey: name) ?? [Float](repeating: 0, count: g.count)
            sum.withUnsafeMutableBufferPointer { o in g.withUnsafeBufferPointer { p in for i in 0..<o.count { o[i] += weight * p[i] } } }
            seeds[name] = sum
        }
        let a = tape.outputs[settings.contentLayer]!
        let content = StyleCosts.content(a.floats, target: targets.content)
        seed(settings.contentLayer, content.gradient, settings.contentWeight)
        var style: Double = 0
        for layer in settings.styleLayers {
            let a = tape.outputs[layer.name]!
            let s = StyleCosts.style(a.floats, channels: a.shape[1], target: targets.grams[layer.name]!,
                                     threads: network.session.threads)
            style += Double(layer.weight) * s.cost
            seed(layer.name, s.gradient, settings.styleWeight * layer.weight)
        }
        let tv = StyleCosts.totalVariation(pixels, width: width, height: height, channels: 3)
        let seedTensors = Dictionary(uniqueKeysWithValues: seeds.map { name, g in
            (name, Tensor(shape: tape.outputs[name]!.shape, floats: g))
        })
        var gradient = try network.backward(tape, seeds: seedTensors, wrt: [inputName])[inputName]!.floats
        let gv = settings.variationWeight
        for i in gradient.indices { gradient[i] += gv * tv.gradient[i] }
        var terms = StyleCostTerms(content: Double(settings.contentWeight) * content.cost,
                                   style: Double(settings.styleWeight) * style, variation: Double(gv) * tv.cost)
        if let temporal {
            let t = temporal.cost(pixels)
            terms.temporal = t.cost
            for i in gradient.indices { gradient[i] += t.gradient[i] }
        }
        return (terms, gradient)
    }

    /// Where the run is, for progress reports: level (0-based) of `levels`, iteration, and the costs.
    public struct Progress: Sendable {
        public var level: Int, levels: Int, iteration: Int, iterations: Int
        public var costs: StyleCostTerms
    }

    /// Paints `content` in the style of the paintings (weights are normalised). `progress` is called
    /// after every iteration; returning false stops the run with the current image. `temporal`
    /// (video) applies at the full-size level: it starts from the warped previous result and adds
    /// the consistency cost.
    public func transfer(content: FloatImage, styles: [(image: FloatImage, weight: Float)], temporal: TemporalPrior? = nil,
                         progress: (Progress) -> Bool = { _ in true }) throws -> (image: FloatImage, history: [StyleCostTerms]) {
        if let temporal {
            guard temporal.warped.width == content.width, temporal.warped.height == content.height, temporal.warped.channels == 3,
                  temporal.trust.count == content.width * content.height else {
                throw ModelError("the temporal prior is not the size of the content image")
            }
        }
        guard content.channels == 3, styles.allSatisfy({ $0.image.channels == 3 }) else { throw ModelError("images must be RGB") }
        guard !styles.isEmpty, styles.allSatisfy({ $0.weight > 0 }) else { throw ModelError("no style image with a positive weight") }
        let levels = max(1, settings.scales)
        var history: [StyleCostTerms] = []
        var current: FloatImage?
        var stopped = false
        for level in 0..<levels where !stopped {
            let factor = pow(2, Double(level - levels + 1))
            let w = max(32, Int(Double(content.width) * factor)), h = max(32, Int(Double(content.height) * factor))
            let photo = w == content.width && h == content.height ? content : Resampler.resize(content, width: w, height: h, filter: .lanczos3)
            let targets = try self.targets(content: photo, styles: styles)
            let prior = level == levels - 1 ? temporal : nil
            var pixels: [Float]
            if let prior {
                pixels = prior.warped.samples
            } else if let previous = current {
                pixels = Resampler.resize(previous, width: w, height: h, filter: .bilinear).samples
            } else if settings.start == .noise {
                var state = settings.seed
                pixels = (0..<(w * h * 3)).map { _ in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return Float(state >> 40) / Float(1 << 24)
                }
            } else {
                pixels = photo.samples
            }
            let objective: LBFGS.Objective = { x in
                let (terms, gradient) = try self.evaluate(x, width: w, height: h, targets, temporal: prior)
                history.append(terms)
                return (terms.total, gradient)
            }
            func report(_ iteration: Int) -> Bool {
                let go = progress(Progress(level: level, levels: levels, iteration: iteration, iterations: settings.iterations,
                                           costs: history.last!))
                if !go { stopped = true }
                return go
            }
            switch settings.optimizer {
            case .lbfgs:
                var lbfgs = LBFGS(history: 10, learningRate: Double(settings.learningRate) * 5)
                try lbfgs.minimize(&pixels, iterations: settings.iterations, objective) { iteration, _ in report(iteration) }
            case .adam:
                var adam = Adam(learningRate: settings.learningRate)
                for iteration in 1...max(1, settings.iterations) {
                    let (_, gradient) = try objective(pixels)
                    adam.step("G", &pixels, gradient: gradient)
                    if !report(iteration) { break }
                }
            }
            for i in pixels.indices { pixels[i] = min(max(pixels[i], 0), 1) }
            current = FloatImage(width: w, height: h, channels: 3, samples: pixels)
        }
        return (current!, history)
    }
}
