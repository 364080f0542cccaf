import Foundation

extension MatMulKernel: DifferentiableKernel {
    /// MatMul: ∂A = G·Bᵀ, ∂B = Aᵀ·G per batch matrix, summed over broadcast batch dimensions.
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let a = try x.required(0, "MatMul"), b = try x.required(1, "MatMul")
        var sa = a.shape, sb = b.shape
        if sa.count == 1 { sa = [1] + sa }
        if sb.count == 1 { sb = sb + [1] }
        let (m, k, n) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
        guard let batch = broadcastShape(Array(sa.dropLast(2)), Array(sb.dropLast(2))) else { throw ModelError("MatMul: shapes do not broadcast") }
        let ga = needs[0] ? try Derivatives.zeros(sa, ctx) : nil, gb = needs[1] ? try Derivatives.zeros(sb, ctx) : nil
        let ap = try a.floatData(), bp = try b.floatData(), gp = try g.floatData()
        let strideA = broadcastStrides(Array(sa.dropLast(2)), to: batch), strideB = broadcastStrides(Array(sb.dropLast(2)), to: batch)
        var index = 0
        forEachRun(shape: batch, strides: [strideA, strideB]) { _, offs, count, inner in
            for i in 0..<count {
                let oa = (offs[0] + i * inner[0]) * m * k, ob = (offs[1] + i * inner[1]) * k * n, pg = gp + index * m * n
                if let ga { BLAS.sgemm(transB: true, m: m, n: k, k: n, a: pg, lda: n, b: bp + ob, ldb: n, beta: 1, c: ga.buffer.pointer + oa, ldc: k, threads: ctx.threads) }
                if let gb { BLAS.sgemm(transA: true, m: k, n: n, k: m, a: ap + oa, lda: k, b: pg, ldb: n, beta: 1, c: gb.buffer.pointer + ob, ldc: n, threads: ctx.threads) }
                index += 1
            }
        }
        return [ga?.reshaped(a.shape), gb?.reshaped(b.shape)]
    }
}

extension GemmKernel: DifferentiableKernel {
    /// Y = α·op(A)·op(B) + β·C: ∂op(A) = α·G·op(B)ᵀ, ∂op(B) = α·op(A)ᵀ·G, ∂C = β·G summed to C's shape.
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let a = try x.required(0, "Gemm"), b = try x.required(1, "Gemm")
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1], n = g.shape[1]
        let ap = try a.floatData(), bp = try b.floatData(), gp = try g.floatData()
        let lda = a.shape[1], ldb = b.shape[1]
        var ga: Tensor?, gb: Tensor?, gc: Tensor?
        if needs[0] {
            let t = try ctx.tensor(a.shape)
            if transA {
                BLAS.sgemm(transA: transB, transB: true, m: k, n: m, k: n, alpha: alpha, a: bp, lda: ldb, b: gp, ldb: n, c: t.buffer.pointer, ldc: m, threads: ctx.threads)
            } else {
                BLAS.sgemm(transB: !transB, m: m, n: k, k: n, alpha: alpha, a: gp, lda: n, b: bp, ldb: ldb, c: t.buffer.pointer, ldc: k, threads: ctx.threads)
            }
            ga = t
        }
        if needs[1] {
            let t = try ctx.tensor(b.shape)
            if transB {
                BLAS.sgemm(transA: true, transB: transA, m: n, n: k, k: m, alpha: alpha, a: gp, lda: n, b: ap, ldb: lda, c: t.buffer.pointer, ldc: k, threads: ctx.threads)
            } else {
                BLAS.sgemm(transA: !transA, m: k, n: n, k: m, alpha: alpha, a: ap, lda: lda, b: gp, ldb: n, c: t.buffer.pointer, ldc: n, threads: ctx.threads)
            }
            gb = t
        }
        if needs.count > 2, needs[2], let c = x[2] {
            gc = try Derivatives.reduced(try Derivatives.scaled(g, by: beta, ctx), to: c.shape, ctx)
        }
        return [ga, gb, gc]
    }
}
