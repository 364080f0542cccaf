import CNNRuntime
import Dispatch
import FrameModel
import PluginKit

/// What `temporal=stable` carries from one video frame to the next.
/// The `temporal` parameter of both stylize stages.
enum Temporal: String, CaseIterable { case off, stable }

struct TemporalState {
    /// The instance-norm / pooling statistics the last frame used (their moving average).
    var statistics: [[Float]] = []
    /// The last input's colour signature, to notice a scene cut.
    var signature: [Float]?
    /// The last input's brightness at the flow's resolution, and the last stylised frame.
    var gray: FloatImage?
    var output: PlanarRGB?

    /// The `scene-cut` parameter of both stylize stages.
    static let sceneCut = Param<Float>("scene-cut", default: 0.3, range: 0...1,
                                       "temporal=stable: colour-histogram change (0-1) from the previous frame that starts afresh")

    /// Whether a frame with colour signature `signature` starts a new scene.
    func isSceneCut(_ signature: [Float], threshold: Float) -> Bool {
        self.signature.map { SceneSignature.distance($0, signature) > threshold } ?? false
    }

    /// The last output moved onto the frame whose brightness is `gray`, and the trust per pixel;
    /// nil without a last frame of this size. `known`: the motion from the last frame, if found already.
    func motion(to gray: FloatImage, width: Int, height: Int, known: MotionBlend.Motion? = nil) -> (warped: PlanarRGB, trust: [Float])? {
        guard let output, let previousGray = self.gray, output.width == width, output.height == height else { return nil }
        return MotionBlend.warp(output, along: known ?? MotionBlend.motion(from: previousGray, to: gray))
    }
}

/// The previous stylised frame moved along the motion between the two input frames (Ruder et al.
/// 2016's short-term consistency, as a blend for a feed-forward network): Lucas–Kanade flow both
/// ways on the brightness at up to 320x240, the forward–backward check as the trust mask.
enum MotionBlend {
    static let flowPixels = 76_800

    /// BT.601 luma, at most `flowPixels` pixels.
    static func gray(_ photo: PlanarRGB) -> FloatImage {
        let small = photo.width * photo.height > flowPixels ? photo.downscaled(toAtMost: flowPixels, multipleOf: 1) : photo
        let n = small.width * small.height
        let luma = small.planes.withUnsafeBufferPointer { p in
            [Float](unsafeUninitializedCapacity: n) { d, count in
                for i in 0..<n { d[i] = 0.299 * p[i] + 0.587 * p[n + i] + 0.114 * p[2 * n + i] }
                count = n
            }
        }
        return FloatImage(width: small.width, height: small.height, channels: 1, samples: luma)
    }

    /// The motion between two frames, at the flow's resolution: where each pixel of the later
    /// frame came from (backward flow), and how far that can be trusted (0…1).
    struct Motion {
        let backward: FlowField
        let trust: FloatImage
    }

    /// The motion from the frame whose brightness is `previousGray` to the one whose brightness is `gray`.
    static func motion(from previousGray: FloatImage, to gray: FloatImage) -> Motion {
        let lk = LucasKanade()
        // The two directions are independent: one per core.
        var backward = FlowField(width: 0, height: 0), forward = backward
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 { backward = lk.flow(from: gray, to: previousGray) } else { forward = lk.flow(from: previousGray, to: gray) }
        }
        let mask = backward.consistencyMask(with: forward)
        return Motion(backward: backward, trust: FloatImage(width: gray.width, height: gray.height, channels: 1, samples: mask))
    }

    /// `previous` moved along `motion` onto the later frame, and the trust per pixel.
    static func warp(_ previous: PlanarRGB, along motion: Motion) -> (PlanarRGB, [Float]) {
        let w = previous.width, h = previous.height, n = w * h
        let flow = motion.backward.resized(width: w, height: h)
        let trust = Resampler.resize(motion.trust, width: w, height: h, filter: .bilinear).samples
        var planes: [Float] = []
        planes.reserveCapacity(3 * n)
        for c in 0..<3 { planes += FlowWarp.sample(Array(previous.planes[c * n ..< (c + 1) * n]), width: w, height: h, by: flow) }
        return (PlanarRGB(width: w, height: h, planes: planes), trust)
    }
}

extension PlanarRGB {
    /// self + amount · weight · (other − self), the weight per pixel.
    func mixed(with other: PlanarRGB, weights: [Float], amount: Float) -> PlanarRGB {
        let n = width * height
        var p = planes
        other.planes.withUnsafeBufferPointer { o in
            weights.withUnsafeBufferPointer { wt in
                p.withUnsafeMutableBufferPointer { d in
                    for c in 0..<3 {
                        for i in 0..<n { d[c * n + i] += amount * wt[i] * (o[c * n + i] - d[c * n + i]) }
                    }
                }
            }
        }
        return PlanarRGB(width: width, height: height, planes: p)
    }
}

/// A frame's colour histogram (16 bins per channel, on a copy of at most 4096 pixels: motion
/// barely changes it, a new scene does), and the distance of two: half the L1 difference
/// averaged over the channels, 0 (same colours) to 1 (no colour in common).
enum SceneSignature {
    static let bins = 16

    static func of(_ photo: PlanarRGB) -> [Float] {
        let small = photo.downscaled(toAtMost: 4096, multipleOf: 1)
        let n = small.width * small.height
        var histogram = [Float](repeating: 0, count: 3 * bins)
        let unit = 1 / Float(n)
        small.planes.withUnsafeBufferPointer { p in
            for c in 0..<3 {
                for i in 0..<n {
                    let bin = min(bins - 1, max(0, Int(p[c * n + i] * Float(bins))))
                    histogram[c * bins + bin] += unit
                }
            }
        }
        return histogram
    }

    static func distance(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) } / 6
    }
}
