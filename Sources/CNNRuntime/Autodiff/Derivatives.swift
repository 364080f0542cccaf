import Foundation

/// A kernel with a derivative: the gradients of its inputs from the gradient `g` of its first output
/// (vector–Jacobian products). `needs[i]` says which inputs want one; the others may come back nil.
/// Most kernels conform in this folder, next to their derivative's math.
protocol DifferentiableKernel: Kernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?]
}

enum Derivatives {
    static func backward(_ step: Session.Step, _ x: [Tensor?], _ y: [Tensor], _ gy: [Tensor?], needs: [Bool],
                         _ ctx: ExecutionContext) throws -> [Tensor?] {
        guard let g = gy[0] else { return x.map { _ in nil } }
        guard let kernel = step.kernel as? DifferentiableKernel else { throw ModelError("no gradient for this op") }
        return try kernel.backward(x, y, g, needs: needs, ctx)
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
    /// constants the op adds (Pad's value, from input `fillInput`) come out as −1. `data`: the inputs
    /// whose elements are moved (all of Concat's; the first of the others, the rest being pads, scales, indices...).
    static func routeBack(_ kernel: Kernel, _ x: [Tensor?], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext,
                          data: Set<Int> = [0], fillInput: Int? = nil) throws -> [Tensor?] {
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
        if let fill = fillInput {          // what the op adds gets the value −1: no source
            while hiInputs.count <= fill { hiInputs.append(nil); loInputs.append(nil) }
            hiInputs[fill] = .scalar(-1); loInputs[fill] = .scalar(-1)
        }
        let hi = try kernel.run(hiInputs, ctx)[0], lo = try kernel.run(loInputs, ctx)[0]
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
