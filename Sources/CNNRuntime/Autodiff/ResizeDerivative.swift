import Foundation

extension ResizeKernel: DifferentiableKernel {
    /// Nearest resize moves data (routed back); linear resize blends it.
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        mode == "nearest" ? try Derivatives.routeBack(self, x, g, needs: needs, ctx)
                          : [try linearBackward(x, g, ctx)] + x.dropFirst().map { _ in nil }
    }

    /// Linear resize is separable: per axis a matrix R (output × input) of interpolation weights. Its
    /// gradient applies Rᵀ axis by axis, each a batch of small sgemm calls.
    func linearBackward(_ x: [Tensor?], _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        let input = try x.required(0, "Resize")
        let (shape, coords) = try plan(input, x)
        guard shape == g.shape else { throw ModelError("Resize: gradient \(g.shape) for output \(shape)") }
        var current = g, currentShape = shape
        for ax in 0..<shape.count {
            let inLen = input.shape[ax], outLen = shape[ax]
            var matrix = [Float](repeating: 0, count: outLen * inLen)
            for (o, c) in coords[ax].enumerated() {
                let cc = min(max(c, 0), Float(inLen - 1))
                let i0 = Int(cc.rounded(.down)), i1 = min(i0 + 1, inLen - 1), f = cc - Float(i0)
                matrix[o * inLen + i0] += 1 - f
                if f != 0 { matrix[o * inLen + i1] += f }
            }
            if inLen == outLen && (0..<inLen).allSatisfy({ matrix[$0 * inLen + $0] == 1 }) { continue }
            let outer = currentShape[..<ax].reduce(1, *), inner = currentShape[(ax + 1)...].reduce(1, *)
            var nextShape = currentShape
            nextShape[ax] = inLen
            let next = try ctx.tensor(nextShape), src = try current.floatData(), dst = next.buffer.pointer
            matrix.withUnsafeBufferPointer { r in
                for b in 0..<outer {
                    BLAS.sgemm(transA: true, m: inLen, n: inner, k: outLen, a: r.baseAddress!, lda: inLen,
                               b: src + b * outLen * inner, ldb: inner, c: dst + b * inLen * inner, ldc: inner, threads: ctx.threads)
                }
            }
            current = next
            currentShape = nextShape
        }
        return current
    }
}
