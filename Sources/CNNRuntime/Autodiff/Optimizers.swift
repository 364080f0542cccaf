import CConvKernels
import Foundation

/// Adam (Kingma & Ba): per-element step sizes from running means of the gradient and its square.
/// One state per parameter name; `step` updates the values in place.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    private var moments: [String: (m: [Float], v: [Float], t: Int)] = [:]

    public init(learningRate: Float) { self.learningRate = learningRate }

    public mutating func step(_ name: String, _ values: inout [Float], gradient: [Float]) {
        precondition(values.count == gradient.count, "Adam: \(name) has \(values.count) values, \(gradient.count) gradients")
        var state = moments[name] ?? ([Float](repeating: 0, count: values.count), [Float](repeating: 0, count: values.count), 0)
        state.t += 1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let lr = learningRate * (1 - powf(b2, Float(state.t))).squareRoot() / (1 - powf(b1, Float(state.t)))
        values.withUnsafeMutableBufferPointer { x in
            state.m.withUnsafeMutableBufferPointer { m in
                state.v.withUnsafeMutableBufferPointer { v in
                    gradient.withUnsafeBufferPointer { g in
                        for i in 0..<x.count {
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            x[i] -= lr * m[i] / (v[i].squareRoot() + eps)
                        }
                    }
                }
            }
        }
        moments[name] = state
    }
}

/// Limited-memory BFGS: the two-loop recursion over the last `history` steps gives a quasi-Newton
/// direction; a backtracking line search (Armijo condition) picks the step along it.
public struct LBFGS: Sendable {
    public var history: Int
    /// How far the first step (before any curvature is known) moves the largest element.
    public var learningRate: Double
    private var steps: [(s: [Float], y: [Float], rho: Double)] = []

    public init(history: Int = 10, learningRate: Double = 1) {
        self.history = history
        self.learningRate = learningRate
    }

    /// One evaluation of the objective: its value and gradient at x.
    public typealias Objective = ([Float]) throws -> (value: Double, gradient: [Float])

    /// Runs `iterations` iterations from x (updated in place); `progress(iteration, value)` after
    /// each returns false to stop early. Returns the last value. Stops when the gradient vanishes
    /// or no step along the direction decreases the value.
    @discardableResult
    public mutating func minimize(_ x: inout [Float], iterations: Int, _ objective: Objective,
                                  progress: (Int, Double) -> Bool = { _, _ in true }) throws -> Double {
        var (value, gradient) = try objective(x)
        for iteration in 1...max(1, iterations) {
            if Self.dot(gradient, gradient) < 1e-20 { break }
            var direction = self.direction(gradient)
            var slope = Self.dot(gradient, direction)
            if slope >= 0 {          // not a descent direction (bad curvature pairs): restart
                steps.removeAll()
                direction = gradient.map { -$0 }
                slope = Self.dot(gradient, direction)
            }
            // Without curvature pairs the direction is −g, whose scale says nothing: the first try
            // moves the largest element by learningRate.
            var t = steps.isEmpty ? learningRate / max(1e-30, Self.largestMagnitude(direction)) : 1
            var accepted = false
            for _ in 0..<20 {
                let candidate = Self.axpy(x, Float(t), direction)
                let (v, g) = try objective(candidate)
                if v <= value + 1e-4 * t * slope {
                    let s = zip(candidate, x).map { $0 - $1 }, y = zip(g, gradient).map { $0 - $1 }
                    let ys = Self.dot(y, s)
                    if ys > 1e-10 * (Self.dot(y, y) * Self.dot(s, s)).squareRoot() {
                        steps.append((s, y, 1 / ys))
                        if steps.count > history { steps.removeFirst() }
                    }
                    x = candidate; value = v; gradient = g
                    accepted = true
                    break
                }
                t *= 0.5
            }
            if !progress(iteration, value) || !accepted { break }
        }
        return value
    }

    /// −H·g by the two-loop recursion (H from the stored steps; scaled identity when there are none).
    private func direction(_ gradient: [Float]) -> [Float] {
        var q = gradient
        var alphas = [Double](repeating: 0, count: steps.count)
        for i in steps.indices.reversed() {
            alphas[i] = steps[i].rho * Self.dot(steps[i].s, q)
            Self.addScaled(&q, Float(-alphas[i]), steps[i].y)
        }
        if let last = steps.last {
            let gamma = Float(Self.dot(last.s, last.y) / Self.dot(last.y, last.y))
            for i in q.indices { q[i] *= gamma }
        }
        for i in steps.indices {
            let beta = steps[i].rho * Self.dot(steps[i].y, q)
            Self.addScaled(&q, Float(alphas[i] - beta), steps[i].s)
        }
        return q.map { -$0 }
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        a.withUnsafeBufferPointer { p in
            b.withUnsafeBufferPointer { q in
                var lanes = SIMD8<Double>(repeating: 0)
                var i = 0
                while i + 8 <= p.count {
                    var u = SIMD8<Float>(), v = SIMD8<Float>()
                    for k in 0..<8 { u[k] = p[i + k]; v[k] = q[i + k] }
                    lanes += SIMD8<Double>(u * v)
                    i += 8
                }
                var sum = lanes.sum()
                while i < p.count { sum += Double(p[i] * q[i]); i += 1 }
                return sum
            }
        }
    }

    static func largestMagnitude(_ a: [Float]) -> Double { Double(a.reduce(0) { max($0, abs($1)) }) }

    /// x + t·d.
    static func axpy(_ x: [Float], _ t: Float, _ d: [Float]) -> [Float] {
        var out = x
        addScaled(&out, t, d)
        return out
    }

    /// y += t·d in place (the direction's 2 × history updates of one image-sized vector: no copies), in
    /// the C row kernel DepthwiseRows uses too (a multiply, then an add: the scalar loop's bits).
    static func addScaled(_ y: inout [Float], _ t: Float, _ d: [Float]) {
        precondition(y.count == d.count, "addScaled: \(y.count) ≠ \(d.count) values")
        guard !y.isEmpty else { return }
        y.withUnsafeMutableBufferPointer { o in d.withUnsafeBufferPointer { p in
            cp_add_scaled(t, p.baseAddress!, o.baseAddress!, o.count, DirectConv.isa)
        } }
    }
}
