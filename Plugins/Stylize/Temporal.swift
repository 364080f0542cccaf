import CNNRuntime

/// What `temporal=stable` carries from one video frame to the next.
struct TemporalState {
    /// The instance-norm / pooling statistics the last frame used (their moving average).
    var statistics: [[Float]] = []
    /// The last input's colour signature, to notice a scene cut.
    var signature: [Float]?
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
