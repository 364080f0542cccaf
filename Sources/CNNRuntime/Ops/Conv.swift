import COpenBLAS
import Foundation

/// What a fused convolution applies after adding its bias.
enum Activation: Sendable {
    case none, relu
    case clip(Float, Float)

    func apply(_ p: UnsafeMutablePointer<Float>, _ n: Int, bias: Float) {
        switch self {
        case .none: for i in 0..<n { p[i] += bias }
        case .relu: for i in 0..<n { p[i] = max(p[i] + bias, 0) }
        case .clip(let lo, let hi): for i in 0..<n { p[i] = min(max(p[i] + bias, lo), hi) }
        }
    }
}

/// Convolution in 1D, 2D and 3D with groups (depthwise included), strides, dilations, pads and
/// auto_pad. The work is a matrix product per group: weights [M/g, C/g·K] × columns [C/g·K, P]
/// through OpenBLAS sgemm; the columns come from im2col (or are the input itself for 1×1 convs).
/// Depthwise convolutions run direct, vectorised along output rows.
struct ConvKernel: Kernel {
    let spatial: SpatialAttributes
    let group: Int
    var activation: Activation = .none
    let name: String

    init(_ a: AttributeReader) throws {
        spatial = try SpatialAttributes(a)
        group = try a.int("group", 1)
        name = a.node.name
        guard group >= 1 else { throw a.error("group \(group) must be positive") }
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Conv"), w = try inputs.required(1, "Conv")
        let bias = inputs.count > 2 ? inputs[2] : nil
        let rank = x.shape.count
        guard rank >= 3, rank <= 5, w.shape.count == rank else {
            throw ModelError("Conv '\(name)': input \(x.shape) and weights \(w.shape) must be 3-5D and of equal rank")
        }
        let n = x.shape[0], c = x.shape[1], m = w.shape[0], cg = w.shape[1]
        guard c == cg * group, m % group == 0 else {
            throw ModelError("Conv '\(name)': \(c) input channels, weights \(w.shape), group \(group) do not match")
        }
        let kernel = spatial.kernel ?? Array(w.shape[2...])
        guard kernel == Array(w.shape[2...]) else { throw ModelError("Conv '\(name)': kernel_shape \(kernel) ≠ weights \(w.shape)") }
        let g = try spatial.resolve(input: Array(x.shape[2...]), kernel: kernel, op: "Conv '\(name)'")
        let out = ctx.tensor([n, m] + g.output)
        let biasValues = bias.map(\.floats) ?? []
        guard biasValues.isEmpty || biasValues.count == m else { throw ModelError("Conv '\(name)': bias has \(biasValues.count) values for \(m) channels") }

        let mg = m / group, kc = cg * g.kernelSize, p = g.outputSize, inSize = g.inputSize
        ctx.multiplyAdds += n * m * p * kc
        let xp = (try x.floatData()), wp = (try w.floatData()), op = out.buffer.pointer
        let depthwise = cg == 1 && mg == 1 && g.input.count <= 2
        for b in 0..<n {
            if depthwise {
                depthwiseConv(xp + b * c * inSize, wp, op + b * m * p, channels: c, g.as2D, ctx)
            } else {
                let pointwise = g.kernel.allSatisfy { $0 == 1 } && g.strides.allSatisfy { $0 == 1 }
                    && g.padBegin.allSatisfy { $0 == 0 } && g.padEnd.allSatisfy { $0 == 0 }
                var columns: Tensor? = nil
                if !pointwise { columns = ctx.tensor([kc, p]) }
                for gi in 0..<group {
                    let src = xp + (b * c + gi * cg) * inSize
                    var colPointer = UnsafePointer(src)
                    if let columns {
                        im2col(src, columns.buffer.pointer, channels: cg, g, ctx)
                        colPointer = UnsafePointer(columns.buffer.pointer)
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(mg), Int32(p), Int32(kc), 1,
                                wp + gi * mg * kc, Int32(kc), colPointer, Int32(p), 0, op + (b * m + gi * mg) * p, Int32(p))
                }
            }
            let base = op + b * m * p
            let act = activation
            if !biasValues.isEmpty || !isNone(act) {
                ctx.parallel(m, minimumPerThread: max(1, 32_768 / max(p, 1))) { r in
                    for ch in r { act.apply(base + ch * p, p, bias: biasValues.isEmpty ? 0 : biasValues[ch]) }
                }
            }
        }
        return [out]
    }

    private func isNone(_ a: Activation) -> Bool { if case .none = a { return true }; return false }

    /// Column matrix [channels · K, P]: row (c, k...) holds the input value each output position sees.
    private func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, channels: Int, _ geo: Geometry,
                        _ ctx: ExecutionContext) {
        if geo.input.count <= 2 {
            let g = geo.as2D
            let (ih, iw) = (g.input[0], g.input[1]), (kh, kw) = (g.kernel[0], g.kernel[1])
            let (oh, ow) = (g.output[0], g.output[1]), (sh, sw) = (g.strides[0], g.strides[1])
            let (dh, dw) = (g.dilations[0], g.dilations[1]), (ph, pw) = (g.padBegin[0], g.padBegin[1])
            ctx.parallel(channels * kh * kw, minimumPerThread: max(1, 16_384 / max(1, oh * ow))) { rows in
                for row in rows {
                    let ci = row / (kh * kw), ky = (row / kw) % kh, kx = row % kw
                    let src = x + ci * ih * iw
                    let dst = col + row * oh * ow
                    // Output columns whose input x is inside the image: [x0, x1).
                    let offset = kx * dw - pw
                    let x0 = min(ow, max(0, (-offset + sw - 1) / sw)), x1 = min(ow, max(x0, (iw - offset + sw - 1) / sw))
                    for oy in 0..<oh {
                        let iy = oy * sh - ph + ky * dh
                        let d = dst + oy * ow
                        guard iy >= 0 && iy < ih else { d.update(repeating: 0, count: ow); continue }
                        if x0 > 0 { d.update(repeating: 0, count: x0) }
                        let s = src + iy * iw + offset
                        if sw == 1 {
                            (d + x0).update(from: s + x0, count: x1 - x0)
                        } else {
                            for ox in x0..<x1 { d[ox] = s[ox * sw] }
                        }
                        if x1 < ow { (d + x1).update(repeating: 0, count: ow - x1) }
                    }
                }
            }
            return
        }
        // 3D (and any rank): index arithmetic per element.
        let dims = geo.input.count, ks = geo.kernelSize, p = geo.outputSize
        var inStrides = [Int](repeating: 1, count: dims)
        for i in stride(from: dims - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * geo.input[i + 1] }
        ctx.parallel(channels * ks, minimumPerThread: 1) { rows in
            var k = [Int](repeating: 0, count: dims), o = [Int](repeating: 0, count: dims)
            for row in rows {
                let ci = row / ks
                var r = row % ks
                for i in stride(from: dims - 1, through: 0, by: -1) { k[i] = r % geo.kernel[i]; r /= geo.kernel[i] }
                let src = x + ci * geo.inputSize, dst = col + row * p
                for j in 0..<p {
                    var q = j
                    for i in stride(from: dims - 1, through: 0, by: -1) { o[i] = q % geo.output[i]; q /= geo.output[i] }
                    var offset = 0, inside = true
                    for i in 0..<dims {
                        let pos = o[i] * geo.strides[i] - geo.padBegin[i] + k[i] * geo.dilations[i]
                        if pos < 0 || pos >= geo.input[i] { inside = false; break }
                        offset += pos * inStrides[i]
                    }
                    dst[j] = inside ? src[offset] : 0
                }
            }
        }
    }

    /// One filter per channel: for each kernel tap, an axpy along each output row.
    private func depthwiseConv(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               channels: Int, _ g: Geometry, _ ctx: ExecutionContext) {
        let (ih, iw) = (g.input[0], g.input[1]), (kh, kw) = (g.kernel[0], g.kernel[1])
        let (oh, ow) = (g.output[0], g.output[1]), (sh, sw) = (g.strides[0], g.strides[1])
        let (dh, dw) = (g.dilations[0], g.dilations[1]), (ph, pw) = (g.padBegin[0], g.padBegin[1])
        ctx.parallel(channels, minimumPerThread: max(1, 8_192 / max(1, oh * ow))) { chans in
            for ch in chans {
                let src = x + ch * ih * iw, dst = out + ch * oh * ow, wk = w + ch * kh * kw
                dst.update(repeating: 0, count: oh * ow)
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let weight = wk[ky * kw + kx]
                        let offset = kx * dw - pw
                        let x0 = min(ow, max(0, (-offset + sw - 1) / sw)), x1 = min(ow, max(x0, (iw - offset + sw - 1) / sw))
                        for oy in 0..<oh {
                            let iy = oy * sh - ph + ky * dh
                            guard iy >= 0 && iy < ih else { continue }
                            let s = src + iy * iw + offset, d = dst + oy * ow
                            if sw == 1 {
                                for ox in x0..<x1 { d[ox] += weight * s[ox] }
                            } else {
                                for ox in x0..<x1 { d[ox] += weight * s[ox * sw] }
                            }
                        }
                    }
                }
            }
        }
    }
}
