import CConvKernels

/// Finds instance normalisation written out as elementary ops (what PyTorch exports for
/// conditional instance norm):
///
///     μ = ReduceMean(x, axes=[2,3]);  d = x − μ;  v = ReduceMean(d ^ 2, axes=[2,3])
///     n = d · (1 / sqrt(v + ε))        [· γ]  [+ β]  [Relu]
///
/// and runs it as one kernel: two passes over each plane instead of eight whole-tensor passes.
extension Session {
    func fuseInstanceNorm(_ input: [Step], constants: [Int: Tensor], keep: Set<Int>) -> [Step] {
        // Fused-away steps become nil (indices never move), so one pass over the graph is enough.
        var steps: [Step?] = input
        var consumers = Self.readers(input)
        func users(_ value: Int) -> [Int] { (consumers[value] ?? []).filter { steps[$0] != nil } }
        func only(_ value: Int) -> Int? {
            let c = users(value)
            guard !keep.contains(value), c.count == 1 else { return nil }
            return c[0]
        }
        func runs<K: Kernel>(_ i: Int, _ kernel: K.Type) -> Bool { steps[i]!.kernel is K }
        func const(_ v: Int?) -> Float? {
            guard let v, let t = constants[v], t.count == 1, t.elementType == .float else { return nil }
            return t.floats[0]
        }
        func spatialMean(_ i: Int) -> Bool {
            guard (steps[i]!.kernel as? ReduceKernel)?.mean == true,
                  steps[i]!.node.attributes["keepdims"].map({ if case .int(1) = $0 { return true }; return false }) ?? true,
                  case .ints(let axes)? = steps[i]!.node.attributes["axes"] else { return false }
            return axes == [2, 3] || axes == [-2, -1]
        }
        func other(_ i: Int, than v: Int) -> Int? {
            let ins = steps[i]!.inputs.compactMap { $0 }
            guard ins.count == 2, ins.contains(v) else { return nil }
            return ins[0] == v ? ins[1] : ins[0]
        }

        for i in steps.indices where steps[i] != nil {
            guard spatialMean(i), let x = steps[i]!.inputs.first ?? nil else { continue }
            let mu = steps[i]!.outputs[0]
            // d = x − μ, used by the square and by the final product.
            guard let sub = only(mu), runs(sub, BinaryKernel<SubOp>.self), steps[sub]!.inputs == [x, mu] else { continue }
            let d = steps[sub]!.outputs[0]
            let users = users(d)
            guard users.count == 2, !keep.contains(d) else { continue }
            guard let pow = users.first(where: { runs($0, BinaryKernel<PowOp>.self) }),
                  let mul = users.first(where: { runs($0, BinaryKernel<MulOp>.self) }),
                  steps[pow]!.inputs.first == d, const(steps[pow]!.inputs[1]) == 2 else { continue }
            guard let mean2 = only(steps[pow]!.outputs[0]), spatialMean(mean2),
                  let add = only(steps[mean2]!.outputs[0]), runs(add, BinaryKernel<AddOp>.self),
                  let eps = const(other(add, than: steps[mean2]!.outputs[0])),
                  let sqrt = only(steps[add]!.outputs[0]), runs(sqrt, UnaryKernel<SqrtOp>.self),
                  let div = only(steps[sqrt]!.outputs[0]), runs(div, BinaryKernel<DivOp>.self), steps[div]!.inputs.last == steps[sqrt]!.outputs[0],
                  const(steps[div]!.inputs.first ?? nil) == 1,
                  other(mul, than: d) == steps[div]!.outputs[0] else { continue }
            var chain = [i, sub, pow, mean2, add, sqrt, div, mul]
            var last = mul
            var gamma: Int?, beta: Int?, relu = false
            if let m = only(steps[last]!.outputs[0]), runs(m, BinaryKernel<MulOp>.self), let g = other(m, than: steps[last]!.outputs[0]) {
                gamma = g; chain.append(m); last = m
                if let a = only(steps[last]!.outputs[0]), runs(a, BinaryKernel<AddOp>.self), let b = other(a, than: steps[last]!.outputs[0]) {
                    beta = b; chain.append(a); last = a
                }
            }
            if let r = only(steps[last]!.outputs[0]), runs(r, UnaryKernel<ReluOp>.self) { relu = true; chain.append(r); last = r }
            let fused = Step(node: Node(name: steps[i]!.node.name + "+instance-norm", opType: "InstanceNorm (fused)",
                                        inputs: [], outputs: steps[last]!.node.outputs),
                             kernel: FusedInstanceNormKernel(epsilon: eps, hasGamma: gamma != nil, hasBeta: beta != nil, relu: relu),
                             inputs: [x, gamma, beta], outputs: steps[last]!.outputs)
            // The fused step takes the place of the last one (all its inputs are computed before it).
            steps[last] = fused
            for j in chain where j != last { steps[j] = nil }
            for case let v? in [x, gamma, beta] { consumers[v, default: []].append(last) }
            report.fusedInstanceNorms += 1
        }
        return steps.compactMap { $0 }
    }
}

/// The fused kernel: per (n, c) plane, mean and variance in Double, then
/// y = ((x − μ) · r) · γ + β with r = 1 / sqrt(var + ε), in the same float order as the unfused ops.
/// Mean and variance go through `ctx.statistics` when tiling (recorded or replayed).
/// Inputs: x, γ, β, and the residual (input 3) when a residual Add was folded in.
struct FusedInstanceNormKernel: Kernel {
    let epsilon: Float
    let hasGamma: Bool, hasBeta: Bool, relu: Bool
    /// The Add of a residual block that followed (y + residual, same float order), when true.
    var residual = false
    /// A Pad that followed, written straight into the output's borders (one pass over the tensor fewer).
    var pad: SpatialPad?

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "InstanceNorm")
        guard x.shape.count == 4 else { throw ModelError("InstanceNorm: expected NCHW, got \(x.shape)") }
        var sum: UnsafePointer<Float>?
        if residual {
            let r = try inputs.required(3, "InstanceNorm + Add")
            guard r.shape == x.shape, r.elementType == .float else { return try unfusedResidual(inputs, r, ctx) }
            sum = UnsafePointer(try r.floatData())
        }
        let c = x.shape[1], planes = x.shape[0] * c, size = x.shape[2] * x.shape[3]
        func perChannel(_ t: Tensor?) throws -> [Float]? {
            guard let t else { return nil }
            let v = t.floats
            guard v.count == c || v.count == 1 else { throw ModelError("InstanceNorm: scale/shift \(t.shape) for \(c) channels") }
            return v.count == 1 ? Array(repeating: v[0], count: c) : v
        }
        let gamma = hasGamma ? try perChannel(inputs[1]) : nil, beta = hasBeta ? try perChannel(inputs[2]) : nil
        let (h, w) = (x.shape[2], x.shape[3])
        let pad = self.pad ?? SpatialPad.none
        try pad.check(height: h, width: w)
        let (oh, ow) = (h + pad.top + pad.bottom, w + pad.left + pad.right)
        let out = try ctx.tensor([x.shape[0], c, oh, ow])
        let xp = try x.floatData(), op = out.buffer.pointer
        // [mean of every plane..., variance of every plane...]
        var moments = [Float](repeating: 0, count: 2 * planes)
        try moments.withUnsafeMutableBufferPointer { try planeMoments(x, into: $0.baseAddress!, ctx) }
        let eps = epsilon, useRelu = relu
        moments.withUnsafeBufferPointer { m in
            ctx.parallel(planes, minimumPerThread: max(1, 32_768 / max(1, size))) { r in
                for p in r {
                    let plane = op + p * oh * ow
                    let mean = m[p], rstd = 1 / (m[planes + p] + eps).squareRoot()
                    let g = gamma?[p % c] ?? 1, b = beta?[p % c] ?? 0
                    for y in 0..<h {
                        let s = xp + p * size + y * w, d = plane + (y + pad.top) * ow + pad.left
                        // ((s − mean)·rstd)·g + b, + the residual or Relu'd, in the C row kernel.
                        cp_norm_row(s, d, w, mean, rstd, g, b, sum.map { $0 + p * size + y * w }, useRelu ? 1 : 0, DirectConv.isa)
                    }
                    if pad != .none { pad.fillBorders(plane, height: h, width: w) }
                }
            }
        }
        return [out]
    }

    /// A residual that is not the norm's own shape (a broadcasting Add): the norm, the Add op, then the padding.
    private func unfusedResidual(_ inputs: [Tensor?], _ r: Tensor, _ ctx: ExecutionContext) throws -> [Tensor] {
        var norm = self
        (norm.residual, norm.pad) = (false, nil)
        let y = try norm.run(Array(inputs.prefix(3)), ctx)[0]
        let added = try BinaryKernel<AddOp>(name: "Add").run([y, r], ctx)[0]
        guard let pad else { return [added] }
        return [try pad.applied(to: added, ctx)]
    }
}

/// Mean (Double sum) and then variance around it of each plane, written as
/// [means..., variances...]; recorded or replayed through `ctx.statistics` when tiling.
func planeMoments(_ x: Tensor, into m: UnsafeMutablePointer<Float>, _ ctx: ExecutionContext) throws {
    let xp = try x.floatData(), planes = x.shape[0] * x.shape[1], size = x.shape[2...].reduce(1, *)
    let compute = {
        ctx.parallel(planes, minimumPerThread: max(1, 32_768 / max(1, size))) { r in
            for p in r {
                let s = xp + p * size
                let mean = Float(accurateSum(s, size) / Double(size))
                let total = cp_squared_deviations(s, size, mean, DirectConv.isa)
                m[p] = mean
                m[planes + p] = Float(total / Double(size))
            }
        }
    }
    if let statistics = ctx.statistics, x.shape.count == 4 {
        try statistics.exchange(.moments, input: xp, planes: planes, height: x.shape[2], width: x.shape[3],
                                values: m, count: 2 * planes, compute: compute)
    } else {
        compute()
    }
}
