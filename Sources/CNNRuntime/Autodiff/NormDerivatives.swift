import Foundation

extension Derivatives {
    /// Instance norm (plain, or fused with optional γ, β and Relu): per plane, with x̂ = (x − μ)·r,
    /// ∂x = r·γ·(g − mean(g) − x̂·mean(g·x̂)), ∂γ = Σ g·x̂, ∂β = Σ g.
    static func instanceNormBackward(_ x: [Tensor?], _ y: Tensor, _ gradient: Tensor, epsilon: Float, relu: Bool,
                                     needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let input = try x.required(0, "InstanceNorm")
        guard input.shape.count >= 3 else { throw ModelError("InstanceNorm: expected N, C and spatial axes, got \(input.shape)") }
        let g = relu ? try passing(gradient, where: y, above: 0, below: .infinity, ctx) : gradient
        let c = input.shape[1], planes = input.shape[0] * c, size = input.shape[2...].reduce(1, *)
        let gammaTensor = x.count > 1 ? x[1] : nil
        let gamma = gammaTensor.map { t in t.count == 1 ? Array(repeating: t.floats[0], count: c) : t.floats } ?? Array(repeating: 1, count: c)
        guard gamma.count == c else { throw ModelError("InstanceNorm: scale has \(gamma.count) values for \(c) channels") }
        let gx = try ctx.tensor(input.shape)
        let xp = try input.floatData(), gp = try g.floatData(), o = gx.buffer.pointer
        // The forward pass's own mean and variance of each plane.
        var moments = [Float](repeating: 0, count: 2 * planes)
        try moments.withUnsafeMutableBufferPointer { try planeMoments(input, into: $0.baseAddress!, ctx) }
        var sumG = [Float](repeating: 0, count: planes), sumGX = [Float](repeating: 0, count: planes)
        sumG.withUnsafeMutableBufferPointer { sg in
            sumGX.withUnsafeMutableBufferPointer { sgx in
                moments.withUnsafeBufferPointer { mv in
                    ctx.parallel(planes, minimumPerThread: max(1, 32_768 / max(1, size))) { r in
                        for p in r {
                            let s = xp + p * size, d = gp + p * size, out = o + p * size
                            let mean = mv[p], rstd = 1 / (mv[planes + p] + epsilon).squareRoot()
                            var a: Double = 0, b: Double = 0
                            for i in 0..<size { a += Double(d[i]); b += Double(d[i] * (s[i] - mean)) }
                            let meanG = Float(a / Double(size)), meanGX = Float(b / Double(size)) * rstd
                            let k = rstd * gamma[p % c]
                            for i in 0..<size { out[i] = k * (d[i] - meanG - (s[i] - mean) * rstd * meanGX) }
                            sg[p] = Float(a); sgx[p] = Float(b) * rstd
                        }
                    }
                }
            }
        }
        func perChannel(_ values: [Float], like t: Tensor) -> Tensor {
            var sums = [Float](repeating: 0, count: c)
            for p in 0..<planes { sums[p % c] += values[p] }
            return t.count == 1 ? Tensor(shape: t.shape, floats: [sums.reduce(0, +)]) : Tensor(shape: t.shape, floats: sums)
        }
        let gGamma = needs.count > 1 && needs[1] ? gammaTensor.map { perChannel(sumGX, like: $0) } : nil
        let gBeta = needs.count > 2 && needs[2] ? x[2].map { perChannel(sumG, like: $0) } : nil
        return [gx, gGamma, gBeta] + x.dropFirst(3).map { _ in nil }
    }
}

extension InstanceNormKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.instanceNormBackward(x, y[0], g, epsilon: epsilon, relu: false, needs: needs, ctx)
    }
}

extension FusedInstanceNormKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        try Derivatives.instanceNormBackward(x, y[0], g, epsilon: epsilon, relu: relu, needs: needs, ctx)
    }
}

extension BatchNormKernel: DifferentiableKernel {
    /// Inference-mode batch norm is per-channel affine: ∂x = g·k, ∂scale = Σ g·(x − mean)/σ, ∂bias = Σ g.
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        let input = try x.required(0, "BatchNormalization")
        let scale = try x.required(1, "BatchNormalization").floats, mean = try x.required(3, "BatchNormalization").floats
        let variance = try x.required(4, "BatchNormalization").floats
        let c = input.shape.count > 1 ? input.shape[1] : 1, size = input.shape.count > 2 ? input.shape[2...].reduce(1, *) : 1
        let planes = input.shape[0] * c
        let sigma = (0..<c).map { (variance[$0] + epsilon).squareRoot() }
        let gx = try ctx.tensor(input.shape), xp = try input.floatData(), gp = try g.floatData(), o = gx.buffer.pointer
        var gScale = [Float](repeating: 0, count: c), gBias = [Float](repeating: 0, count: c)
        for p in 0..<planes {
            let ch = p % c, k = scale[ch] / sigma[ch], s = xp + p * size, d = gp + p * size, out = o + p * size
            var a: Float = 0, b: Float = 0
            for i in 0..<size { out[i] = d[i] * k; a += d[i]; b += d[i] * (s[i] - mean[ch]) }
            gBias[ch] += a; gScale[ch] += b / sigma[ch]
        }
        return [gx, needs[1] ? Tensor(shape: x[1]!.shape, floats: gScale) : nil,
                needs[2] ? Tensor(shape: x[2]!.shape, floats: gBias) : nil, nil, nil]
    }
}

extension ReduceKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [try inputGradient(x, g, ctx)] + x.dropFirst().map { _ in nil }
    }

    /// The output gradient spread back over the reduced axes (÷ their size for the mean).
    func inputGradient(_ x: [Tensor?], _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        let input = try x.required(0, "Reduce"), r = input.shape.count
        let given = attrAxes ?? (x.count > 1 ? x[1]?.ints : nil) ?? []
        if given.isEmpty && noopWithEmptyAxes { return g }
        let axes = Set(try (given.isEmpty ? Array(0..<r) : given).map { try normalizeAxis($0, rank: r, "Reduce") })
        let keep = (0..<r).map { axes.contains($0) ? 1 : input.shape[$0] }
        let scale: Float = mean ? 1 / Float(max(1, axes.map { input.shape[$0] }.reduce(1, *))) : 1
        let out = try ctx.tensor(input.shape), o = out.buffer.pointer, gp = try g.floatData()
        forEachRun(shape: input.shape, strides: [broadcastStrides(keep, to: input.shape)]) { off, offs, n, inner in
            for i in 0..<n { o[off + i] = gp[offs[0] + i * inner[0]] * scale }
        }
        return out
    }
}
