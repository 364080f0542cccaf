// Ops that only move data: every output element is a copy of one input element (or a constant),
// so each output gradient goes back to where its element came from.

extension Derivatives {
    /// The gradient of a view that keeps every element in place (only the shape changes).
    static func reshapedBack(_ x: [Tensor?], _ g: Tensor) throws -> [Tensor?] {
        [g.reshaped(try x.required(0, "gradient").shape)] + x.dropFirst().map { _ in nil }
    }
}

extension IdentityKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.reshapedBack(x, g)
    }
}

extension ReshapeKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.reshapedBack(x, g)
    }
}

extension FlattenKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.reshapedBack(x, g)
    }
}

extension SqueezeKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.reshapedBack(x, g)
    }
}

extension CastKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.reshapedBack(x, g)
    }
}

extension TransposeKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.routeBack(self, x, g, needs: needs, ctx)
    }
}

extension SliceKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.routeBack(self, x, g, needs: needs, ctx)
    }
}

extension ConcatKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.routeBack(self, x, g, needs: needs, ctx, data: Set(x.indices))
    }
}

extension GatherKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.routeBack(self, x, g, needs: needs, ctx)
    }
}

extension PadKernel: DifferentiableKernel {
    /// Input 2 is the constant value the padding is filled with.
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.routeBack(self, x, g, needs: needs, ctx, fillInput: 2)
    }
}
