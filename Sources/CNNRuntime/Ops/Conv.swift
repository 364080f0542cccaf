import Dispatch
import Foundation

/// What a fused convolution applies after adding its bias.
enum Activation: Sendable, Hashable {
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
/// Depthwise convolutions run direct, vectorised along output rows; thin 2D layers (few input or
/// output channels, stride 1, or 2 with AVX-512) run on the C kernels of DirectConv.
/// Small maps with many channels go to oneDNN (`DNNL.smallMaps`); every 1D and 2D float convolution
/// with CNNPIPE_DNNL=1, and in a bf16 session the others (see DNNL); the direct kernels' layers have a
/// bf16 kernel of their own (BF16DirectConv).
struct ConvKernel: RegisteredKernel {
    static let opTypes = ["Conv"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ConvKernel(a) }

    let spatial: SpatialAttributes
    let group: Int
    var activation: Activation = .none
    /// Set by the session; bf16 applies only on the oneDNN route.
    var precision: Precision = .fp32
    let name: String
    let oneDNN = DNNLConvolutionCache()
    let bf16Weights = BF16WeightCache()

    init(_ a: AttributeReader) throws {
        spatial = try SpatialAttributes(a)
        group = try a.int("group", 1)
        name = a.node.name
        guard group >= 1, group <= TensorLimits.maximumAttribute else { throw a.error("group \(group) is out of range") }
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
        let out = try ctx.tensor([n, m] + g.output)
        let biasValues = bias.map(\.floats) ?? []
        guard biasValues.isEmpty || biasValues.count == m else { throw ModelError("Conv '\(name)': bias has \(biasValues.count) values for \(m) channels") }

        let mg = m / group, kc = cg * g.kernelSize, p = g.outputSize, inSize = g.inputSize
        ctx.multiplyAdds += n * m * p * kc
        let xp = (try x.floatData()), wp = (try w.floatData()), op = out.buffer.pointer
        let depthwise = cg == 1 && mg == 1 && g.input.count <= 2
        let direct = !depthwise && DirectConv.applies(channels: c, outChannels: m, group: group, g)
        // The layers oneDNN measured faster on: small maps with many channels, stride 2 the direct kernels do not take.
        let oneDNNByDefault = !depthwise && group == 1
            && (DNNL.coversStrided(strides: g.strides, kernel: g.kernel, direct: direct)
                || !direct && DNNL.coversSmallMap(channels: c, outChannels: m, outputPixels: p, spatialRank: g.input.count))
        // bf16 pays on layers with 16 output channels or more: multistyle26's 32→32 residual layers 0.98–1.16
        // vs 1.88–1.94 ms on the direct fp32 kernels, its 3→32 9×9 layer 16.3–17.1 vs 18.4–20.0; thinner
        // outputs are padded to 16 channels in oneDNN's layout (4→3 9×9: 6.7–7.2 vs 2.6–2.7 ms direct).
        // The direct kernels' layers have their own bf16 kernel, NCHW in and out (BF16DirectConv): multistyle26
        // at 512², by hand, its 3→32 9×9 layer 13.0 vs 18.0 ms and its first stride-2 layer 6.9 vs 10.6 ms on
        // oneDNN's bf16 kernels with their reorders.
        // It also takes these layers from oneDNN where CNNPIPE_DNNL=1 or =all settings would send them there.
        let bf16Direct = precision == .bf16 && direct && BF16DirectConv.available && w.floatBuffer != nil
            && (bias == nil || bias?.floatBuffer != nil)
        let bf16 = precision == .bf16 && DNNL.available && !bf16Direct && (!direct || m >= 16)
        if DNNL.enabled || oneDNNByDefault || bf16, !bf16Direct, let lib = DNNL.library,
           let bufferOfWeights = w.floatBuffer, bias?.floatBuffer != nil || bias == nil,
           var shape = DNNLConvolutionShape(input: x.shape, weights: w.shape, group: group, geometry: g,
                                            hasBias: bias != nil, activation: activation, layout: DNNL.layout,
                                            precision: precision) {
            // The threads first: the primitive is the one made for as many as this run got.
            let exec = try DNNL.Execution(lib, threads: ctx.threads)
            shape.threads = exec.threads
            shape.winograd = oneDNNByDefault && n > 1 && !DNNL.enabled && DNNL.winograd && shape.allowsWinograd
            // A layer the direct kernels take runs there when oneDNN has no bf16 primitive for it.
            if let convolution = oneDNN.convolution(shape) ?? (precision == .fp32 || direct ? nil : oneDNN.convolution(shape.inFP32)) {
                try convolution.run(x: xp, weights: bufferOfWeights, bias: try bias?.floatData(), out: op, exec, ctx)
                return [out]
            }
        }
        let biasPointer = bf16Direct ? bias?.floatBuffer?.pointer : nil
        for b in 0..<n {
            if bf16Direct, let weights = w.floatBuffer,
               try BF16DirectConv.run(xp + b * c * inSize, channels: c, weights, outChannels: m, bias: biasPointer,
                                      activation, op + b * m * p, g, packed: bf16Weights, ctx) {
                continue
            }
            if direct {
                try DirectConv.run(xp + b * c * inSize, channels: c, wp, outChannels: m, op + b * m * p, g, ctx)
            } else if depthwise {
                depthwiseConv(xp + b * c * inSize, wp, op + b * m * p, channels: c, g.as2D, ctx)
            } else {
                let pointwise = g.kernel.allSatisfy { $0 == 1 } && g.strides.allSatisfy { $0 == 1 }
                    && g.padBegin.allSatisfy { $0 == 0 } && g.padEnd.allSatisfy { $0 == 0 }
                for gi in 0..<group {
                    let src = xp + (b * c + gi * cg) * inSize
                    let dst = op + (b * m + gi * mg) * p, weights = wp + gi * mg * kc
                    if pointwise {
                        BLAS.sgemm(m: mg, n: p, k: kc, a: weights, lda: kc, b: src, ldb: p, c: dst, ldc: p, threads: ctx.threads)
                    } else {
                        try blockedIm2colGemm(src, weights, dst, channels: cg, outChannels: mg, g, ctx)
                    }
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

    /// About 1 MB of column data per block: stays in L2 (131K-262K floats measured best here).
    static let columnBlockFloats = 262_144

    /// im2col and sgemm over blocks of output columns small enough for the column block to stay in
    /// cache (about 1 MB); blocks run in parallel, each with a single-threaded sgemm.
    private func blockedIm2colGemm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                   channels: Int, outChannels mg: Int, _ geo: Geometry, _ ctx: ExecutionContext) throws {
        let kc = channels * geo.kernelSize, p = geo.outputSize
        guard geo.input.count <= 2 else {
            let columns = try ctx.tensor([kc, p])
            im2col(x, columns.buffer.pointer, channels: channels, geo, ctx)
            BLAS.sgemm(m: mg, n: p, k: kc, a: w, lda: kc, b: columns.buffer.pointer, ldb: p, c: out, ldc: p, threads: ctx.threads)
            return
        }
        let g2 = geo.as2D
        let ow = g2.output[1], oh = g2.output[0]
        let rowsPerBlock = max(1, min(oh, Self.columnBlockFloats / max(1, kc * ow)))
        let blocks = (oh + rowsPerBlock - 1) / rowsPerBlock
        try ThreadLender.withThreads(upTo: min(ctx.threads, blocks)) { workers in
            let buffers = try (0..<workers).map { _ in try ctx.tensor([kc * rowsPerBlock * ow]) }
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let col = buffers[worker].buffer.pointer
                for block in stride(from: worker, to: blocks, by: workers) {
                    let y0 = block * rowsPerBlock, y1 = min(oh, y0 + rowsPerBlock)
                    let cols = (y1 - y0) * ow
                    im2col2D(x, col, channels: channels, g2, rows: y0..<y1)
                    BLAS.sgemm(m: mg, n: cols, k: kc, a: w, lda: kc, b: col, ldb: cols, c: out + y0 * ow, ldc: p)
                }
            }
        }
    }

    /// im2col for output rows `rows` of a 2D convolution: [channels · kh · kw, rows · ow], single-threaded.
    func im2col2D(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, channels: Int, _ g: Geometry,
                          rows: Range<Int>) {
        let (ih, iw) = (g.input[0], g.input[1]), (kh, kw) = (g.kernel[0], g.kernel[1])
        let ow = g.output[1], (sh, sw) = (g.strides[0], g.strides[1])
        let (dh, dw) = (g.dilations[0], g.dilations[1]), (ph, pw) = (g.padBegin[0], g.padBegin[1])
        let width = rows.count * ow
        for row in 0..<(channels * kh * kw) {
            let ci = row / (kh * kw), ky = (row / kw) % kh, kx = row % kw
            let src = x + ci * ih * iw
            let dst = col + row * width
            let offset = kx * dw - pw
            let x0 = min(ow, max(0, (-offset + sw - 1) / sw)), x1 = min(ow, max(x0, (iw - offset + sw - 1) / sw))
            for (j, oy) in rows.enumerated() {
                let iy = oy * sh - ph + ky * dh
                let d = dst + j * ow
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

    /// Column matrix [channels · K, P] for 3D (any rank): index arithmetic per element.
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, channels: Int, _ geo: Geometry,
                        _ ctx: ExecutionContext) {
        let ks = geo.kernelSize, p = geo.outputSize
        ctx.parallel(channels * ks, minimumPerThread: 1) { rows in
            var taps = Geometry.TapWalker(geo)
            for row in rows {
                taps.select(tap: row % ks)
                let src = x + (row / ks) * geo.inputSize, dst = col + row * p
                for j in 0..<p { dst[j] = taps.inputOffset(output: j).map { src[$0] } ?? 0 }
            }
        }
    }

    /// One filter per channel, channels in parallel (DepthwiseRows: the taps along each output row).
    private func depthwiseConv(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               channels: Int, _ g: Geometry, _ ctx: ExecutionContext) {
        let inSize = g.input[0] * g.input[1], outSize = g.output[0] * g.output[1], taps = g.kernel[0] * g.kernel[1]
        ctx.parallel(channels, minimumPerThread: max(1, 8_192 / max(1, outSize))) { chans in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: DepthwiseRows.scratchCount(g))
            defer { scratch.deallocate() }
            for ch in chans { DepthwiseRows.forward(x + ch * inSize, w + ch * taps, out + ch * outSize, g, scratch: scratch) }
        }
    }
}
