/// HardSigmoid: y = max(0, min(1, alpha·x + beta)), the piecewise-linear sigmoid of MobileNetV3.
struct HardSigmoidKernel: RegisteredKernel, DifferentiableKernel {
    static let opTypes = ["HardSigmoid"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try HardSigmoidKernel(a) }

    let alpha: Float, beta: Float

    init(_ a: AttributeReader) throws {
        alpha = try a.float("alpha", 0.2)
        beta = try a.float("beta", 0.5)
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "HardSigmoid")
        guard x.elementType == .float else { throw ModelError("HardSigmoid: needs float input, got \(x.elementType)") }
        let out = try ctx.tensor(x.shape)
        let p = try x.floatData(), o = out.buffer.pointer, a = alpha, b = beta
        ctx.parallel(x.count) { r in for i in r { o[i] = max(0, min(1, a * p[i] + b)) } }
        return [out]
    }

    /// ∂x = alpha·g where the line is not clipped (0 < y < 1), else 0.
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let a = alpha
        return [try Derivatives.zipped(g, y[0], ctx) { g, y in y > 0 && y < 1 ? a * g : 0 }]
    }
}
