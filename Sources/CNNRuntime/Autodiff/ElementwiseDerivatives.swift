import CConvKernels
import Foundation

// Helper ops for the derivatives of the broadcasting binary ops.
enum PowBaseSlopeOp: BinaryFloatOp { static func apply(_ a: Float, _ b: Float) -> Float { b == 0 ? 0 : b * powf(a, b - 1) } }
enum PReluInputSlopeOp: BinaryFloatOp { static func apply(_ a: Float, _ s: Float) -> Float { a < 0 ? s : 1 } }
enum PReluSlopeSlopeOp: BinaryFloatOp { static func apply(_ a: Float, _ s: Float) -> Float { a < 0 ? a : 0 } }

// MARK: unary ops

/// A unary op's derivative: ∂x from the output gradient g, the output y and the inputs x.
protocol DifferentiableUnaryOp: UnaryFloatOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor
}

extension UnaryKernel: DifferentiableKernel where Op: DifferentiableUnaryOp {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [try Op.inputGradient(x, y[0], g, ctx)]
    }
}

extension ReluOp: DifferentiableUnaryOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try Derivatives.passing(g, where: y, above: 0, below: .infinity, ctx)
    }
}
extension SigmoidOp: DifferentiableUnaryOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try Derivatives.zipped(g, y, ctx) { g, y in g * y * (1 - y) }
    }
}
extension TanhOp: DifferentiableUnaryOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try Derivatives.zipped(g, y, ctx) { g, y in g * (1 - y * y) }
    }
}
extension SqrtOp: DifferentiableUnaryOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try Derivatives.zipped(g, y, ctx) { g, y in g * 0.5 / y }
    }
}
extension ReciprocalOp: DifferentiableUnaryOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try Derivatives.zipped(g, y, ctx) { g, y in -g * y * y }
    }
}
extension ExpOp: DifferentiableUnaryOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try Derivatives.zipped(g, y, ctx) { g, y in g * y }
    }
}
extension NegOp: DifferentiableUnaryOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try Derivatives.scaled(g, by: -1, ctx)
    }
}
extension AbsOp: DifferentiableUnaryOp {
    static func inputGradient(_ x: [Tensor?], _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try Derivatives.zipped(g, try x.required(0, "Abs"), ctx) { g, x in x > 0 ? g : (x < 0 ? -g : 0) }
    }
}

extension ClipKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let lo = x.count > 1 ? x[1]?.floats.first ?? attributeMin : attributeMin
        let hi = x.count > 2 ? x[2]?.floats.first ?? attributeMax : attributeMax
        return [try Derivatives.passing(g, where: try x.required(0, "Clip"), above: lo, below: hi, ctx)] + x.dropFirst().map { _ in nil }
    }
}

extension LeakyReluKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let alpha = self.alpha
        return [try Derivatives.zipped(g, try x.required(0, "LeakyRelu"), ctx) { g, x in x < 0 ? g * alpha : g }]
    }
}

// MARK: binary ops

/// A broadcasting binary op's derivative: the gradients of a and b at the broadcast shape (the
/// kernel sums them back to the operands' shapes).
protocol DifferentiableBinaryOp: NamedBinaryOp {
    static func gradients(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor, needs: [Bool],
                          _ ctx: ExecutionContext) throws -> (Tensor?, Tensor?)
}

extension BinaryKernel: DifferentiableKernel where Op: DifferentiableBinaryOp {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let a = try x.required(0, "gradient"), b0 = try x.required(1, "gradient")
        guard a.elementType == .float, b0.elementType == .float else { return [nil, nil] }
        // The operand shapes the forward pass broadcast (legacy axis and per-channel PRelu slopes).
        var b = b0
        if let axis = legacyAxis, b.shape.count < a.shape.count {
            let ax = axis < 0 ? axis + a.shape.count : axis
            b = b.reshaped(b.shape + Array(repeating: 1, count: max(0, a.shape.count - ax - b.shape.count)))
        }
        if Op.self == PReluOp.self, broadcastShape(a.shape, b.shape) == nil, b.shape.count == 1, a.shape.count > 1 {
            b = b.reshaped([b.shape[0]] + Array(repeating: 1, count: a.shape.count - 2))
        }
        let (ga, gb) = try Op.gradients(a, b, y[0], g, needs: needs, ctx)
        return [try ga.map { try Derivatives.reduced($0, to: a.shape, ctx) },
                try gb.map { try Derivatives.reduced($0, to: b.shape, ctx).reshaped(b0.shape) }]
    }
}

extension Derivatives {
    /// Op applied to p and q with broadcasting.
    static func broadcast<Op: BinaryFloatOp>(_ op: Op.Type, _ p: Tensor, _ q: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        try BinaryKernel<Op>(name: "gradient").run([p, q], ctx)[0]
    }
}

extension AddOp: DifferentiableBinaryOp {
    static func gradients(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor, needs: [Bool],
                          _ ctx: ExecutionContext) throws -> (Tensor?, Tensor?) {
        (g, g)
    }
}
extension SubOp: DifferentiableBinaryOp {
    static func gradients(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor, needs: [Bool],
                          _ ctx: ExecutionContext) throws -> (Tensor?, Tensor?) {
        (g, needs[1] ? try Derivatives.scaled(g, by: -1, ctx) : nil)
    }
}
extension MulOp: DifferentiableBinaryOp {
    static func gradients(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor, needs: [Bool],
                          _ ctx: ExecutionContext) throws -> (Tensor?, Tensor?) {
        (needs[0] ? try Derivatives.broadcast(MulOp.self, g, b, ctx) : nil,
         needs[1] ? try Derivatives.broadcast(MulOp.self, g, a, ctx) : nil)
    }
}
extension DivOp: DifferentiableBinaryOp {
    static func gradients(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor, needs: [Bool],
                          _ ctx: ExecutionContext) throws -> (Tensor?, Tensor?) {
        (needs[0] ? try Derivatives.broadcast(DivOp.self, g, b, ctx) : nil,
         needs[1] ? try Derivatives.scaled(try Derivatives.broadcast(DivOp.self, try Derivatives.broadcast(MulOp.self, g, y, ctx), b, ctx),
                                           by: -1, ctx) : nil)
    }
}
extension PowOp: DifferentiableBinaryOp {
    static func gradients(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor, needs: [Bool],
                          _ ctx: ExecutionContext) throws -> (Tensor?, Tensor?) {
        let ga = needs[0] ? try Derivatives.broadcast(MulOp.self, g, try Derivatives.broadcast(PowBaseSlopeOp.self, a, b, ctx), ctx) : nil
        var gb: Tensor?
        if needs[1] {
            let logA = try Derivatives.zipped(a, a, ctx) { a, _ in logf(a) }
            gb = try Derivatives.broadcast(MulOp.self, try Derivatives.broadcast(MulOp.self, g, y, ctx), logA, ctx)
        }
        return (ga, gb)
    }
}
extension PReluOp: DifferentiableBinaryOp {
    static func gradients(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor, needs: [Bool],
                          _ ctx: ExecutionContext) throws -> (Tensor?, Tensor?) {
        (needs[0] ? try Derivatives.broadcast(MulOp.self, g, try Derivatives.broadcast(PReluInputSlopeOp.self, a, b, ctx), ctx) : nil,
         needs[1] ? try Derivatives.broadcast(MulOp.self, g, try Derivatives.broadcast(PReluSlopeSlopeOp.self, a, b, ctx), ctx) : nil)
    }
}

extension ZeroPaddedAddKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try x.map { try $0.map { try Derivatives.cropped(g, to: $0.shape, ctx) } }
    }
}

extension Derivatives {
    /// g[i] where lo < v[i] < hi, else 0: the derivative of Relu and Clip (v: their input, or the
    /// output of a fused one). A plain loop, not a closure: this runs over every activation.
    static func passing(_ g: Tensor, where v: Tensor, above lo: Float, below hi: Float, _ ctx: ExecutionContext) throws -> Tensor {
        guard g.count == v.count else { throw ModelError("gradient size \(g.count) ≠ value size \(v.count)") }
        let out = try ctx.tensor(v.shape), gp = try g.floatData(), vp = try v.floatData(), o = out.buffer.pointer
        // In C: Swift kept the two comparisons as branches, which a Relu's mask mispredicts.
        ctx.parallel(v.count) { r in
            cp_pass_between(gp + r.lowerBound, vp + r.lowerBound, lo, hi, o + r.lowerBound, r.count, DirectConv.isa)
        }
        return out
    }

    /// f(g[i], v[i]) over two tensors of the same size.
    @inline(__always)
    static func zipped(_ g: Tensor, _ v: Tensor, _ ctx: ExecutionContext, _ f: (Float, Float) -> Float) throws -> Tensor {
        guard g.count == v.count else { throw ModelError("gradient size \(g.count) ≠ value size \(v.count)") }
        let out = try ctx.tensor(v.shape), gp = try g.floatData(), vp = try v.floatData(), o = out.buffer.pointer
        ctx.parallel(v.count) { r in for i in r { o[i] = f(gp[i], vp[i]) } }
        return out
    }
}

extension SoftmaxKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [try inputGradient(y[0], g, ctx)]
    }

    /// ∂x = y ⊙ (g − Σ_axis g ⊙ y).
    func inputGradient(_ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        let r = y.shape.count, ax = try normalizeAxis(axis, rank: r, "Softmax")
        let (outer, n, inner) = flattenFromAxis ? (y.shape[..<ax].reduce(1, *), y.shape[ax...].reduce(1, *), 1)
                                                : (y.shape[..<ax].reduce(1, *), y.shape[ax], y.shape[(ax + 1)...].reduce(1, *))
        let out = try ctx.tensor(y.shape), yp = try y.floatData(), gp = try g.floatData(), o = out.buffer.pointer
        for b in 0..<outer {
            for j in 0..<inner {
                let base = b * n * inner + j
                var dot: Float = 0
                for i in 0..<n { dot += gp[base + i * inner] * yp[base + i * inner] }
                for i in 0..<n { o[base + i * inner] = yp[base + i * inner] * (gp[base + i * inner] - dot) }
            }
        }
        return out
    }
}
