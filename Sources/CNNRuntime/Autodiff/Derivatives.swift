import Foundation

/// Each op's derivative: the gradients of its inputs from the gradient of its output (vector–Jacobian
/// products). `needs[i]` says which inputs want one; the others may come back nil.
enum Derivatives {
    static func backward(_ step: Session.Step, _ x: [Tensor?], _ y: [Tensor], _ gy: [Tensor?], needs: [Bool],
                         _ ctx: ExecutionContext) throws -> [Tensor?] {
        guard let g = gy[0] else { return x.map { _ in nil } }
        switch step.kernel {
        // Pure data movement (every output element is a copy of one input element, or a constant):
        case is IdentityKernel, is ReshapeKernel, is FlattenKernel, is SqueezeKernel, is CastKernel:
            return [g.reshaped(try x.required(0, "gradient").shape)] + x.dropFirst().map { _ in nil }
        case is TransposeKernel, is SliceKernel, is ConcatKernel, is GatherKernel:
            return try routeBack(step, x, g, needs: needs, ctx)
        case is PadKernel:
            return try routeBack(step, x, g, needs: needs, ctx)
        case let resize as ResizeKernel:
            return resize.mode == "nearest" ? try routeBack(step, x, g, needs: needs, ctx)
                                            : [try resize.linearBackward(x, g, ctx)] + x.dropFirst().map { _ in nil }
        // Quantisation: straight through (Q then DQ of an activation passes the gradient unchanged).
        case is FakeQuantKernel:
            return [g] + x.dropFirst().map { _ in nil }
        case is QuantizeKernel:
            return [try scaled(g, by: 1 / quantScale(x, "QuantizeLinear"), ctx)] + x.dropFirst().map { _ in nil }
        case is DequantizeKernel:
            return [try scaled(g, by: quantScale(x, "DequantizeLinear"), ctx)] + x.dropFirst().map { _ in nil }
        case let conv as ConvKernel:
            return try conv.backward(x, y[0], g, needs: needs, ctx)
        case let pool as PoolKernel:
            return [try pool.backward(try x.required(0, "pool"), y[0], g, ctx)]
        case let pool as GlobalPoolKernel:
            return [try pool.backward(try x.required(0, "pool"), y[0], g, ctx)]
        case let reduce as ReduceKernel:
            return [try reduce.backward(x, g, ctx)] + x.dropFirst().map { _ in nil }
        case let norm as InstanceNormKernel:
            return try instanceNormBackward(x, y[0], g, epsilon: norm.epsilon, relu: false, needs: needs, ctx)
        case let norm as FusedInstanceNormKernel:
            return try instanceNormBackward(x, y[0], g, epsilon: norm.epsilon, relu: norm.relu, needs: needs, ctx)
        case let norm as BatchNormKernel:
            return try norm.backward(x, g, needs: needs, ctx)
        case is MatMulKernel:
            return try matMulBackward(x, g, needs: needs, ctx)
        case let gemm as GemmKernel:
            return try gemm.backward(x, g, needs: needs, ctx)
        case is ZeroPaddedAddKernel:
            return try x.map { try $0.map { try cropped(g, to: $0.shape, ctx) } }
        case let softmax as SoftmaxKernel:
            return [try softmax.backward(y[0], g, ctx)]
        default:
            if let gradients = try elementwiseBackward(step, x, y[0], g, needs: needs, ctx) { return gradients }
            throw ModelError("no gradient for this op")
        }
    }

    /// The scalar scale of a QuantizeLinear/DequantizeLinear (per-axis scales are for weights, which
    /// are constants and never differentiated).
    static func quantScale(_ x: [Tensor?], _ op: String) throws -> Float {
        let scale = try x.required(1, op)
        guard scale.count == 1 else { throw ModelError("\(op): per-axis quantisation of a differentiated value is not supported") }
        return scale.floats[0]
    }

    // MARK: routing (data movement ops)

    /// Gradients of a data-movement op (Transpose, Slice, Concat, Pad, Gather, nearest Resize): the
    /// op itself runs on element ids instead of values, so the output tells where each element came
    /// from, and each output gradient is added to its source. Ids go through float in two exact
    /// halves (id = hi · 4096 + lo, each < 2^24), so any tensor of up to 2^36 elements routes exactly;
    /// constants the op adds (Pad's value) come out as −1.
    static func routeBack(_ step: Session.Step, _ x: [Tensor?], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        // The data inputs: all of Concat's, the first of the others (the rest are pads, scales, indices...).
        let data = step.kernel is ConcatKernel ? Set(x.indices) : [0]
        // Integer data (quantised activations) routes too: ids are float whatever the values' type.
        let routed = x.indices.filter { needs[$0] && data.contains($0) && x[$0] != nil }
        var offsets: [Int: Int] = [:]
        var total = 0
        for i in routed { offsets[i] = total; total += x[i]!.count }
        func ids(_ part: (Int) -> Float) throws -> [Tensor?] {
            try x.indices.map { i in
                guard let t = x[i] else { return nil }
                guard data.contains(i) else { return t }
                let out = try ctx.tensor(t.shape), p = out.buffer.pointer
                if let base = offsets[i] {
                    for j in 0..<t.count { p[j] = part(base + j) }
                } else {
                    p.update(repeating: -1, count: t.count)      // not differentiated: no source
                }
                return out
            }
        }
        var hiInputs = try ids { Float($0 >> 12) }, loInputs = try ids { Float($0 & 4095) }
        if step.kernel is PadKernel {          // padding gets the value −1: no source
            while hiInputs.count < 3 { hiInputs.append(nil); loInputs.append(nil) }
            hiInputs[2] = .scalar(-1); loInputs[2] = .scalar(-1)
        }
        let hi = try step.kernel.run(hiInputs, ctx)[0], lo = try step.kernel.run(loInputs, ctx)[0]
        var grads: [Int: Tensor] = [:]
        for i in routed {
            let t = try ctx.tensor(x[i]!.shape)
            t.buffer.pointer.update(repeating: 0, count: t.count)
            grads[i] = t
        }
        let hp = try hi.floatData(), lp = try lo.floatData(), gp = try g.floatData()
        // Sources in id order: one flat table of (input, offset) lookups.
        let owners = routed.map { (i: $0, start: offsets[$0]!, end: offsets[$0]! + x[$0]!.count, p: grads[$0]!.buffer.pointer) }
        for j in 0..<g.count where hp[j] >= 0 {
            let id = Int(hp[j]) << 12 | Int(lp[j])
            guard let o = owners.first(where: { id >= $0.start && id < $0.end }) else { continue }
            o.p[id - o.start] += gp[j]
        }
        return x.indices.map { grads[$0] }
    }

    // MARK: small tensor helpers

    static func zeros(_ shape: [Int], _ ctx: ExecutionContext) throws -> Tensor {
        let t = try ctx.tensor(shape)
        t.buffer.pointer.update(repeating: 0, count: t.count)
        return t
    }

    static func scaled(_ g: Tensor, by k: Float, _ ctx: ExecutionContext) throws -> Tensor {
        let out = try ctx.tensor(g.shape), p = try g.floatData(), o = out.buffer.pointer
        ctx.parallel(g.count) { r in for i in r { o[i] = p[i] * k } }
        return out
    }

    /// Sums a gradient of a broadcast result back to the operand's shape.
    static func reduced(_ g: Tensor, to shape: [Int], _ ctx: ExecutionContext) throws -> Tensor {
        if g.shape == shape { return g }
        let out = try zeros(shape, ctx), o = out.buffer.pointer, gp = try g.floatData()
        forEachRun(shape: g.shape, strides: [broadcastStrides(shape, to: g.shape)]) { off, offs, n, inner in
            let d = o + offs[0], s = gp + off
            if inner[0] == 0 {
                var sum: Float = 0
                for i in 0..<n { sum += s[i] }
                d[0] += sum
            } else {
                for i in 0..<n { d[i * inner[0]] += s[i] }
            }
        }
        return out
    }

    /// The part of `g` inside `shape` (anchored at index 0), for ZeroPaddedAdd's operands.
    static func cropped(_ g: Tensor, to shape: [Int], _ ctx: ExecutionContext) throws -> Tensor {
        if g.shape == shape { return g }
        let out = try ctx.tensor(shape), o = out.buffer.pointer, gp = try g.floatData()
        var strides = [Int](repeating: 1, count: g.shape.count)
        for i in stride(from: g.shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * g.shape[i + 1] }
        forEachRun(shape: shape, strides: [strides]) { off, offs, n, inner in
            for i in 0..<n { o[off + i] = gp[offs[0] + i * inner[0]] }
        }
        return out
    }
}
