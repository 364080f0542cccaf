import CNNRuntime

/// The costs of the classic method on one layer's activations a (C channels × N = n_H·n_W positions,
/// row-major, as NCHW gives them), each with its gradient with respect to a.
public enum StyleCosts {
    /// Gram matrix of channel correlations divided by the positions: Ĝ = a·aᵀ / N (C × C).
    /// Dividing by N makes Grams of images of different sizes comparable (a style painting and the photo).
    /// `threads`: the product's share of the CPU (a 96-channel 256² layer is 1.2 GFLOP).
    public static func gram(_ a: [Float], channels c: Int, threads: Int = 1) -> [Float] {
        let n = a.count / c
        var g = [Float](repeating: 0, count: c * c)
        a.withUnsafeBufferPointer { p in
            g.withUnsafeMutableBufferPointer { out in
                LinearAlgebra.sgemm(transB: true, m: c, n: c, k: n, alpha: 1 / Float(n), a: p.baseAddress!, lda: n,
                                    b: p.baseAddress!, ldb: n, c: out.baseAddress!, ldc: c, threads: threads)
            }
        }
        return g
    }

    /// J_style = Σ (G_S − G_G)² / (2·n_H·n_W·n_C)² with G = a·aᵀ (the course's normalisation), which
    /// is Σ (Ĝ_S − Ĝ_G)² / (4·C²) in terms of `gram`. Gradient: ∂J/∂a = −(Ĝ_S − Ĝ_G)·a / (C²·N).
    public static func style(_ a: [Float], channels c: Int, target: [Float], threads: Int = 1) -> (cost: Double, gradient: [Float]) {
        let n = a.count / c
        var d = gram(a, channels: c, threads: threads)
        var cost: Double = 0
        for i in d.indices { d[i] = target[i] - d[i]; cost += Double(d[i]) * Double(d[i]) }
        cost /= 4 * Double(c) * Double(c)
        var gradient = [Float](repeating: 0, count: a.count)
        d.withUnsafeBufferPointer { dp in
            a.withUnsafeBufferPointer { ap in
                gradient.withUnsafeMutableBufferPointer { gp in
                    LinearAlgebra.sgemm(m: c, n: n, k: c, alpha: -1 / (Float(c) * Float(c) * Float(n)), a: dp.baseAddress!, lda: c,
                                        b: ap.baseAddress!, ldb: n, c: gp.baseAddress!, ldc: n, threads: threads)
                }
            }
        }
        return (cost, gradient)
    }

    /// J_content = Σ (a_C − a_G)² / (4·n_H·n_W·n_C); ∂J/∂a_G = (a_G − a_C) / (2·n_H·n_W·n_C).
    public static func content(_ a: [Float], target: [Float]) -> (cost: Double, gradient: [Float]) {
        let scale = 1 / Float(2 * a.count)
        var cost: Double = 0
        var gradient = [Float](repeating: 0, count: a.count)
        for i in a.indices {
            let d = a[i] - target[i]
            cost += Double(d * d)
            gradient[i] = d * scale
        }
        return (cost / Double(4 * a.count), gradient)
    }

    /// Total variation of an interleaved image (width × height × channels): the mean over pixels of
    /// the squared differences to the right and lower neighbours; smooths away high-frequency noise.
    public static func totalVariation(_ x: [Float], width w: Int, height h: Int, channels ch: Int) -> (cost: Double, gradient: [Float]) {
        var cost: Double = 0
        var gradient = [Float](repeating: 0, count: x.count)
        let scale = 1 / Float(w * h)
        let row = w * ch
        x.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                for y in 0..<h {
                    let r = y * row
                    for i in r..<(r + row - ch) {                 // horizontal neighbours
                        let d = p[i + ch] - p[i]
                        cost += Double(d * d)
                        g[i + ch] += 2 * d * scale; g[i] -= 2 * d * scale
                    }
                    if y + 1 < h {
                        for i in r..<(r + row) {                  // vertical neighbours
                            let d = p[i + row] - p[i]
                            cost += Double(d * d)
                            g[i + row] += 2 * d * scale; g[i] -= 2 * d * scale
                        }
                    }
                }
            }
        }
        return (cost * Double(scale), gradient)
    }
}
