import Dispatch
import Foundation

/// Convolution's gradients, the forward pass's matrix products transposed: per group and block of
/// output rows, ∂W += ∂Y · colᵀ and ∂col = Wᵀ · ∂Y through sgemm, then col2im adds ∂col back onto
/// ∂X. Depthwise convolutions run direct, like their forward pass. A fused Relu/Clip is undone first.
extension ConvKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ outputs: [Tensor], _ gradient: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let y = outputs[0]
        let input = try x.required(0, "Conv"), w = try x.required(1, "Conv")
        let n = input.shape[0], c = input.shape[1], m = w.shape[0], cg = w.shape[1]
        let geo = try spatial.resolve(input: Array(input.shape[2...]), kernel: Array(w.shape[2...]), op: "Conv '\(name)'")
        var g = gradient
        switch activation {
        case .none: break
        case .relu: g = try Derivatives.passing(g, where: y, above: 0, below: .infinity, ctx)
        case .clip(let lo, let hi): g = try Derivatives.passing(g, where: y, above: lo, below: hi, ctx)
        }
        let mg = m / group, kc = cg * geo.kernelSize, p = geo.outputSize, inSize = geo.inputSize
        let depthwise = cg == 1 && mg == 1 && geo.input.count <= 2
        let pointwise = geo.kernel.allSatisfy { $0 == 1 } && geo.strides.allSatisfy { $0 == 1 }
            && geo.padBegin.allSatisfy { $0 == 0 } && geo.padEnd.allSatisfy { $0 == 0 }
        // A pointwise convolution without groups writes each input gradient element exactly once.
        let overwrites = pointwise && group == 1
        let gx = needs[0] ? try (overwrites ? ctx.tensor(input.shape) : Derivatives.zeros(input.shape, ctx)) : nil
        let gw = needs.count > 1 && needs[1] ? try Derivatives.zeros(w.shape, ctx) : nil
        let xp = try input.floatData(), wp = try w.floatData(), gp = try g.floatData()
        // ∂X of a pointwise convolution is the pointwise convolution of ∂Y with Wᵀ: the direct kernels
        // take it where they take the forward pass's shapes (thin channel counts, wide rows).
        let transposedGeometry = Geometry(input: geo.output, kernel: geo.kernel, strides: geo.strides, dilations: geo.dilations,
                                          padBegin: geo.padBegin, padEnd: geo.padEnd, output: geo.output)
        let directAdjoint = overwrites && gx != nil && DirectConv.applies(channels: m, outChannels: c, group: 1, transposedGeometry)
        let transposedWeights = directAdjoint ? (0..<(c * m)).map { wp[($0 % m) * c + $0 / m] } : []
        ctx.multiplyAdds += 2 * n * m * p * kc
        for b in 0..<n {
            if depthwise {
                depthwiseBackward(xp + b * c * inSize, wp, gp + b * m * p, gx.map { $0.buffer.pointer + b * c * inSize },
                                  gw?.buffer.pointer, channels: c, geo.as2D, ctx)
                continue
            }
            for gi in 0..<group {
                let src = xp + (b * c + gi * cg) * inSize, gsrc = gx.map { $0.buffer.pointer + (b * c + gi * cg) * inSize }
                let gout = gp + (b * m + gi * mg) * p
                let weights = wp + gi * mg * kc, gweights = gw.map { $0.buffer.pointer + gi * mg * kc }
                if pointwise {
                    if let gweights {
                        BLAS.sgemm(transB: true, m: mg, n: kc, k: p, a: gout, lda: p, b: src, ldb: p, beta: 1, c: gweights, ldc: kc, threads: ctx.threads)
                    }
                    if let gsrc, directAdjoint {
                        try DirectConv.run(gout, channels: m, transposedWeights, outChannels: c, gsrc, transposedGeometry, ctx)
                    } else if let gsrc {
                        BLAS.sgemm(transA: true, m: kc, n: p, k: mg, a: weights, lda: kc, b: gout, ldb: p, beta: overwrites ? 0 : 1,
                                   c: gsrc, ldc: p, threads: ctx.threads)
                    }
                } else if geo.input.count <= 2 {
                    try blockedBackward2D(src, weights, gout, gsrc, gweights, channels: cg, outChannels: mg, geo.as2D, ctx)
                } else {
                    let columns = try ctx.tensor([kc, p])
                    im2col(src, columns.buffer.pointer, channels: cg, geo, ctx)
                    if let gweights {
                        BLAS.sgemm(transB: true, m: mg, n: kc, k: p, a: gout, lda: p, b: columns.buffer.pointer, ldb: p,
                                   beta: 1, c: gweights, ldc: kc, threads: ctx.threads)
                    }
                    if let gsrc {
                        BLAS.sgemm(transA: true, m: kc, n: p, k: mg, a: weights, lda: kc, b: gout, ldb: p, c: columns.buffer.pointer, ldc: p, threads: ctx.threads)
                        col2im(columns.buffer.pointer, gsrc, channels: cg, geo, ctx)
                    }
                }
            }
        }
        var gb: Tensor?
        if needs.count > 2, needs[2], let bias = x[2] {
            let sums = try Derivatives.zeros(bias.shape, ctx), s = sums.buffer.pointer
            for b in 0..<n { for ch in 0..<m { s[ch] += Float(accurateSum(gp + (b * m + ch) * p, p)) } }
            gb = sums
        }
        return [gx, gw, gb]
    }

    /// Blocks of output rows: im2col, the two products, col2im; the sgemm calls use every thread.
    private func blockedBackward2D(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                                   _ gx: UnsafeMutablePointer<Float>?, _ gw: UnsafeMutablePointer<Float>?,
                                   channels: Int, outChannels mg: Int, _ geo: Geometry, _ ctx: ExecutionContext) throws {
        let kc = channels * geo.kernelSize, p = geo.outputSize
        let ow = geo.output[1], oh = geo.output[0]
        let rowsPerBlock = max(1, min(oh, 8 * Self.columnBlockFloats / max(1, kc * ow)))
        let columns = try ctx.tensor([kc * rowsPerBlock * ow]), col = columns.buffer.pointer
        var y0 = 0
        while y0 < oh {
            let y1 = min(oh, y0 + rowsPerBlock), cols = (y1 - y0) * ow
            if let gw {
                im2col2D(x, col, channels: channels, geo, rows: y0..<y1)
                BLAS.sgemm(transB: true, m: mg, n: kc, k: cols, a: g + y0 * ow, lda: p, b: col, ldb: cols, beta: 1, c: gw, ldc: kc, threads: ctx.threads)
            }
            if let gx {
                BLAS.sgemm(transA: true, m: kc, n: cols, k: mg, a: w, lda: kc, b: g + y0 * ow, ldb: p, c: col, ldc: cols, threads: ctx.threads)
                col2im2D(col, gx, channels: channels, geo, rows: y0..<y1, ctx)
            }
            y0 = y1
        }
    }

    /// Adds columns [channels · kh · kw, rows · ow] back onto the input planes (im2col2D's adjoint);
    /// channels in parallel (each writes only its own plane).
    private func col2im2D(_ col: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, channels: Int, _ g: Geometry,
                          rows: Range<Int>, _ ctx: ExecutionContext) {
        let (ih, iw) = (g.input[0], g.input[1]), (kh, kw) = (g.kernel[0], g.kernel[1])
        let ow = g.output[1], (sh, sw) = (g.strides[0], g.strides[1])
        let (dh, dw) = (g.dilations[0], g.dilations[1]), (ph, pw) = (g.padBegin[0], g.padBegin[1])
        let width = rows.count * ow
        ctx.parallel(channels, minimumPerThread: 1) { chans in
            for ci in chans {
                let plane = gx + ci * ih * iw
                for tap in 0..<(kh * kw) {
                    let ky = tap / kw, kx = tap % kw
                    let src = col + (ci * kh * kw + tap) * width
                    let offset = kx * dw - pw
                    let x0 = min(ow, max(0, (-offset + sw - 1) / sw)), x1 = min(ow, max(x0, (iw - offset + sw - 1) / sw))
                    for (j, oy) in rows.enumerated() {
                        let iy = oy * sh - ph + ky * dh
                        guard iy >= 0 && iy < ih else { continue }
                        let d = plane + iy * iw + offset, s = src + j * ow
                        if sw == 1 {
                            for ox in x0..<x1 { d[ox] += s[ox] }
                        } else {
                            for ox in x0..<x1 { d[ox * sw] += s[ox] }
                        }
                    }
                }
            }
        }
    }

    /// im2col's adjoint for any rank (3D convolutions): index arithmetic per element, channels in parallel.
    private func col2im(_ col: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, channels: Int, _ geo: Geometry,
                        _ ctx: ExecutionContext) {
        let ks = geo.kernelSize, p = geo.outputSize
        ctx.parallel(channels, minimumPerThread: 1) { chans in
            var taps = Geometry.TapWalker(geo)
            for ci in chans {
                let plane = gx + ci * geo.inputSize
                for t in 0..<ks {
                    taps.select(tap: t)
                    let src = col + (ci * ks + t) * p
                    for j in 0..<p { if let offset = taps.inputOffset(output: j) { plane[offset] += src[j] } }
                }
            }
        }
    }

    /// Σ a[i]·b[i] in eight lanes (a plain float loop is a serial reduction the compiler keeps scalar).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            lanes += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var sum = lanes.sum()
        while i < n { sum += a[i] * b[i]; i += 1 }
        return sum
    }

    /// One filter per channel: ∂X by DepthwiseRows; ∂w per tap, the dot of ∂Y with X along the rows.
    private func depthwiseBackward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                                   _ gx: UnsafeMutablePointer<Float>?, _ gw: UnsafeMutablePointer<Float>?,
                                   channels: Int, _ geo: Geometry, _ ctx: ExecutionContext) {
        let (ih, iw) = (geo.input[0], geo.input[1]), (kh, kw) = (geo.kernel[0], geo.kernel[1])
        let (oh, ow) = (geo.output[0], geo.output[1]), (sh, sw) = (geo.strides[0], geo.strides[1])
        let (dh, dw) = (geo.dilations[0], geo.dilations[1]), (ph, pw) = (geo.padBegin[0], geo.padBegin[1])
        ctx.parallel(channels, minimumPerThread: max(1, 8_192 / max(1, oh * ow))) { chans in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: DepthwiseRows.scratchCount(geo))
            defer { scratch.deallocate() }
            for ch in chans {
                let src = x + ch * ih * iw, gout = g + ch * oh * ow
                if let gx { DepthwiseRows.inputGradient(gout, w + ch * kh * kw, gx + ch * ih * iw, geo, scratch: scratch) }
                guard let gw else { continue }
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let offset = kx * dw - pw
                        let x0 = min(ow, max(0, (-offset + sw - 1) / sw)), x1 = min(ow, max(x0, (iw - offset + sw - 1) / sw))
                        var acc: Float = 0
                        for oy in 0..<oh {
                            let iy = oy * sh - ph + ky * dh
                            guard iy >= 0 && iy < ih else { continue }
                            let s = src + iy * iw + offset, d = gout + oy * ow
                            if sw == 1 {
                                acc += Self.dot(d + x0, s + x0, x1 - x0)
                            } else {
                                for ox in x0..<x1 { acc += d[ox] * s[ox * sw] }
                            }
                        }
                        gw[ch * kh * kw + ky * kw + kx] += acc
                    }
                }
            }
        }
    }
}
