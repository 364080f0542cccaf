// Ops that only move data: every output element is a copy of one input element (or a constant),
// so each output gradient goes back to where its element came from.

/// A kernel whose output is its first input with another shape (or element type): the gradient is
/// reshaped back.
protocol KeepsElementsInPlace: DifferentiableKernel {}

extension KeepsElementsInPlace {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [g.reshaped(try x.required(0, "gradient").shape)] + x.dropFirst().map { _ in nil }
    }
}

/// A kernel whose output elements are each a copy of one element of its first input: the gradient
/// is routed back through the same index map.
protocol MovesEveryElement: DifferentiableKernel, Kernel {}

extension MovesEveryElement {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.routeBack(self, x, g, needs: needs, ctx)
    }
}

extension IdentityKernel: KeepsElementsInPlace {}

extension ReshapeKernel: KeepsElementsInPlace {}

extension FlattenKernel: KeepsElementsInPlace {}

extension SqueezeKernel: KeepsElementsInPlace {}

extension CastKernel: KeepsElementsInPlace {}

extension TransposeKernel: MovesEveryElement {}

extension SliceKernel: MovesEveryElement {}

extension ConcatKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.routeBack(self, x, g, needs: needs, ctx, data: Set(x.indices))
    }
}

extension GatherKernel: MovesEveryElement {}

extension PadKernel: DifferentiableKernel {
    /// Input 2 is the constant value the padding is filled with.
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.routeBack(self, x, g, needs: needs, ctx, fillInput: 2)
    }
}
