import CConvKernels

/// MaxPool and AveragePool in 1D, 2D and 3D (pads, strides, dilations for max, ceil_mode,
/// count_include_pad, auto_pad), and GlobalAveragePool / GlobalMaxPool.
struct PoolKernel: RegisteredKernel {
    static let opTypes = ["MaxPool", "AveragePool"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try PoolKernel(a, max: a.node.opType == "MaxPool") }

    let isMax: Bool
    let spatial: SpatialAttributes
    let ceilMode: Bool
    let countIncludePad: Bool

    init(_ a: AttributeReader, max isMax: Bool) throws {
        self.isMax = isMax
        spatial = try SpatialAttributes(a, dilations: isMax)
        ceilMode = try a.int("ceil_mode", 0) != 0
        countIncludePad = isMax ? false : try a.int("count_include_pad", 0) != 0
        if isMax { try a.require("storage_order", equals: 0) }
        guard spatial.kernel != nil else { throw a.error("kernel_shape is required") }
        if isMax && a.node.outputs.count > 1 && !a.node.outputs[1].isEmpty { throw a.error("the Indices output is not supported") }
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let op = isMax ? "MaxPool" : "AveragePool"
        let x = try inputs.required(0, op)
        guard x.shape.count >= 3 else { throw ModelError("\(op): input \(x.shape) has no spatial dimensions") }
        let g = try spatial.resolve(input: Array(x.shape[2...]), kernel: spatial.kernel!, ceilMode: ceilMode, op: op)
        let planes = x.shape[0] * x.shape[1]
        let out = try ctx.tensor(Array(x.shape[..<2]) + g.output)
        let xp = (try x.floatData()), op_ = out.buffer.pointer
        let dims = g.input.count, ks = g.kernelSize, pout = g.outputSize, pin = g.inputSize
        if dims == 2 {
            let plan = Pool2DPlan(g), maxPool = isMax, includePad = countIncludePad
            ctx.parallel(planes, minimumPerThread: max(1, 16_384 / max(1, pout * ks))) { r in
                for plane in r { plan.run(xp + plane * pin, op_ + plane * pout, isMax: maxPool, countIncludePad: includePad) }
            }
            return [out]
        }
        let windows = PoolWindows(g), maxPool = isMax, includePad = countIncludePad
        ctx.parallel(planes, minimumPerThread: max(1, 4096 / max(1, pout * ks))) { r in
            var scratch = PoolWindows.Scratch(g)
            for plane in r {
                let src = xp + plane * pin, dst = op_ + plane * pout
                for j in 0..<pout {
                    let (count, padded) = windows.window(j, &scratch)
                    var best = -Float.infinity, sum: Float = 0
                    for w in scratch.offsets[..<count] { let v = src[w]; best = max(best, v); sum += v }
                    dst[j] = maxPool ? best : sum / Float(max(1, includePad ? padded : count))
                }
            }
        }
        return [out]
    }
}

/// The input positions of pooling windows in any rank (the general path of pooling and its gradient).
struct PoolWindows {
    let geo: Geometry
    let inStrides: [Int]

    /// Per-thread buffers: the window's offsets and the index digits.
    struct Scratch {
        var offsets: [Int], o: [Int], k: [Int]
        init(_ g: Geometry) {
            offsets = [Int](repeating: 0, count: g.kernelSize)
            o = [Int](repeating: 0, count: g.input.count); k = o
        }
    }

    init(_ g: Geometry) {
        geo = g
        var s = [Int](repeating: 1, count: g.input.count)
        for i in stride(from: g.input.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * g.input[i + 1] }
        inStrides = s
    }

    /// Fills scratch.offsets with the input offsets (inside the image, in kernel order) of output j's
    /// window; returns how many, and how many window positions lie within the explicit padding.
    func window(_ j: Int, _ s: inout Scratch) -> (count: Int, padded: Int) {
        let g = geo, dims = g.input.count
        var q = j
        for i in stride(from: dims - 1, through: 0, by: -1) { s.o[i] = q % g.output[i]; q /= g.output[i] }
        var count = 0, padded = 0
        for t in 0..<g.kernelSize {
            var u = t, offset = 0, inside = true, inPadded = true
            for i in stride(from: dims - 1, through: 0, by: -1) { s.k[i] = u % g.kernel[i]; u /= g.kernel[i] }
            for i in 0..<dims {
                let pos = s.o[i] * g.strides[i] - g.padBegin[i] + s.k[i] * g.dilations[i]
                if pos < 0 || pos >= g.input[i] { inside = false }
                // Positions beyond the explicit padding (ceil_mode overhang) never count.
                if pos < -g.padBegin[i] || pos >= g.input[i] + g.padEnd[i] { inPadded = false }
                offset += pos * inStrides[i]
            }
            if inside { s.offsets[count] = offset; count += 1 }
            if inPadded { padded += 1 }
        }
        return (count, padded)
    }
}

struct GlobalPoolKernel: RegisteredKernel {
    static let opTypes = ["GlobalAveragePool", "GlobalMaxPool"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { GlobalPoolKernel(isMax: a.node.opType == "GlobalMaxPool") }

    let isMax: Bool

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let name = isMax ? "GlobalMaxPool" : "GlobalAveragePool"
        let x = try inputs.required(0, name)
        guard x.shape.count >= 3 else { throw ModelError("\(name): input \(x.shape) has no spatial dimensions") }
        let planes = x.shape[0] * x.shape[1], size = x.shape[2...].reduce(1, *)
        let out = try ctx.tensor(Array(x.shape[..<2]) + Array(repeating: 1, count: x.shape.count - 2))
        let xp = (try x.floatData()), o = out.buffer.pointer, maxPool = isMax
        let compute = {
            ctx.parallel(planes, minimumPerThread: max(1, 32_768 / max(1, size))) { r in
                for p in r {
                    let s = xp + p * size
                    if maxPool {
                        var m = -Float.infinity
                        for i in 0..<size { m = max(m, s[i]) }
                        o[p] = m
                    } else {
                        o[p] = Float(accurateSum(s, size) / Double(size))
                    }
                }
            }
        }
        if let statistics = ctx.statistics, x.shape.count == 4 {
            try statistics.exchange(maxPool ? .max : .mean, input: xp, planes: planes, height: x.shape[2], width: x.shape[3],
                                    values: o, count: planes, compute: compute)
        } else {
            compute()
        }
        return [out]
    }
}

/// A sum accumulated in Double over 8 lanes (lane k takes the elements ≡ k mod 8, the lanes are added
/// in order, then the tail): long reductions (means over whole feature maps) stay accurate to float
/// precision. In C for the CPU's widest lanes; ElementwiseChainKernel's `means` keeps the same order.
func accurateSum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
    cp_sum(p, n, DirectConv.isa)
}
