import CConvKernels

/// Depthwise (one filter per channel) 2D convolution and its input gradient, one row at a time:
/// every kernel tap adds a shifted input row, scaled by its weight, into one output row, which stays
/// in L1 across the taps. (Walking the taps outermost streamed the whole output plane through the
/// cache once per tap.) Each element still receives the taps in (ky, kx) order, so the sums are the
/// same as tap-by-tap.
enum DepthwiseRows {
    /// Scratch floats `forward` and `inputGradient` need (strided convolutions split the plane into
    /// column phases, so that every tap reads or writes contiguous columns).
    static func scratchCount(_ g: Geometry) -> Int {
        g.strides[1] == 1 ? 0 : g.input[0] * g.strides[1] * phaseWidth(g)
    }

    /// out = conv(x, w) for one channel's plane; `scratch` holds `scratchCount(g)` floats.
    static func forward(_ src: UnsafePointer<Float>, _ wk: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: Geometry,
                        scratch: UnsafeMutablePointer<Float>? = nil) {
        let (ih, iw) = (g.input[0], g.input[1]), (kh, kw) = (g.kernel[0], g.kernel[1])
        let (oh, ow) = (g.output[0], g.output[1]), (sh, sw) = (g.strides[0], g.strides[1])
        let (dh, ph) = (g.dilations[0], g.padBegin[0])
        let columns = columnRanges(g), width = phaseWidth(g)
        if sw > 1, let scratch { splitPhases(src, scratch, g) }
        for oy in 0..<oh {
            let d = dst + oy * ow
            d.update(repeating: 0, count: ow)
            for ky in 0..<kh {
                let iy = oy * sh - ph + ky * dh
                guard iy >= 0 && iy < ih else { continue }
                for kx in 0..<kw {
                    let (offset, x0, x1) = columns[kx], weight = wk[ky * kw + kx]
                    if sw == 1 {
                        addScaled(weight, src + iy * iw + offset + x0, to: d + x0, x1 - x0)
                    } else if let scratch {
                        let (shift, phase) = floorDivision(offset, sw)
                        addScaled(weight, scratch + (iy * sw + phase) * width + shift + x0, to: d + x0, x1 - x0)
                    } else {
                        let s = src + iy * iw + offset
                        for ox in x0..<x1 { d[ox] += weight * s[ox * sw] }
                    }
                }
            }
        }
    }

    /// ∂x += conv's adjoint applied to ∂y, for one channel's plane: each input row gathers the output
    /// rows its taps reached. `scratch` holds `scratchCount(g)` floats.
    static func inputGradient(_ gout: UnsafePointer<Float>, _ wk: UnsafePointer<Float>, _ gsrc: UnsafeMutablePointer<Float>, _ g: Geometry,
                              scratch: UnsafeMutablePointer<Float>? = nil) {
        let (ih, iw) = (g.input[0], g.input[1]), (kh, kw) = (g.kernel[0], g.kernel[1])
        let (oh, ow) = (g.output[0], g.output[1]), (sh, sw) = (g.strides[0], g.strides[1])
        let (dh, ph) = (g.dilations[0], g.padBegin[0])
        let columns = columnRanges(g), width = phaseWidth(g)
        if sw > 1, let scratch { splitPhases(gsrc, scratch, g) }
        for iy in 0..<ih {
            for ky in 0..<kh {
                let reach = iy + ph - ky * dh
                guard reach >= 0 && reach % sh == 0 && reach / sh < oh else { continue }
                let d = gout + reach / sh * ow
                for kx in 0..<kw {
                    let (offset, x0, x1) = columns[kx], weight = wk[ky * kw + kx]
                    if sw == 1 {
                        addScaled(weight, d + x0, to: gsrc + iy * iw + offset + x0, x1 - x0)
                    } else if let scratch {
                        let (shift, phase) = floorDivision(offset, sw)
                        addScaled(weight, d + x0, to: scratch + (iy * sw + phase) * width + shift + x0, x1 - x0)
                    } else {
                        let t = gsrc + iy * iw + offset
                        for ox in x0..<x1 { t[ox * sw] += weight * d[ox] }
                    }
                }
            }
        }
        if sw > 1, let scratch { mergePhases(scratch, gsrc, g) }
    }

    /// Columns per phase row: phase p of a row holds columns p, p + stride, p + 2·stride, ….
    private static func phaseWidth(_ g: Geometry) -> Int { (g.input[1] + g.strides[1] - 1) / g.strides[1] }

    private static func floorDivision(_ a: Int, _ b: Int) -> (quotient: Int, remainder: Int) {
        let q = a >= 0 ? a / b : -((-a + b - 1) / b)
        return (q, a - q * b)
    }

    private static func splitPhases(_ plane: UnsafePointer<Float>, _ phases: UnsafeMutablePointer<Float>, _ g: Geometry) {
        let (ih, iw, sw) = (g.input[0], g.input[1], g.strides[1]), width = phaseWidth(g)
        for iy in 0..<ih {
            let row = plane + iy * iw
            var start = 0
            if sw == 2 {
                let even = phases + iy * 2 * width, odd = even + width
                while start + 32 <= iw {
                    let pair = UnsafeRawPointer(row + start).loadUnaligned(as: SIMD32<Float>.self)
                    UnsafeMutableRawPointer(even + start / 2).storeBytes(of: pair.evenHalf, as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(odd + start / 2).storeBytes(of: pair.oddHalf, as: SIMD16<Float>.self)
                    start += 32
                }
            }
            for p in 0..<sw {
                let out = phases + (iy * sw + p) * width
                var j = start / sw, c = start + p
                while c < iw { out[j] = row[c]; j += 1; c += sw }
            }
        }
    }

    private static func mergePhases(_ phases: UnsafePointer<Float>, _ plane: UnsafeMutablePointer<Float>, _ g: Geometry) {
        let (ih, iw, sw) = (g.input[0], g.input[1], g.strides[1]), width = phaseWidth(g)
        for iy in 0..<ih {
            let row = plane + iy * iw
            var start = 0
            if sw == 2 {
                let even = phases + iy * 2 * width, odd = even + width
                while start + 32 <= iw {
                    var pair = SIMD32<Float>()
                    pair.evenHalf = UnsafeRawPointer(even + start / 2).loadUnaligned(as: SIMD16<Float>.self)
                    pair.oddHalf = UnsafeRawPointer(odd + start / 2).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(row + start).storeBytes(of: pair, as: SIMD32<Float>.self)
                    start += 32
                }
            }
            for p in 0..<sw {
                let from = phases + (iy * sw + p) * width
                var j = start / sw, c = start + p
                while c < iw { row[c] = from[j]; j += 1; c += sw }
            }
        }
    }

    /// Per kernel column: the input offset of output column 0, and the output columns whose tap lands
    /// inside the row.
    private static func columnRanges(_ g: Geometry) -> [(offset: Int, x0: Int, x1: Int)] {
        let (iw, kw, ow, sw) = (g.input[1], g.kernel[1], g.output[1], g.strides[1])
        return (0..<kw).map { kx in
            let offset = kx * g.dilations[1] - g.padBegin[1]
            let x0 = min(ow, max(0, (-offset + sw - 1) / sw))
            return (offset, x0, min(ow, max(x0, (iw - offset + sw - 1) / sw)))
        }
    }

    /// y[i] += a · x[i] (a multiply, then an add: the same rounding as the scalar loop) in the CPU's
    /// widest lanes.
    @inline(__always)
    static func addScaled(_ a: Float, _ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, _ n: Int) {
        cp_add_scaled(a, x, y, n, DirectConv.isa)
    }
}
