import CNNPipeABI
import CNNRuntime
import Foundation
import Synchronization
import FrameModel
import ImageIO
import PluginKit

/// Neural style transfer on CNNRuntime: the 26 built-in styles of multistyle26 (and blends of
/// them), or any painting through the Magenta arbitrary-style predictor and transformer.
final class Stylize: Stage {
    static let name = "stylize"
    static let summary = "Paint a photo in a built-in style, a blend of styles, or the style of any painting"
    enum Resolution: String, CaseIterable { case native, fixed = "384" }
    enum TileStatistics: String, CaseIterable { case image, tile }
    static let style = Param<[Weighted]>("style", list: "built-in style by number or name, or a blend such as swirls:0.5,ember:0.5 "
                                         + "(weights normalised): \(BuiltInBlend.catalogue)",
                                         default: "0", count: 1...BuiltInBlend.count)
    static let styleImage = Param<String?>("style-image", "a painting to take the style from (overrides style)").filePath()
    static let styleVector = Param<[Float]>("style-vector", list: "a painting's 100-number style vector, comma-separated (from a preset)",
                                            count: 0...100)
    static let strength = Param<Float>("strength", default: 1, range: 0...1, "0 = the photo unchanged, 1 = fully stylised")
    static let preserveColour = Param<Bool>("preserve-colour", default: false, "keep the stylised brightness but the photo's own colours")
    static let resolution = Param<Resolution>("resolution", default: .native,
                                              "painting styles: run the transformer at the photo's size, or on a 384x384 copy scaled back")
    static let tileSize = Param<Int>("tile-size", default: 0, range: 0...16384,
                                     "process in overlapping tiles of this size; 0 = automatic (tiles of 1024 above 4 MP)")
    static let tileStatistics = Param<TileStatistics>("tile-statistics", default: .image,
                                                      "tiles normalised with the whole image's statistics (measured over the tiles: no seams), "
                                                      + "or each tile with its own (tone changes from tile to tile; for comparison)")
    static let temporal = Param<Temporal>("temporal", default: .off,
                                          "video: off = each frame on its own; stable = frames in stream order, the network's statistics "
                                          + "carried from frame to frame (moving average, reset at a scene cut)").statefulUnlessDefault()
    static let smoothing = Param<Float>("smoothing", default: 0.9, range: 0...0.99,
                                        "temporal=stable: weight of the earlier frames' statistics in the moving average")
    static let blend = Param<Float>("blend", default: 0.9, range: 0...0.99,
                                    "temporal=stable: weight of the previous stylised frame, moved by the optical flow, where the motion is reliable")
    static let precision = Param<Precision>("precision", default: .fp32,
                                            "convolutions in float32, or bfloat16 (faster with avx512_bf16 or AMX; falls back to fp32 without)")
    static let parameters = Parameter.list(style, styleImage, styleVector, strength, preserveColour, resolution, tileSize, tileStatistics,
                                           temporal, smoothing, TemporalState.sceneCut, blend, precision)
    // temporal=stable: stateful, but the next frame's network starts while this one's finishes.
    static let options: StageOptions = [.stateless, .overlapping]
    static let acceptedFormats: [PixelFormat] = [.rgb8, .rgba8, .rgb16, .rgba16, .rgbF32, .rgbaF32]
    /// Largest image the network runs on at once (about 470 bytes of activations per pixel: 1.9 GB).
    static let untiledPixels = 4_000_000
    static let automaticTileSize = 1024

    enum Mode {
        case builtIn(BuiltInBlend)
        case painting([Float])
    }

    let mode: Mode
    let strength: Float
    let preserveColour: Bool
    let nativeResolution: Bool
    let tileSize: Int
    let tileStatistics: TileStatistics
    let temporal: Bool
    let smoothing: Float
    let sceneCut: Float
    let blend: Float
    let host: StageHost
    private let frames = Mutex(StableFrames())
    /// One session per frame in flight (temporal=stable runs two frames at once on one instance).
    private let transformer: SessionPool
    private let predictor: SessionPool?

    init(_ p: ParameterValues, host: StageHost) throws {
        strength = try p[Self.strength]
        preserveColour = try p[Self.preserveColour]
        nativeResolution = try p[Self.resolution] == .native
        tileSize = try p[Self.tileSize]
        tileStatistics = try p[Self.tileStatistics]
        temporal = try p[Self.temporal] == .stable
        smoothing = try p[Self.smoothing]
        sceneCut = try p[TemporalState.sceneCut]
        blend = try p[Self.blend]
        self.host = host
        let models = ModelFiles(host: host, precision: try p[Self.precision])
        let vector = try p[Self.styleVector]
        if let path = try p[Self.styleImage] {
            let predictor = try models.pool("arbitrary_predict")
            let painting = try Self.loadImage(path)
            mode = .painting(try predictor.run { try Self.styleVector(of: painting, $0) })
            self.predictor = predictor
            transformer = try models.pool("arbitrary_transform", anyInputSize: true)
        } else if !vector.isEmpty {
            guard vector.count == 100 else { throw StageError("style-vector: needs 100 comma-separated numbers, got \(vector.count)") }
            mode = .painting(vector)
            predictor = strength < 1 ? try models.pool("arbitrary_predict") : nil
            transformer = try models.pool("arbitrary_transform", anyInputSize: true)
        } else {
            mode = .builtIn(try BuiltInBlend(try p[Self.style]))
            predictor = nil
            transformer = try models.pool("multistyle26", anyInputSize: true)
        }
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        guard frame.width >= 32, frame.height >= 32 else {
            throw StageError("image is \(frame.width)x\(frame.height); stylize needs at least 32x32 pixels")
        }
        // Straight from the packed pixels to planes and back (big photos: few whole-image copies alive).
        let (photo, alpha) = PlanarRGB.split(frame.image)
        var result = try temporal ? stabilised(photo, output) : stylise(photo)
        if preserveColour { result = result.withChroma(of: photo) }
        let out = result.image(frame.format, alpha: alpha)
        var annotations = frame.annotations
        if case .painting(let vector) = mode {
            // The painting's style vector, so `--json` can turn any painting into a preset.
            annotations.tags["style-vector"] = vector.map { String(format: "%.5f", $0) }.joined(separator: ",")
        }
        try output.emit(out, annotations: annotations, like: frame)
    }

    /// One frame of a video: the statistics are the moving average over the frames since the last
    /// scene cut, and the previous result, moved along the motion, is blended in where it is reliable.
    private func stabilised(_ photo: PlanarRGB, _ output: Output) throws -> PlanarRGB {
        let signature = SceneSignature.of(photo)
        let gray = blend > 0 ? MotionBlend.gray(photo) : nil
        // While the previous frame may still be running: the network, on the statistics of the frame
        // before it, and the motion from the previous frame when its brightness is known already.
        let position = output.awaitTurn(lag: 1) ?? frames.withLock { f in
            defer { f.unnumbered += 1 }
            return f.unnumbered
        }
        let (base, previousGray) = frames.withLock { f in
            if let gray { f.grays[position] = gray }
            return (f.statistics(upTo: position - 2), f.grays[position - 1])
        }
        var statistics = SpatialStatistics.smoothing(base.statistics, weight: smoothing)
        var styled: Result<PlanarRGB, Error> = .failure(StageError("not run"))
        var early: MotionBlend.Motion?
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 {
                styled = Result { try stylise(photo, statistics: statistics) }
            } else if let gray, let previousGray, previousGray.width == gray.width, previousGray.height == gray.height {
                early = MotionBlend.motion(from: previousGray, to: gray)
            }
        }

        // In stream order from here.
        _ = output.awaitTurn(lag: 0)
        var (last, lastPosition, scene) = frames.withLock { ($0.last, $0.lastPosition, $0.scene) }
        if last.isSceneCut(signature, threshold: sceneCut) {
            (last, scene) = (TemporalState(), position)
            host.log("scene cut: the temporal state starts afresh")
        }
        let known = lastPosition == position - 1 ? early : nil
        var motion: (warped: PlanarRGB, trust: [Float])?
        if base.scene == scene {
            if let gray { motion = last.motion(to: gray, width: photo.width, height: photo.height, known: known) }
        } else {
            // The network ran on the statistics of the scene before a cut: again, on this scene's
            // (none for the cut frame itself: it comes out as it would frame by frame).
            statistics = .smoothing(last.statistics, weight: smoothing)
            styled = Result { try stylise(photo, statistics: statistics) }
            if let gray { motion = last.motion(to: gray, width: photo.width, height: photo.height, known: known) }
        }
        var result = try styled.get()
        if let motion { result = result.mixed(with: motion.warped, weights: motion.trust, amount: blend) }
        let average = SpatialStatistics.movingAverage(last.statistics, statistics.measured, weight: smoothing)
        let finished = TemporalState(statistics: average, signature: signature, gray: gray, output: result)
        frames.withLock { $0.finish(position: position, scene: scene, finished) }
        return result
    }

    /// `statistics` (untiled runs only) records, replays or smooths the network's spatial statistics.
    func stylise(_ photo: PlanarRGB, statistics: SpatialStatistics? = nil) throws -> PlanarRGB {
        switch mode {
        case .builtIn(let blend):
            if strength == 0 { return photo }
            let weights = Tensor(shape: [26], floats: blend.weights)
            let styled = try fullyConvolutional(photo, imageInput: "image", statistics: statistics) { image, statistics in
                let out = try transformer.run { try $0.run(["image": image.nchw, "style_weights": weights], statistics: statistics) }
                return PlanarRGB(width: image.width, height: image.height, planes: try first(out).floats)
            }
            return strength < 1 ? photo.mixed(with: styled, amount: strength) : styled
        case .painting(let painting):
            var vector = painting
            if strength < 1, let predictor {
                let own = try predictor.run { try Self.styleVector(of: photo, $0) }
                vector = zip(own, painting).map { $0 + strength * ($1 - $0) }
            }
            let style = Tensor(shape: [1, 1, 1, 100], floats: vector)
            let network = { (image: PlanarRGB, statistics: SpatialStatistics?) throws -> PlanarRGB in
                let out = try self.transformer.run {
                    try $0.run(["content_image": image.nhwc, "mobilenet_conv/Conv/BiasAdd": style], statistics: statistics)
                }
                return PlanarRGB.fromNHWC(try self.first(out))
            }
            guard nativeResolution else {
                return try network(photo.resized(width: 384, height: 384), statistics).resized(width: photo.width, height: photo.height)
            }
            return try fullyConvolutional(photo, imageInput: "content_image", statistics: statistics, network)
        }
    }

    /// Runs a network whose sides must be multiples of 4: reflect-pads and crops back, and goes
    /// tile by tile (with whole-image statistics) when the image is above the budget.
    private func fullyConvolutional(_ photo: PlanarRGB, imageInput: String, statistics untiled: SpatialStatistics?,
                                    _ network: (PlanarRGB, SpatialStatistics?) throws -> PlanarRGB) throws -> PlanarRGB {
        let padded = photo.paddedToMultiple(of: 4)
        let pixels = padded.width * padded.height
        let tiled = tileSize > 0 ? max(padded.width, padded.height) > tileSize : pixels > Self.untiledPixels
        let styled: PlanarRGB
        if tiled {
            let statistics: Tiling.Statistics = tileStatistics == .tile ? .perTile
                : .measured(countedOn: padded.downscaled(toAtMost: 65_536, multipleOf: 4), imageInput: imageInput)
            styled = try Tiling(tileSize: tileSize > 0 ? tileSize : Self.automaticTileSize).run(padded, statistics: statistics, progress: { done in
                if host.isCancelled { throw StageError("cancelled") }
                host.progress(done, of: 1)
            }, network: network)
        } else {
            styled = try network(padded, untiled)
        }
        return styled.cropped(width: photo.width, height: photo.height)
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
    var precision: Precision = .fp32

    func session(_ name: String, threads: Int) throws -> Session {
        let path = try host.modelPath(name + ".onnx")
        let session: Session
        do { session = try Session(path: path, threads: threads, precision: precision) } catch {
            throw StageError("\(error); run scripts/setup-models.sh to fetch the model again")
        }
        if let note = session.precisionNote, Self.firstTime(note) { host.log(note, level: CP_LOG_WARNING) }
        return session
    }

    /// A pool of sessions on model `name`, with one opened now.
    func pool(_ name: String, anyInputSize: Bool = false) throws -> SessionPool {
        let open = { @Sendable [self] () throws -> Session in
            let session = try self.session(name, threads: host.threads)
            session.acceptsAnyInputSize = anyInputSize
            return session
        }
        return SessionPool(first: try open(), open: open)
    }

    /// Each worker opens its own sessions; the user needs the note once per process.
    private static func firstTime(_ note: String) -> Bool {
        noted.withLock { $0.insert(note).inserted }
    }
    private static let noted = Mutex<Set<String>>([])
}

