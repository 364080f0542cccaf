/// `com.cnnpipe.ZeroPaddedAdd(A, B)`: dlib's add_prev. A + B for float tensors of equal rank whose
/// shapes may differ: the result is as large as the larger operand in every dimension, and each
/// operand counts as zero outside its own extent (anchored at index 0). The face ResNet adds a
/// 32-channel shortcut to a 64-channel branch this way, and a 3×3 branch to a 4×4 pooled shortcut.
struct ZeroPaddedAddKernel: RegisteredKernel {
    static let domain = OpRegistry.customDomain
    static let opTypes = ["ZeroPaddedAdd"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { ZeroPaddedAddKernel() }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let a = try inputs.required(0, "ZeroPaddedAdd"), b = try inputs.required(1, "ZeroPaddedAdd")
        guard a.shape.count == b.shape.count, !a.shape.isEmpty else {
            throw ModelError("ZeroPaddedAdd: operands \(a.shape) and \(b.shape) must have the same rank (at least 1)")
        }
        let pa = try a.floatData(), pb = try b.floatData()
        let out = try ctx.tensor(a.shape == b.shape ? a.shape : zip(a.shape, b.shape).map { max($0, $1) })
        let po = out.buffer.pointer
        if a.shape == b.shape {
            ctx.parallel(out.count) { r in
                for i in r { po[i] = pa[i] + pb[i] }
            }
            return [out]
        }
        ctx.parallel(out.count) { r in (po + r.lowerBound).initialize(repeating: 0, count: r.count) }
        accumulate(pa, a.shape, into: po, out.shape, ctx)
        accumulate(pb, b.shape, into: po, out.shape, ctx)
        return [out]
    }

    /// Adds `src` into the corner of `dst` it covers, one innermost row at a time.
    private func accumulate(_ src: UnsafePointer<Float>, _ shape: [Int], into dst: UnsafeMutablePointer<Float>,
                            _ outShape: [Int], _ ctx: ExecutionContext) {
        let rank = shape.count, rowLength = shape[rank - 1]
        let rows = shape.dropLast().reduce(1, *)
        guard rows > 0, rowLength > 0 else { return }
        var outStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { outStrides[d] = outStrides[d + 1] * outShape[d + 1] }
        ctx.parallel(rows, minimumPerThread: max(1, 16_384 / rowLength)) { r in
            for row in r {
                // Row index → position in the source's outer dimensions → offset in the output.
                var rest = row, offset = 0
                for d in stride(from: rank - 2, through: 0, by: -1) {
                    offset += (rest % shape[d]) * outStrides[d]
                    rest /= shape[d]
                }
                let s = src + row * rowLength, o = dst + offset
                for i in 0..<rowLength { o[i] += s[i] }
            }
        }
    }
}
