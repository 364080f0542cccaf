import Foundation

extension PoolKernel {
    /// Max pooling sends each output gradient to the (first) largest input of its window; average
    /// pooling spreads it evenly over the window's counted positions. Planes in parallel.
    func backward(_ x: Tensor, _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        let geo = try spatial.resolve(input: Array(x.shape[2...]), kernel: spatial.kernel!, ceilMode: ceilMode, op: "pool")
        let planes = x.shape[0] * x.shape[1], dims = geo.input.count, ks = geo.kernelSize
        let pin = geo.inputSize, pout = geo.outputSize
        let gx = Derivatives.zeros(x.shape, ctx)
        let xp = try x.floatData(), yp = try y.floatData(), gp = try g.floatData(), o = gx.buffer.pointer
        var inStrides = [Int](repeating: 1, count: dims)
        for i in stride(from: dims - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * geo.input[i + 1] }
        let maxPool = isMax, includePad = countIncludePad
        ctx.parallel(planes, minimumPerThread: max(1, 4096 / max(1, pout * ks))) { r in
            var oi = [Int](repeating: 0, count: dims), k = [Int](repeating: 0, count: dims)
            var window = [Int](repeating: 0, count: ks)
            for plane in r {
                let src = xp + plane * pin, dst = o + plane * pin
                for j in 0..<pout {
                    var q = j
                    for i in stride(from: dims - 1, through: 0, by: -1) { oi[i] = q % geo.output[i]; q /= geo.output[i] }
                    var count = 0, padded = 0
                    for t in 0..<ks {
                        var u = t, offset = 0, inside = true, inPadded = true
                        for i in stride(from: dims - 1, through: 0, by: -1) { k[i] = u % geo.kernel[i]; u /= geo.kernel[i] }
                        for i in 0..<dims {
                            let pos = oi[i] * geo.strides[i] - geo.padBegin[i] + k[i] * geo.dilations[i]
                            if pos < 0 || pos >= geo.input[i] { inside = false }
                            if pos < -geo.padBegin[i] || pos >= geo.input[i] + geo.padEnd[i] { inPadded = false }
                            offset += pos * inStrides[i]
                        }
                        if inside { window[count] = offset; count += 1 }
                        if inPadded { padded += 1 }
                    }
                    let grad = gp[plane * pout + j]
                    if maxPool {
                        let best = yp[plane * pout + j]
                        if let at = window[..<count].first(where: { src[$0] == best }) { dst[at] += grad }
                    } else {
                        let share = grad / Float(max(1, includePad ? padded : count))
                        for w in window[..<count] { dst[w] += share }
                    }
                }
            }
        }
        return gx
    }
}

extension GlobalPoolKernel {
    func backward(_ x: Tensor, _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        let planes = x.shape[0] * x.shape[1], size = x.shape[2...].reduce(1, *)
        let gx = ctx.tensor(x.shape), xp = try x.floatData(), yp = try y.floatData(), gp = try g.floatData()
        let o = gx.buffer.pointer, maxPool = isMax
        ctx.parallel(planes, minimumPerThread: max(1, 32_768 / max(1, size))) { r in
            for p in r {
                let d = o + p * size
                if maxPool {
                    d.update(repeating: 0, count: size)
                    let s = xp + p * size
                    if let at = (0..<size).first(where: { s[$0] == yp[p] }) { d[at] = gp[p] }
                } else {
                    d.update(repeating: gp[p] / Float(size), count: size)
                }
            }
        }
        return gx
    }
}
