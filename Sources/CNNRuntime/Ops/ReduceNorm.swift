import Foundation

/// ReduceMean / ReduceSum over any axes (attribute before opset 18 for Mean, input from 13 for Sum).
struct ReduceKernel: RegisteredKernel {
    static let opTypes = ["ReduceMean", "ReduceSum"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ReduceKernel(a, mean: a.node.opType == "ReduceMean") }

    let mean: Bool
    let attrAxes: [Int]?
    let keepDims: Bool
    let noopWithEmptyAxes: Bool

    init(_ a: AttributeReader, mean: Bool) throws {
        self.mean = mean
        attrAxes = try a.ints("axes")
        keepDims = try a.int("keepdims", 1) != 0
        noopWithEmptyAxes = try a.int("noop_with_empty_axes", 0) != 0
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let op = mean ? "ReduceMean" : "ReduceSum"
        let x = try inputs.required(0, op)
        let r = x.shape.count
        let given = attrAxes ?? (inputs.count > 1 ? inputs[1]?.ints : nil) ?? []
        if given.isEmpty && noopWithEmptyAxes { return [x] }
        let axes = Set(try (given.isEmpty ? Array(0..<r) : given).map { try normalizeAxis($0, rank: r, op) })
        let outKeep = (0..<r).map { axes.contains($0) ? 1 : x.shape[$0] }
        let outShape = keepDims ? outKeep : (0..<r).filter { !axes.contains($0) }.map { x.shape[$0] }
        let reduced = axes.map { x.shape[$0] }.reduce(1, *)
        let scale: Float = mean ? 1 / Float(max(1, reduced)) : 1
        guard x.elementType == .float else {
            // Integer sums (shape arithmetic): plain loops.
            let v = x.int64s
            var acc = [Int64](repeating: 0, count: outKeep.reduce(1, *))
            let strides = broadcastStrides(outKeep, to: x.shape)
            var i = 0
            forEachRun(shape: x.shape, strides: [strides]) { _, offs, n, inner in
                for j in 0..<n { acc[offs[0] + j * inner[0]] += v[i]; i += 1 }
            }
            return [Tensor(shape: outShape, storage: .int64(mean ? acc.map { $0 / Int64(max(1, reduced)) } : acc))]
        }
        let out = try ctx.tensor(outShape)
        let xp = (try x.floatData()), op_ = out.buffer.pointer
        // Fast path: reducing a trailing block of axes (e.g. H, W of NCHW): one sum per row.
        let firstReduced = axes.min() ?? r
        if axes == Set(firstReduced..<r) {
            let rows = x.shape[..<firstReduced].reduce(1, *)
            let compute = {
                ctx.parallel(rows, minimumPerThread: max(1, 65_536 / max(1, reduced))) { range in
                    for row in range {
                        op_[row] = Float(accurateSum(xp + row * reduced, reduced) * Double(scale))
                    }
                }
            }
            // A reduction over H and W (the last two axes of a feature map) is image-wide.
            if let statistics = ctx.statistics, r >= 3, firstReduced == r - 2 {
                try statistics.exchange(mean ? .mean : .sum, input: xp, planes: rows, height: x.shape[r - 2], width: x.shape[r - 1],
                                        values: op_, count: rows, compute: compute)
            } else {
                compute()
            }
            return [out]
        }
        // General: accumulate each input element into its output cell.
        op_.update(repeating: 0, count: out.count)
        let strides = broadcastStrides(outKeep, to: x.shape)
        var i = 0
        forEachRun(shape: x.shape, strides: [strides]) { _, offs, n, inner in
            let d = op_ + offs[0]
            if inner[0] == 0 {
                var sum: Float = 0
                for j in 0..<n { sum += xp[i + j] }
                d[0] += sum
            } else {
                for j in 0..<n { d[j * inner[0]] += xp[i + j] }
            }
            i += n
        }
        if mean { for j in 0..<out.count { op_[j] *= scale } }
        return [out]
    }
}

/// InstanceNormalization: per (n, c) plane, (x − mean) / sqrt(var + eps) · scale + bias.
struct InstanceNormKernel: RegisteredKernel {
    static let opTypes = ["InstanceNormalization"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try InstanceNormKernel(a) }

    let epsilon: Float
    init(_ a: AttributeReader) throws { epsilon = try a.float("epsilon", 1e-5) }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "InstanceNormalization")
        let scale = try inputs.required(1, "InstanceNormalization").floats, bias = try inputs.required(2, "InstanceNormalization").floats
        guard x.shape.count >= 3 else { throw ModelError("InstanceNormalization: input \(x.shape) has no spatial dimensions") }
        let c = x.shape[1], planes = x.shape[0] * c, size = x.shape[2...].reduce(1, *)
        guard scale.count == c, bias.count == c else { throw ModelError("InstanceNormalization: scale/bias do not have \(c) values") }
        let out = try ctx.tensor(x.shape)
        let xp = (try x.floatData()), op = out.buffer.pointer, eps = epsilon
        var moments = [Float](repeating: 0, count: 2 * planes)
        try moments.withUnsafeMutableBufferPointer { try planeMoments(x, into: $0.baseAddress!, ctx) }
        moments.withUnsafeBufferPointer { m in
            ctx.parallel(planes, minimumPerThread: max(1, 32_768 / max(1, size))) { r in
                for p in r {
                    let s = xp + p * size, d = op + p * size
                    let k = scale[p % c] / (m[planes + p] + eps).squareRoot(), b = bias[p % c] - m[p] * k
                    for i in 0..<size { d[i] = s[i] * k + b }
                }
            }
        }
        return [out]
    }
}

/// BatchNormalization (inference): per channel (x − mean) / sqrt(var + eps) · scale + bias.
struct BatchNormKernel: RegisteredKernel {
    static let opTypes = ["BatchNormalization"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try BatchNormKernel(a) }

    let epsilon: Float
    init(_ a: AttributeReader) throws {
        epsilon = try a.float("epsilon", 1e-5)
        _ = try a.float("momentum", 0.9)
        try a.require("training_mode", equals: 0)
        _ = try a.int("spatial", 1)
        if try a.int("is_test", 1) == 0 { throw a.error("is_test=0 (training) is not supported") }
        _ = try a.ints("consumed_inputs")
        if a.node.outputs.filter({ !$0.isEmpty }).count > 1 { throw a.error("training outputs are not supported") }
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "BatchNormalization")
        let scale = try inputs.required(1, "BatchNormalization").floats, bias = try inputs.required(2, "BatchNormalization").floats
        let mean = try inputs.required(3, "BatchNormalization").floats, variance = try inputs.required(4, "BatchNormalization").floats
        guard !x.shape.isEmpty else { throw ModelError("BatchNormalization: input is a scalar") }
        let c = x.shape.count > 1 ? x.shape[1] : 1, size = x.shape.count > 2 ? x.shape[2...].reduce(1, *) : 1
        guard [scale, bias, mean, variance].allSatisfy({ $0.count == c }) else {
            throw ModelError("BatchNormalization: scale, bias, mean and variance need \(c) values each")
        }
        let planes = x.shape[0] * c
        let k = (0..<c).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
        let b = (0..<c).map { bias[$0] - mean[$0] * k[$0] }
        let out = try ctx.tensor(x.shape)
        let xp = (try x.floatData()), op = out.buffer.pointer
        ctx.parallel(planes, minimumPerThread: max(1, 32_768 / max(1, size))) { r in
            for p in r {
                let s = xp + p * size, d = op + p * size, kk = k[p % c], bb = b[p % c]
                for i in 0..<size { d[i] = s[i] * kk + bb }
            }
        }
        return [out]
    }
}
