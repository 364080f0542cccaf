// Quantisation: straight through (Q then DQ of an activation passes the gradient unchanged).

extension FakeQuantKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [g] + x.dropFirst().map { _ in nil }
    }
}

extension QuantizeKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [try Derivatives.scaled(g, by: 1 / Derivatives.quantScale(x, "QuantizeLinear"), ctx)] + x.dropFirst().map { _ in nil }
    }
}

extension DequantizeKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [try Derivatives.scaled(g, by: Derivatives.quantScale(x, "DequantizeLinear"), ctx)] + x.dropFirst().map { _ in nil }
    }
}
