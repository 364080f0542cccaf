
/// Transposed convolution (1D, 2D, 3D, groups): columns = Wᵀ · X through sgemm, then col2im adds
/// each column back into the output positions it came from.
struct ConvTransposeKernel: RegisteredKernel {
    static let opTypes = ["ConvTranspose"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ConvTransposeKernel(a) }

    let spatial: SpatialAttributes
    let group: Int
    let outputPadding: [Int]?
    let outputShape: [Int]?

    init(_ a: AttributeReader) throws {
        spatial = try SpatialAttributes(a)
        group = try a.int("group", 1)
        outputPadding = try a.ints("output_padding")
        outputShape = try a.ints("output_shape")
        guard group >= 1, group <= TensorLimits.maximumAttribute else { throw a.error("group \(group) is out of range") }
        do {
            try TensorLimits.attribute(outputPadding ?? [], "output_padding")
            try TensorLimits.attribute(outputShape ?? [], "output_shape", minimum: 1)
        } catch { throw a.error("\(error)") }
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "ConvTranspose"), w = try inputs.required(1, "ConvTranspose")
        let bias = inputs.count > 2 ? inputs[2]?.floats : nil
        let rank = x.shape.count
        guard rank >= 3, rank <= 5, w.shape.count == rank else {
            throw ModelError("ConvTranspose: input \(x.shape) and weights \(w.shape) must be 3-5D and of equal rank")
        }
        let n = x.shape[0], c = x.shape[1], cg = c / group, mg = w.shape[1], m = mg * group
        guard w.shape[0] == c, c % group == 0 else { throw ModelError("ConvTranspose: weights \(w.shape) do not fit \(c) channels") }
        let inDims = Array(x.shape[2...]), k = spatial.kernel ?? Array(w.shape[2...]), dims = inDims.count
        let s = spatial.strides ?? Array(repeating: 1, count: dims), d = spatial.dilations ?? Array(repeating: 1, count: dims)
        let op = outputPadding ?? Array(repeating: 0, count: dims)
        guard k.count == dims, s.count == dims, d.count == dims, op.count == dims, k.allSatisfy({ $0 > 0 }),
              (spatial.pads?.count ?? 2 * dims) == 2 * dims, (outputShape?.count ?? dims) >= dims,
              bias == nil || bias!.count == m, k == Array(w.shape[2...]) else {
            throw ModelError("ConvTranspose: kernel \(k), strides \(s), dilations \(d), pads, output_padding \(op) "
                             + "or bias do not fit input \(x.shape) and weights \(w.shape)")
        }
        var begin = [Int](repeating: 0, count: dims), out = [Int](repeating: 0, count: dims)
        for i in 0..<dims {
            let full = s[i] * (inDims[i] - 1) + op[i] + (k[i] - 1) * d[i] + 1
            if let shape = outputShape {
                let target = shape[shape.count - dims + i], total = max(0, full - target)
                begin[i] = spatial.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                out[i] = target
            } else if spatial.autoPad == "SAME_UPPER" || spatial.autoPad == "SAME_LOWER" {
                out[i] = inDims[i] * s[i]
                let total = max(0, full - out[i])
                begin[i] = spatial.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
            } else {
                let p = spatial.pads ?? Array(repeating: 0, count: 2 * dims)
                begin[i] = p[i]
                out[i] = full - p[i] - p[i + dims]
            }
            guard out[i] > 0 else { throw ModelError("ConvTranspose: output size would be \(out[i])") }
        }
        let ks = k.reduce(1, *), pin = inDims.reduce(1, *), pout = out.reduce(1, *)
        let result = try ctx.tensor([n, m] + out)
        let rp = result.buffer.pointer
        rp.update(repeating: 0, count: result.count)
        let columns = try ctx.tensor([mg * ks, pin])
        let cp = columns.buffer.pointer, xp = (try x.floatData()), wp = (try w.floatData())
        ctx.multiplyAdds += n * c * mg * ks * pin
        var outStrides = [Int](repeating: 1, count: dims)
        for i in stride(from: dims - 2, through: 0, by: -1) { outStrides[i] = outStrides[i + 1] * out[i + 1] }
        for b in 0..<n {
            for gi in 0..<group {
                // columns[mg·K, Pin] = W_gᵀ [mg·K, cg] × X_g [cg, Pin]
                BLAS.sgemm(transA: true, m: mg * ks, n: pin, k: cg, a: wp + gi * cg * mg * ks, lda: mg * ks,
                           b: xp + (b * c + gi * cg) * pin, ldb: pin, c: cp, ldc: pin, threads: ctx.threads)
                let dst = rp + (b * m + gi * mg) * pout
                var kIdx = [Int](repeating: 0, count: dims), iIdx = [Int](repeating: 0, count: dims)
                for row in 0..<(mg * ks) {
                    let ch = row / ks
                    var r = row % ks
                    for i in stride(from: dims - 1, through: 0, by: -1) { kIdx[i] = r % k[i]; r /= k[i] }
                    let src = cp + row * pin, plane = dst + ch * pout
                    for j in 0..<pin {
                        var q = j, offset = 0, inside = true
                        for i in stride(from: dims - 1, through: 0, by: -1) { iIdx[i] = q % inDims[i]; q /= inDims[i] }
                        for i in 0..<dims {
                            let pos = iIdx[i] * s[i] - begin[i] + kIdx[i] * d[i]
                            if pos < 0 || pos >= out[i] { inside = false; break }
                            offset += pos * outStrides[i]
                        }
                        if inside { plane[offset] += src[j] }
                    }
                }
            }
            if let bias {
                for ch in 0..<m { let p = rp + (b * m + ch) * pout; for i in 0..<pout { p[i] += bias[ch] } }
            }
        }
        return [result]
    }
}
