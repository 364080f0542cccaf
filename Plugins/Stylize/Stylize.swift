import CNNRuntime
import Foundation
import FrameModel
import ImageIO
import PluginKit

/// Neural style transfer on CNNRuntime: the 26 built-in styles of multistyle26 (and blends of
/// them), or any painting through the Magenta arbitrary-style predictor and transformer.
final class Stylize: Stage {
    static let name = "stylize"
    static let summary = "Paint a photo in a built-in style, a blend of styles, or the style of any painting"
    static let parameters: [Parameter] = [
        .string("style", default: "0", "built-in style 0-25, or a blend such as 3:0.5,12:0.5 (weights normalised)"),
        .string("style-image", default: "", "a painting to take the style from (overrides style)"),
        .string("style-vector", default: "", "a painting's 100-number style vector, comma-separated (from a preset)"),
        .float("strength", default: 1, range: 0...1, "0 = the photo unchanged, 1 = fully stylised"),
        .bool("preserve-colour", default: false, "keep the stylised brightness but the photo's own colours"),
        .choice("resolution", ["native", "384"], default: "native",
                "painting styles: run the transformer at the photo's size, or on a 384x384 copy scaled back"),
    ]
    static let options: StageOptions = [.stateless]
    static let acceptedFormats: [PixelFormat] = [.rgbF32, .rgbaF32]
    static let maxPixels = 12_000_000

    enum Mode {
        case builtIn(BuiltInBlend)
        case painting([Float])
    }

    let mode: Mode
    let strength: Float
    let preserveColour: Bool
    let nativeResolution: Bool
    private let transformer: Session
    private let predictor: Session?

    init(_ p: ParameterValues, host: StageHost) throws {
        strength = p.float("strength")
        preserveColour = p.bool("preserve-colour")
        nativeResolution = p.string("resolution") == "native"
        let models = ModelFiles(host: host)
        if let path = p.optionalString("style-image") {
            let predictor = try models.session("arbitrary_predict", threads: host.threads)
            let painting = try Self.loadImage(path)
            mode = .painting(try Self.styleVector(of: painting, predictor))
            self.predictor = predictor
            transformer = try models.session("arbitrary_transform", threads: host.threads)
        } else if let text = p.optionalString("style-vector") {
            mode = .painting(try parseStyleVector(text))
            predictor = strength < 1 ? try models.session("arbitrary_predict", threads: host.threads) : nil
            transformer = try models.session("arbitrary_transform", threads: host.threads)
        } else {
            mode = .builtIn(try BuiltInBlend(parsing: p.string("style")))
            predictor = nil
            transformer = try models.session("multistyle26", threads: host.threads)
        }
        transformer.acceptsAnyInputSize = true
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        guard frame.width >= 32, frame.height >= 32 else {
            throw StageError("image is \(frame.width)x\(frame.height); stylize needs at least 32x32 pixels")
        }
        // Whole-image activations need about 130 bytes per pixel per live tensor; until tiled
        // processing lands, refuse what would not fit instead of exhausting memory.
        guard frame.width * frame.height <= Self.maxPixels else {
            throw StageError("image is \(frame.width)x\(frame.height) (\(frame.width * frame.height / 1_000_000) MP); stylize handles up to "
                + "\(Self.maxPixels / 1_000_000) MP for now: add 'resize width=3000' before it")
        }
        let image = frame.image
        let samples = image.floatSamples()
        let photo = PlanarRGB(interleaved: samples, width: image.width, height: image.height, channels: image.format.channels)
        var result = try stylise(photo)
        if preserveColour { result = result.withChroma(of: photo) }
        let alpha: [Float]? = image.format.hasAlpha ? stride(from: 3, to: samples.count, by: 4).map { samples[$0] } : nil
        let out = Image(width: image.width, height: image.height, format: image.format,
                        floatSamples: result.interleaved(alpha: alpha))
        var annotations = frame.annotations
        if case .painting(let vector) = mode {
            // The painting's style vector, so `--json` can turn any painting into a preset.
            annotations.tags["style-vector"] = vector.map { String(format: "%.5f", $0) }.joined(separator: ",")
        }
        try output.emit(out, annotations: annotations, like: frame)
    }

    func stylise(_ photo: PlanarRGB) throws -> PlanarRGB {
        switch mode {
        case .builtIn(let blend):
            if strength == 0 { return photo }
            let padded = photo.paddedToMultiple(of: 4)
            let out = try transformer.run(["image": padded.nchw, "style_weights": Tensor(shape: [26], floats: blend.weights)])
            let styled = PlanarRGB(width: padded.width, height: padded.height, planes: try first(out).floats)
                .cropped(width: photo.width, height: photo.height)
            return strength < 1 ? photo.mixed(with: styled, amount: strength) : styled
        case .painting(let painting):
            var vector = painting
            if strength < 1, let predictor {
                let own = try Self.styleVector(of: photo, predictor)
                vector = zip(own, painting).map { $0 + strength * ($1 - $0) }
            }
            let style = Tensor(shape: [1, 1, 1, 100], floats: vector)
            let input = nativeResolution ? photo.paddedToMultiple(of: 4) : photo.resizedBilinear(width: 384, height: 384)
            let out = try transformer.run(["content_image": input.nhwc, "mobilenet_conv/Conv/BiasAdd": style])
            let styled = PlanarRGB.fromNHWC(try first(out))
            return nativeResolution ? styled.cropped(width: photo.width, height: photo.height)
                : styled.resizedBilinear(width: photo.width, height: photo.height)
        }
    }

    private func first(_ outputs: [String: Tensor]) throws -> Tensor {
        guard let t = outputs.values.first else { throw StageError("the model produced no output") }
        return t
    }

    static func styleVector(of image: PlanarRGB, _ predictor: Session) throws -> [Float] {
        let square = image.centreSquare(side: 256)
        let out = try predictor.run(["style_image": square.nhwc])
        guard let v = out.values.first?.floats, v.count == 100 else { throw StageError("the style predictor gave no 100-number vector") }
        return v
    }

    static func loadImage(_ path: String) throws -> PlanarRGB {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StageError("style-image: cannot read \(path)")
        }
        do {
            let image = try Codec.decode([UInt8](data)).image.converted(to: .rgbF32)
            return PlanarRGB(interleaved: image.floatSamples(), width: image.width, height: image.height, channels: 3)
        } catch {
            throw StageError("style-image: \(path): \(error)")
        }
    }
}

/// Finds the model files in the host's model folder and opens sessions on them.
struct ModelFiles {
    let host: StageHost

    func session(_ name: String, threads: Int) throws -> Session {
        let dir = host.modelDirectory ?? "models"
        let path = dir + "/\(name).onnx"
        guard FileManager.default.fileExists(atPath: path) else {
            throw StageError("model \(name) not found in \(dir); run scripts/setup-models.sh to fetch it")
        }
        do { return try Session(path: path, threads: threads) } catch {
            throw StageError("\(error); run scripts/setup-models.sh to fetch the model again")
        }
    }
}

extension PlanarRGB {
    /// Bilinear resize (half-pixel centres), for the 384-pixel transformer path.
    func resizedBilinear(width w: Int, height h: Int) -> PlanarRGB {
        var p = [Float](repeating: 0, count: 3 * w * h)
        let sx = Float(width) / Float(w), sy = Float(height) / Float(h)
        let xs = (0..<w).map { x -> (Int, Int, Float) in
            let f = max(0, (Float(x) + 0.5) * sx - 0.5), i = min(Int(f), width - 1)
            return (i, min(i + 1, width - 1), f - Float(i))
        }
        for c in 0..<3 {
            for y in 0..<h {
                let fy = max(0, (Float(y) + 0.5) * sy - 0.5), y0 = min(Int(fy), height - 1), y1 = min(y0 + 1, height - 1)
                let wy = fy - Float(y0)
                let r0 = c * width * height + y0 * width, r1 = c * width * height + y1 * width, d = c * w * h + y * w
                for (x, (x0, x1, wx)) in xs.enumerated() {
                    let top = planes[r0 + x0] + wx * (planes[r0 + x1] - planes[r0 + x0])
                    let bottom = planes[r1 + x0] + wx * (planes[r1 + x1] - planes[r1 + x0])
                    p[d + x] = top + wy * (bottom - top)
                }
            }
        }
        return PlanarRGB(width: w, height: h, planes: p)
    }
}
