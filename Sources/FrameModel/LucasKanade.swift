/// Dense optical flow by coarse-to-fine Lucas–Kanade (Bouguet's pyramidal scheme, computed at every
/// pixel): on each level of an image pyramid, from the coarsest up, the flow from the level above
/// (doubled) is refined by a few Gauss–Newton steps, each solving the 2×2 normal equations of the
/// brightness-constancy residual summed over a (2r+1)² window around every pixel. The gradients are
/// the first image's (inverse compositional), so they are computed once per level; a small Tikhonov
/// term keeps textureless windows from moving. Every step is a flat pass over whole planes.
public struct LucasKanade: Sendable {
    /// Coarsest level: its shorter side is at least this.
    public var minimumSide = 12
    public var maximumLevels = 6
    public var iterations = 4
    public var windowRadius = 3
    /// Added to the diagonal of each window's structure tensor, per window pixel (intensities 0…1).
    public var regularisation: Float = 1e-4

    public init() {}

    /// The flow from `a` to `b` (one-channel images of the same size): a's pixel (x, y) is at (x + u, y + v) in b.
    public func flow(from a: FloatImage, to b: FloatImage) -> FlowField {
        precondition(a.channels == 1 && b.channels == 1 && a.width == b.width && a.height == b.height, "flow: two gray images of one size")
        let first = pyramid(a), second = pyramid(b)
        var flow = FlowField(width: first.last!.width, height: first.last!.height)
        for level in stride(from: first.count - 1, through: 0, by: -1) {
            let i0 = first[level], i1 = second[level]
            flow = flow.resized(width: i0.width, height: i0.height)
            flow = refine(flow, i0, i1)
        }
        return flow
    }

    /// Each level a half-size box average of the one below; the first lightly smoothed (3x3), as
    /// sensor and compression noise would otherwise move flat regions.
    func pyramid(_ image: FloatImage) -> [FloatImage] {
        let smoothed = Self.boxSum(image.samples, width: image.width, height: image.height, radius: 1).map { $0 * (1 / 9) }
        var levels = [FloatImage(width: image.width, height: image.height, channels: 1, samples: smoothed)]
        while levels.count < maximumLevels, min(levels.last!.width, levels.last!.height) / 2 >= minimumSide {
            let top = levels.last!
            levels.append(Resampler.resize(top, width: top.width / 2, height: top.height / 2, filter: .box))
        }
        return levels
    }

    private func refine(_ start: FlowField, _ i0: FloatImage, _ i1: FloatImage) -> FlowField {
        let w = i0.width, h = i0.height, n = w * h
        let (ix, iy) = Self.gradients(i0.samples, width: w, height: h)
        let box = { (p: [Float]) in Self.boxSum(p, width: w, height: h, radius: self.windowRadius) }
        let lambda = regularisation * Float((2 * windowRadius + 1) * (2 * windowRadius + 1))
        let sxx = box(Self.product(ix, ix)), sxy = box(Self.product(ix, iy)), syy = box(Self.product(iy, iy))
        // The smaller eigenvalue of the structure tensor (how well a window's motion is determined).
        let confidence = (0..<n).map { k -> Float in
            let half = 0.5 * (sxx[k] + syy[k]), diff = 0.5 * (sxx[k] - syy[k])
            return max(0, half - (diff * diff + sxy[k] * sxy[k]).squareRoot()) + 1e-9
        }
        let normaliser = box(confidence).map { 1 / $0 }
        var flow = start
        for _ in 0..<iterations {
            let warped = FlowWarp.sample(i1.samples, width: w, height: h, by: flow)
            var it = Self.difference(warped, i0.samples)
            // Where the flow leads outside the second image, the border's clamped value says nothing.
            for y in 0..<h {
                for x in 0..<w {
                    let k = y * w + x, sx = Float(x) + flow.u[k], sy = Float(y) + flow.v[k]
                    if sx < 0 || sy < 0 || sx > Float(w - 1) || sy > Float(h - 1) { it[k] = 0 }
                }
            }
            let sxt = box(Self.product(ix, it)), syt = box(Self.product(iy, it))
            flow.u.withUnsafeMutableBufferPointer { u in
                flow.v.withUnsafeMutableBufferPointer { v in
                    for k in 0..<n {
                        let a = sxx[k] + lambda, b = sxy[k], d = syy[k] + lambda
                        let inverseDet = 1 / (a * d - b * b)
                        // The linearisation holds for about a pixel: larger steps (near borders, in
                        // flat windows) would run away instead of converging.
                        u[k] -= min(max((d * sxt[k] - b * syt[k]) * inverseDet, -1), 1)
                        v[k] -= min(max((a * syt[k] - b * sxt[k]) * inverseDet, -1), 1)
                    }
                }
            }
            // Windows without texture in two directions cannot tell their motion (the aperture
            // problem): each pixel takes its neighbourhood's flow weighted by how well it is determined.
            flow.u = box(Self.product(flow.u, confidence)).withUnsafeBufferPointer { s in (0..<n).map { s[$0] * normaliser[$0] } }
            flow.v = box(Self.product(flow.v, confidence)).withUnsafeBufferPointer { s in (0..<n).map { s[$0] * normaliser[$0] } }
        }
        return flow
    }

    /// Central differences (one-sided at the borders).
    static func gradients(_ p: [Float], width w: Int, height h: Int) -> ([Float], [Float]) {
        var gx = [Float](repeating: 0, count: p.count), gy = [Float](repeating: 0, count: p.count)
        p.withUnsafeBufferPointer { s in
            gx.withUnsafeMutableBufferPointer { g in
                for y in 0..<h where w > 1 {
                    let r = y * w
                    for x in 1..<(w - 1) { g[r + x] = 0.5 * (s[r + x + 1] - s[r + x - 1]) }
                    g[r] = s[r + 1] - s[r]
                    g[r + w - 1] = s[r + w - 1] - s[r + w - 2]
                }
            }
            gy.withUnsafeMutableBufferPointer { g in
                guard h > 1 else { return }
                for y in 0..<h {
                    let up = max(0, y - 1) * w, down = min(h - 1, y + 1) * w, r = y * w
                    let scale: Float = (y == 0 || y == h - 1) ? 1 : 0.5
                    for x in 0..<w { g[r + x] = scale * (s[down + x] - s[up + x]) }
                }
            }
        }
        return (gx, gy)
    }

    /// Sum over the (2r+1)² window around every pixel, the image extended by its edge values:
    /// shifted whole-row additions, first along rows, then along columns.
    static func boxSum(_ p: [Float], width w: Int, height h: Int, radius r: Int) -> [Float] {
        var rows = [Float](repeating: 0, count: p.count)
        p.withUnsafeBufferPointer { s in
            rows.withUnsafeMutableBufferPointer { d in
                for y in 0..<h {
                    let row = y * w
                    for k in -r...r {
                        let lo = max(0, -k), hi = min(w, w - k)
                        if lo < hi { for x in lo..<hi { d[row + x] += s[row + x + k] } }
                        for x in 0..<min(lo, w) { d[row + x] += s[row] }
                        for x in max(hi, 0)..<w { d[row + x] += s[row + w - 1] }
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: p.count)
        rows.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for y in 0..<h {
                    for k in -r...r {
                        let src = min(max(y + k, 0), h - 1) * w, dst = y * w
                        for x in 0..<w { d[dst + x] += s[src + x] }
                    }
                }
            }
        }
        return out
    }

    static func product(_ a: [Float], _ b: [Float]) -> [Float] {
        [Float](unsafeUninitializedCapacity: a.count) { d, n in
            for i in 0..<a.count { d[i] = a[i] * b[i] }
            n = a.count
        }
    }

    static func difference(_ a: [Float], _ b: [Float]) -> [Float] {
        [Float](unsafeUninitializedCapacity: a.count) { d, n in
            for i in 0..<a.count { d[i] = a[i] - b[i] }
            n = a.count
        }
    }
}
