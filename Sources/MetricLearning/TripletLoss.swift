import CNNRuntime
import Foundation

/// Which triplets (anchor, positive, negative) training uses: not random ones, but those that teach.
public enum TripletSelection: String, Sendable, Codable, CaseIterable {
    /// Batch-hard: for each anchor, its farthest positive and its closest negative.
    case hard
    /// For each anchor–positive pair, the closest negative farther than the positive (FaceNet's
    /// semi-hard negative: it teaches while within the margin), else, when every negative is closer
    /// than the positive, the farthest of them.
    case semiHard = "semi-hard"
}

public struct Triplet: Sendable, Equatable, CustomStringConvertible {
    public var anchor: Int, positive: Int, negative: Int
    public init(_ anchor: Int, _ positive: Int, _ negative: Int) { self.anchor = anchor; self.positive = positive; self.negative = negative }
    public var description: String { "(\(anchor), \(positive), \(negative))" }
}

/// The triplet loss J = Σ max(‖f(A) − f(P)‖² − ‖f(A) − f(N)‖² + α, 0) over rows of a batch F (N × 128).
public enum TripletLoss {
    /// Squared Euclidean distances between all rows of `f` (rows × d): ‖a‖² + ‖b‖² − 2 a·b with one sgemm.
    public static func squaredDistances(_ f: [Float], rows: Int, dimension d: Int = MetricHead.dimension) -> [Float] {
        var gram = [Float](repeating: 0, count: rows * rows)
        f.withUnsafeBufferPointer { p in
            gram.withUnsafeMutableBufferPointer { g in
                LinearAlgebra.sgemm(transB: true, m: rows, n: rows, k: d, a: p.baseAddress!, lda: d,
                                    b: p.baseAddress!, ldb: d, c: g.baseAddress!, ldc: rows)
            }
        }
        let norms = (0..<rows).map { gram[$0 * rows + $0] }
        for i in 0..<rows {
            for j in 0..<rows { gram[i * rows + j] = max(0, norms[i] + norms[j] - 2 * gram[i * rows + j]) }
            gram[i * rows + i] = 0
        }
        return gram
    }

    /// Squared distances between the rows of `a` (m × d) and of `b` (n × d): an m × n matrix, one sgemm.
    public static func crossSquaredDistances(_ a: [Float], rows m: Int, _ b: [Float], rows n: Int,
                                             dimension d: Int = MetricHead.dimension) -> [Float] {
        guard m > 0, n > 0 else { return [] }
        var out = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { o in
                    LinearAlgebra.sgemm(transB: true, m: m, n: n, k: d, a: ap.baseAddress!, lda: d,
                                        b: bp.baseAddress!, ldb: d, c: o.baseAddress!, ldc: n)
                }
            }
        }
        let na = (0..<m).map { i in a[i * d ..< (i + 1) * d].reduce(Float(0)) { $0 + $1 * $1 } }
        let nb = (0..<n).map { j in b[j * d ..< (j + 1) * d].reduce(Float(0)) { $0 + $1 * $1 } }
        for i in 0..<m { for j in 0..<n { out[i * n + j] = max(0, na[i] + nb[j] - 2 * out[i * n + j]) } }
        return out
    }

    /// The triplets of a batch with `labels` (one per row) under `selection`, from the squared distances.
    public static func select(squaredDistances d2: [Float], labels: [Int], margin: Float,
                              selection: TripletSelection) -> [Triplet] {
        let n = labels.count
        var triplets: [Triplet] = []
        for a in 0..<n {
            let row = a * n
            let positives = (0..<n).filter { $0 != a && labels[$0] == labels[a] }
            let negatives = (0..<n).filter { labels[$0] != labels[a] }
            guard !positives.isEmpty, !negatives.isEmpty else { continue }
            switch selection {
            case .hard:
                let p = positives.max { d2[row + $0] < d2[row + $1] }!
                let q = negatives.min { d2[row + $0] < d2[row + $1] }!
                triplets.append(Triplet(a, p, q))
            case .semiHard:
                for p in positives {
                    let dp = d2[row + p]
                    if let q = negatives.filter({ d2[row + $0] > dp }).min(by: { d2[row + $0] < d2[row + $1] }) {
                        triplets.append(Triplet(a, p, q))
                    } else {
                        triplets.append(Triplet(a, p, negatives.max { d2[row + $0] < d2[row + $1] }!))
                    }
                }
            }
        }
        return triplets
    }

    /// J and ∂J/∂F (rows × d) for the given triplets: for an active triplet (loss > 0),
    /// ∂/∂f(A) = 2(f(N) − f(P)), ∂/∂f(P) = 2(f(P) − f(A)), ∂/∂f(N) = 2(f(A) − f(N)).
    public static func lossAndGradient(_ f: [Float], rows: Int, dimension d: Int = MetricHead.dimension,
                                       triplets: [Triplet], margin: Float) -> (loss: Double, active: Int, gradient: [Float]) {
        var gradient = [Float](repeating: 0, count: rows * d)
        var loss: Double = 0, active = 0
        f.withUnsafeBufferPointer { fp in
            gradient.withUnsafeMutableBufferPointer { gp in
                let base = fp.baseAddress!, g = gp.baseAddress!
                for t in triplets {
                    let a = base + t.anchor * d, p = base + t.positive * d, q = base + t.negative * d
                    var dp: Float = 0, dn: Float = 0
                    for i in 0..<d {
                        let u = a[i] - p[i], v = a[i] - q[i]
                        dp += u * u; dn += v * v
                    }
                    let l = dp - dn + margin
                    guard l > 0 else { continue }
                    loss += Double(l); active += 1
                    let ga = g + t.anchor * d, gpos = g + t.positive * d, gn = g + t.negative * d
                    for i in 0..<d {
                        ga[i] += 2 * (q[i] - p[i])
                        gpos[i] += 2 * (p[i] - a[i])
                        gn[i] += 2 * (a[i] - q[i])
                    }
                }
            }
        }
        return (loss, active, gradient)
    }
}
