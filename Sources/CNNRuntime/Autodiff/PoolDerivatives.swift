import Foundation

extension PoolKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [try inputGradient(try x.required(0, "pool"), y[0], g, ctx)]
    }

    /// Max pooling sends each output gradient to the (first) largest input of its window; average
    /// pooling spreads it evenly over the window's counted positions. Planes in parallel.
    func inputGradient(_ x: Tensor, _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        let geo = try spatial.resolve(input: Array(x.shape[2...]), kernel: spatial.kernel!, ceilMode: ceilMode, op: "pool")
        let planes = x.shape[0] * x.shape[1], ks = geo.kernelSize
        let pin = geo.inputSize, pout = geo.outputSize
        let gx = try Derivatives.zeros(x.shape, ctx)
        let xp = try x.floatData(), yp = try y.floatData(), gp = try g.floatData(), o = gx.buffer.pointer
        let windows = PoolWindows(geo), maxPool = isMax, includePad = countIncludePad
        ctx.parallel(planes, minimumPerThread: max(1, 4096 / max(1, pout * ks))) { r in
            var scratch = PoolWindows.Scratch(geo)
            for plane in r {
                let src = xp + plane * pin, dst = o + plane * pin
                for j in 0..<pout {
                    let (count, padded) = windows.window(j, &scratch)
                    let grad = gp[plane * pout + j], window = scratch.offsets[..<count]
                    if maxPool {
                        let best = yp[plane * pout + j]
                        if let at = window.first(where: { src[$0] == best }) { dst[at] += grad }
                    } else {
                        let share = grad / Float(max(1, includePad ? padded : count))
                        for w in window { dst[w] += share }
                    }
                }
            }
        }
        return gx
    }
}

extension GlobalPoolKernel: DifferentiableKernel {
    func backward(_ x: [Tensor?], _ y: [Tensor], _ g: Tensor, needs: [Bool], _ ctx: ExecutionContext) throws -> [Tensor?] {
        [try inputGradient(try x.required(0, "pool"), y[0], g, ctx)]
    }

    func inputGradient(_ x: Tensor, _ y: Tensor, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        let planes = x.shape[0] * x.shape[1], size = x.shape[2...].reduce(1, *)
        let gx = try ctx.tensor(x.shape), xp = try x.floatData(), yp = try y.floatData(), gp = try g.floatData()
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
