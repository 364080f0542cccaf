import CNNRuntime
import Foundation

extension NeighbourGraph {
    /// dlib's `chinese_whispers_clustering` graph: descriptors i and j (i == j included) are joined,
    /// with weight 1, when their Euclidean distance is below `threshold`.
    ///
    /// Distances come from the Gram matrix through BLAS, a band of rows at a time (memory stays
    /// bounded): ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b. That expansion loses digits, so pairs whose
    /// distance lands near the threshold are measured again the way dlib measures them (the
    /// descriptors as doubles, squared differences summed in order, square root, compared with
    /// the threshold as a Float): the edges are dlib's to the last bit, not just close to them.
    public static func closerThan(_ threshold: Float, descriptors: [[Float]]) throws -> NeighbourGraph {
        let n = descriptors.count, d = descriptors.first?.count ?? 0
        guard threshold > 0, threshold.isFinite else { throw ClusteringError("the clustering threshold must be above 0 (got \(threshold))") }
        for (i, v) in descriptors.enumerated() {
            guard v.count == d, d > 0 else { throw ClusteringError("descriptor \(i + 1) has \(v.count) numbers, descriptor 1 has \(d)") }
            guard v.allSatisfy(\.isFinite) else { throw ClusteringError("descriptor \(i + 1) has a NaN or infinite number") }
        }
        guard n > 0 else { return NeighbourGraph(nodeCount: 0, offsets: [0], neighbours: [], weights: nil) }
        let matrix = descriptors.flatMap { $0 }
        let norms = descriptors.map { v in v.reduce(Float(0)) { $0 + $1 * $1 } }
        let limit = Double(threshold), limitSquared = limit * limit
        // Pairs within this much of the threshold (in squared distance) are measured exactly.
        let slack = 1e-4 * (2 * Double(norms.max() ?? 0) + 1)

        // Rows band by band, columns from the band's first row on (the upper triangle and a little).
        let band = max(1, min(n, 4_194_304 / n))
        var pairs: [(Int32, Int32)] = []
        let gram = UnsafeMutablePointer<Float>.allocate(capacity: band * n)
        defer { gram.deallocate() }
        matrix.withUnsafeBufferPointer { x in
            var r0 = 0
            while r0 < n {
                let rows = min(band, n - r0), columns = n - r0
                LinearAlgebra.sgemm(transB: true, m: rows, n: columns, k: d, a: x.baseAddress! + r0 * d, lda: d,
                                    b: x.baseAddress! + r0 * d, ldb: d, c: gram, ldc: columns)
                for r in 0..<rows {
                    let i = r0 + r
                    for j in i..<n {
                        let squared = Double(norms[i]) + Double(norms[j]) - 2 * Double(gram[r * columns + (j - r0)])
                        let joined: Bool
                        if squared < limitSquared - slack {
                            joined = true
                        } else if squared > limitSquared + slack {
                            joined = false
                        } else {
                            joined = exactDistance(x.baseAddress! + i * d, x.baseAddress! + j * d, d) < limit
                        }
                        if joined { pairs.append((Int32(i), Int32(j))) }
                    }
                }
                r0 += rows
            }
        }
        return NeighbourGraph(nodeCount: n, upperPairs: pairs)
    }

    /// dlib's `length(a - b)` on double vectors.
    static func exactDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Double {
        var sum = 0.0
        for k in 0..<d { let v = Double(a[k]) - Double(b[k]); sum += v * v }
        return sum.squareRoot()
    }

    /// A graph of weight-1 edges given as pairs (i, j), i ≤ j, sorted by (i, j).
    init(nodeCount n: Int, upperPairs pairs: [(Int32, Int32)]) {
        var offsets = [Int](repeating: 0, count: n + 1)
        for (i, j) in pairs {
            offsets[Int(i) + 1] += 1
            if i != j { offsets[Int(j) + 1] += 1 }
        }
        for i in 0..<n { offsets[i + 1] += offsets[i] }
        // Filling row by row keeps every list sorted: node v gets its i < v first (rows before v,
        // in order), then its j ≥ v (row v, in order).
        var next = Array(offsets.dropLast())
        var neighbours = [Int32](repeating: 0, count: offsets[n])
        for (i, j) in pairs {
            neighbours[next[Int(i)]] = j; next[Int(i)] += 1
            if i != j { neighbours[next[Int(j)]] = i; next[Int(j)] += 1 }
        }
        self.init(nodeCount: n, offsets: offsets, neighbours: neighbours, weights: nil)
    }
}

public struct ClusteringError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
