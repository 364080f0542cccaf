import CNNRuntime
import Foundation

/// A head learned on top of the frozen 128-number face embeddings of one gallery (`cnnpipe gallery train`).
///
/// - `transform` (triplet training): f(x) = W·x / ‖W·x‖ with W 128 × 128 (row-major), so faces are
///   compared by the Euclidean distance of f; nil means f(x) = x (the plain embedding).
/// - `verifier` (binary training): P(same | a, b) = σ(w · |f(a) − f(b)| + bias).
/// - `threshold`: the distance in f's space below which two faces are the same person, chosen on the
///   held-out photos (it replaces dlib's 0.6 when the head is used).
public struct MetricHead: Sendable, Equatable {
    public enum Method: String, Sendable, Codable, CaseIterable {
        case triplet, binary, both
    }

    public struct Verifier: Sendable, Equatable {
        public var weights: [Float]
        public var bias: Float
        public init(weights: [Float], bias: Float) { self.weights = weights; self.bias = bias }
    }

    /// The face descriptor's length (dlib's face ResNet: 128 numbers, as the gallery stores them).
    public static let dimension = 128
    /// Probability at or above which the verifier says "same person".
    public static let probabilityThreshold: Float = 0.5

    public var method: Method
    public var transform: [Float]?
    public var threshold: Float
    public var verifier: Verifier?
    public var report: HeadReport
    public var createdAt: Date

    public init(method: Method, transform: [Float]?, threshold: Float, verifier: Verifier?, report: HeadReport, createdAt: Date = Date()) {
        self.method = method
        self.transform = transform
        self.threshold = threshold
        self.verifier = verifier
        self.report = report
        self.createdAt = createdAt
    }

    /// Checks sizes and finiteness (a stored or imported head).
    public func validate() throws {
        let d = Self.dimension
        if let w = transform {
            guard w.count == d * d else { throw MetricLearningError("head: transform has \(w.count) numbers, expected \(d * d)") }
            guard w.allSatisfy(\.isFinite) else { throw MetricLearningError("head: transform has a NaN or infinite number") }
        }
        if let v = verifier {
            guard v.weights.count == d else { throw MetricLearningError("head: verifier has \(v.weights.count) weights, expected \(d)") }
            guard v.weights.allSatisfy(\.isFinite), v.bias.isFinite else { throw MetricLearningError("head: verifier has a NaN or infinite number") }
        }
        guard threshold.isFinite, threshold > 0 else { throw MetricLearningError("head: threshold \(threshold) is not a positive number") }
        switch method {
        case .triplet: guard transform != nil, verifier == nil else { throw MetricLearningError("head: a triplet head has a transform and no verifier") }
        case .binary: guard transform == nil, verifier != nil else { throw MetricLearningError("head: a binary head has a verifier and no transform") }
        case .both: guard transform != nil, verifier != nil else { throw MetricLearningError("head: a 'both' head has a transform and a verifier") }
        }
    }

    /// f of each row of `matrix` (rows × 128, row-major): one sgemm, then each row L2-normalised.
    public func embed(_ matrix: [Float], rows: Int) -> [Float] {
        Self.apply(transform, to: matrix, rows: rows)
    }

    public func embed(_ vector: [Float]) -> [Float] { embed(vector, rows: 1) }

    static func apply(_ transform: [Float]?, to matrix: [Float], rows: Int) -> [Float] {
        guard let w = transform, rows > 0 else { return matrix }
        let d = dimension
        var out = [Float](repeating: 0, count: rows * d)
        matrix.withUnsafeBufferPointer { x in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { o in
                    // F = X · Wᵀ (each row f = W x).
                    LinearAlgebra.sgemm(transB: true, m: rows, n: d, k: d, a: x.baseAddress!, lda: d,
                                        b: wp.baseAddress!, ldb: d, c: o.baseAddress!, ldc: d)
                }
            }
        }
        normaliseRows(&out, rows: rows)
        return out
    }

    /// Each row divided by its Euclidean norm (the graph's ε keeps a zero row finite).
    static func normaliseRows(_ m: inout [Float], rows: Int) {
        let d = dimension
        m.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                let row = p.baseAddress! + r * d
                var sum: Float = 0
                for i in 0..<d { sum += row[i] * row[i] }
                let k = 1 / (sum + HeadGraphs.epsilon).squareRoot()
                for i in 0..<d { row[i] *= k }
            }
        }
    }

    /// Euclidean distance of two vectors already in f's space.
    public static func distance(_ a: [Float], _ b: [Float]) -> Float {
        var sum: Float = 0
        for i in 0..<min(a.count, b.count) { let t = a[i] - b[i]; sum += t * t }
        return sum.squareRoot()
    }

    /// The verifier's P(same) for two vectors already in f's space (nil without a verifier).
    public func probability(_ fa: [Float], _ fb: [Float]) -> Float? {
        guard let v = verifier else { return nil }
        var z = v.bias
        for i in 0..<Self.dimension { z += v.weights[i] * abs(fa[i] - fb[i]) }
        return 1 / (1 + expf(-z))
    }

    /// The verdict for two vectors in f's space: the verifier's when there is one, else the distance's.
    public func isSame(_ fa: [Float], _ fb: [Float]) -> Bool {
        if let p = probability(fa, fb) { return p >= Self.probabilityThreshold }
        return Self.distance(fa, fb) <= threshold
    }
}
