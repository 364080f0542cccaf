import Foundation

// Helper ops for the derivatives of the broadcasting binary ops.
enum PowBaseSlopeOp: BinaryFloatOp { static func apply(_ a: Float, _ b: Float) -> Float { b == 0 ? 0 : b * powf(a, b - 1) } }
enum PReluInputSlopeOp: BinaryFloatOp { static func apply(_ a: Float, _ s: Float) -> Float { a < 0 ? s : 1 } }
enum PReluSlopeSlopeOp: BinaryFloatOp { static func apply(_ a: Float, _ s: Float) -> Float { a < 0 ? a : 0 } }

extension Derivatives {
    /// Activations and arithmetic; nil when the step is none of them.
    static func elementwiseBackward(_ step: Session.Step, _ x: [Tensor?], _ y: Tensor, _ g: Tensor, needs: [Bool],
                                    _ ctx: ExecutionContext) throws -> [Tensor?]? {
        let k = step.kernel
        switch k {
        case is UnaryKernel<ReluOp>: return [try passing(g, where: y, above: 0, below: .infinity, ctx)]
        case is UnaryKernel<SigmoidOp>: return [try zipped(g, y, ctx) { g, y in g * y * (1 - y) }]
        case is UnaryKernel<TanhOp>: return [try zipped(g, y, ctx) { g, y in g * (1 - y * y) }]
        case is UnaryKernel<SqrtOp>: return [try zipped(g, y, ctx) { g, y in g * 0.5 / y }]
        case is UnaryKernel<ReciprocalOp>: return [try zipped(g, y, ctx) { g, y in -g * y * y }]
        case is UnaryKernel<ExpOp>: return [try zipped(g, y, ctx) { g, y in g * y }]
        case is UnaryKernel<NegOp>: return [try scaled(g, by: -1, ctx)]
        case is UnaryKernel<AbsOp>:
            return [try zipped(g, try x.required(0, "Abs"), ctx) { g, x in x > 0 ? g : (x < 0 ? -g : 0) }]
        case let clip as ClipKernel:
            let lo = x.count > 1 ? x[1]?.floats.first ?? clip.attributeMin : clip.attributeMin
            let hi = x.count > 2 ? x[2]?.floats.first ?? clip.attributeMax : clip.attributeMax
            return [try passing(g, where: try x.required(0, "Clip"), above: lo, below: hi, ctx)] + x.dropFirst().map { _ in nil }
        case let leaky as LeakyReluKernel:
            let alpha = leaky.alpha
            return [try zipped(g, try x.required(0, "LeakyRelu"), ctx) { g, x in x < 0 ? g * alpha : g }]
        case is BinaryKernel<AddOp>, is BinaryKernel<SubOp>, is BinaryKernel<MulOp>, is BinaryKernel<DivOp>,
             is BinaryKernel<PowOp>, is BinaryKernel<PReluOp>:
            return try binaryBackward(k, x, y, g, needs: needs, ctx)
        default:
            return nil
        }
    }

    private static func binaryBackward(_ k: Kernel, _ x: [Tensor?], _ y: Tensor, _ g: Tensor, needs: [Bool],
                                       _ ctx: ExecutionContext) throws -> [Tensor?] {
        let a = try x.required(0, "gradient"), b0 = try x.required(1, "gradient")
        guard a.elementType == .float, b0.elementType == .float else { return [nil, nil] }
        // The operand shapes the forward pass broadcast (legacy axis and per-channel PRelu slopes).
        var b = b0
        if let axis = (k as? BinaryKernel<AddOp>)?.legacyAxis ?? (k as? BinaryKernel<MulOp>)?.legacyAxis
            ?? (k as? BinaryKernel<SubOp>)?.legacyAxis ?? (k as? BinaryKernel<DivOp>)?.legacyAxis, b.shape.count < a.shape.count {
            let ax = axis < 0 ? axis + a.shape.count : axis
            b = b.reshaped(b.shape + Array(repeating: 1, count: max(0, a.shape.count - ax - b.shape.count)))
        }
        if k is BinaryKernel<PReluOp>, broadcastShape(a.shape, b.shape) == nil, b.shape.count == 1, a.shape.count > 1 {
            b = b.reshaped([b.shape[0]] + Array(repeating: 1, count: a.shape.count - 2))
        }
        func run<Op: BinaryFloatOp>(_ op: Op.Type, _ p: Tensor, _ q: Tensor) throws -> Tensor {
            try BinaryKernel<Op>(name: "gradient").run([p, q], ctx)[0]
        }
        var ga: Tensor?, gb: Tensor?
        switch k {
        case is BinaryKernel<AddOp>:
            ga = g; gb = g
        case is BinaryKernel<SubOp>:
            ga = g; gb = needs[1] ? try scaled(g, by: -1, ctx) : nil
        case is BinaryKernel<MulOp>:
            ga = needs[0] ? try run(MulOp.self, g, b) : nil
            gb = needs[1] ? try run(MulOp.self, g, a) : nil
        case is BinaryKernel<DivOp>:
            ga = needs[0] ? try run(DivOp.self, g, b) : nil
            gb = needs[1] ? try scaled(try run(DivOp.self, try run(MulOp.self, g, y), b), by: -1, ctx) : nil
        case is BinaryKernel<PowOp>:
            ga = needs[0] ? try run(MulOp.self, g, try run(PowBaseSlopeOp.self, a, b)) : nil
            if needs[1] {
                let logA = try zipped(a, a, ctx) { a, _ in logf(a) }
                gb = try run(MulOp.self, try run(MulOp.self, g, y), logA)
            }
        default: // PRelu
            ga = needs[0] ? try run(MulOp.self, g, try run(PReluInputSlopeOp.self, a, b)) : nil
            gb = needs[1] ? try run(MulOp.self, g, try run(PReluSlopeSlopeOp.self, a, b)) : nil
        }
        return [try ga.map { try reduced($0, to: a.shape, ctx) },
                try gb.map { try reduced($0, to: b.shape, ctx).reshaped(b0.shape) }]
    }

    /// g[i] where lo < v[i] < hi, else 0: the derivative of Relu and Clip (v: their input, or the
    /// output of a fused one). A plain loop, not a closure: this runs over every activation.
    static func passing(_ g: Tensor, where v: Tensor, above lo: Float, below hi: Float, _ ctx: ExecutionContext) throws -> Tensor {
        guard g.count == v.count else { throw ModelError("gradient size \(g.count) ≠ value size \(v.count)") }
        let out = try ctx.tensor(v.shape), gp = try g.floatData(), vp = try v.floatData(), o = out.buffer.pointer
        ctx.parallel(v.count) { r in for i in r { o[i] = vp[i] > lo && vp[i] < hi ? gp[i] : 0 } }
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

extension SoftmaxKernel {
    /// ∂x = y ⊙ (g − Σ_axis g ⊙ y).
    func backward(_ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
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
