/// A 2-D similarity transform (rotation, uniform scale, translation): p ↦ A·p + t with
/// A = [[a, −b], [b, a]].
public struct SimilarityTransform: Sendable, Equatable {
    /// A's first column (scale·cos θ, scale·sin θ).
    public var a: Double, b: Double
    public var tx: Double, ty: Double

    public init(a: Double, b: Double, tx: Double, ty: Double) {
        self.a = a; self.b = b; self.tx = tx; self.ty = ty
    }

    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (a * x - b * y + tx, b * x + a * y + ty)
    }

    public var scale: Double { (a * a + b * b).squareRoot() }

    /// The least-squares similarity mapping `from[i]` onto `to[i]` (Umeyama's problem, rotations
    /// only, no reflection). With both point sets centred (p, q), the optimum is
    /// a = Σ p·q / Σ|p|², b = Σ p×q / Σ|p|²; the translation maps the centroid onto the centroid.
    /// Coincident `from` points give the pure translation between the centroids.
    public static func leastSquares(from: [(x: Double, y: Double)], to: [(x: Double, y: Double)]) -> SimilarityTransform {
        let n = Double(max(1, min(from.count, to.count)))
        var fx = 0.0, fy = 0.0, gx = 0.0, gy = 0.0
        for (p, q) in zip(from, to) { fx += p.x; fy += p.y; gx += q.x; gy += q.y }
        fx /= n; fy /= n; gx /= n; gy /= n
        var dot = 0.0, cross = 0.0, norm = 0.0
        for (p, q) in zip(from, to) {
            let (px, py, qx, qy) = (p.x - fx, p.y - fy, q.x - gx, q.y - gy)
            dot += px * qx + py * qy
            cross += px * qy - py * qx
            norm += px * px + py * py
        }
        let (a, b) = norm > 0 ? (dot / norm, cross / norm) : (1.0, 0.0)
        return SimilarityTransform(a: a, b: b, tx: gx - (a * fx - b * fy), ty: gy - (b * fx + a * fy))
    }
}
