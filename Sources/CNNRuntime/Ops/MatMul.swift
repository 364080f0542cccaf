
/// MatMul with numpy semantics: 1-D operands are promoted, leading (batch) dimensions broadcast.
struct MatMulKernel: RegisteredKernel {
    static let opTypes = ["MatMul"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { MatMulKernel() }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let a = try inputs.required(0, "MatMul"), b = try inputs.required(1, "MatMul")
        guard a.elementType == .float, b.elementType == .float else { throw ModelError("MatMul: only float32 is supported") }
        var sa = a.shape, sb = b.shape
        guard !sa.isEmpty, !sb.isEmpty else { throw ModelError("MatMul: scalar operand (\(a.shape), \(b.shape))") }
        let aVector = sa.count == 1, bVector = sb.count == 1
        if aVector { sa = [1] + sa }
        if bVector { sb = sb + [1] }
        let (m, k) = (sa[sa.count - 2], sa[sa.count - 1]), (k2, n) = (sb[sb.count - 2], sb[sb.count - 1])
        guard k == k2, let batch = broadcastShape(Array(sa.dropLast(2)), Array(sb.dropLast(2))) else {
            throw ModelError("MatMul: shapes \(a.shape) and \(b.shape) do not multiply")
        }
        var shape = batch + [m, n]
        let out = try ctx.tensor(shape)
        let strideA = broadcastStrides(Array(sa.dropLast(2)), to: batch), strideB = broadcastStrides(Array(sb.dropLast(2)), to: batch)
        let ap = (try a.floatData()), bp = (try b.floatData()), op = out.buffer.pointer
        ctx.multiplyAdds += batch.reduce(1, *) * m * n * k
        var index = 0
        forEachRun(shape: batch, strides: [strideA, strideB]) { _, offs, count, inner in
            for i in 0..<count {
                let pa = ap + (offs[0] + i * inner[0]) * m * k, pb = bp + (offs[1] + i * inner[1]) * k * n
                BLAS.sgemm(m: m, n: n, k: k, a: pa, lda: k, b: pb, ldb: n, c: op + index * m * n, ldc: n, threads: ctx.threads)
                index += 1
            }
        }
        if aVector { shape.remove(at: shape.count - 2) }
        if bVector { shape.removeLast() }
        return [out.reshaped(shape)]
    }
}

/// Gemm: alpha·op(A)·op(B) + beta·C, C broadcast to [M, N].
struct GemmKernel: RegisteredKernel {
    static let opTypes = ["Gemm"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try GemmKernel(a) }

    let alpha: Float, beta: Float, transA: Bool, transB: Bool

    init(_ a: AttributeReader) throws {
        alpha = try a.float("alpha", 1)
        beta = try a.float("beta", 1)
        transA = try a.int("transA", 0) != 0
        transB = try a.int("transB", 0) != 0
        _ = try a.int("broadcast", 0)      // opset < 7: C broadcasts, as it always does now
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let a = try inputs.required(0, "Gemm"), b = try inputs.required(1, "Gemm")
        guard a.shape.count == 2, b.shape.count == 2 else { throw ModelError("Gemm: A and B must be 2-D, got \(a.shape), \(b.shape)") }
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? b.shape[0] : b.shape[1], k2 = transB ? b.shape[1] : b.shape[0]
        guard k == k2 else { throw ModelError("Gemm: shapes \(a.shape) and \(b.shape) do not multiply") }
        let out = try ctx.tensor([m, n])
        let op = out.buffer.pointer
        var betaUsed: Float = 0
        if inputs.count > 2, let c = inputs[2], beta != 0 {
            guard let s = broadcastShape(c.shape, [m, n]), s == [m, n] else { throw ModelError("Gemm: C \(c.shape) does not broadcast to [\(m), \(n)]") }
            let strides = broadcastStrides(c.shape, to: [m, n])
            let cp = (try c.floatData())
            for i in 0..<m { for j in 0..<n { op[i * n + j] = cp[i * strides[0] + j * strides[1]] } }
            betaUsed = beta
        }
        ctx.multiplyAdds += m * n * k
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: try a.floatData(), lda: a.shape[1],
                   b: try b.floatData(), ldb: b.shape[1], beta: betaUsed, c: op, ldc: n, threads: ctx.threads)
        return [out]
    }
}
