import CConvKernels

/// Depthwise (one filter per channel) 2D convolution and its input gradient, one row at a time:
/// every kernel tap adds a shifted input row, scaled by its weight, into one output row, which stays
/// in L1 across the taps. (Walking the taps outermost streamed the whole output plane through the
/// cache once per tap.) Each element still receives the taps in (ky, kx) order, so the sums are the
/// same as tap-by-tap.
enum DepthwiseRows {
    /// Scratch floats `forward` and `inputGradient` need: a strided convolution's plane split into column
    /// phases (phase p of a row holds columns p, p + stride, …), so that every tap's run is contiguous.
    static func scratchCount(_ g: Geometry) -> Int {
        g.strides[1] == 1 ? 0 : g.input[0] * g.strides[1] * TapRows(g).width
    }

    /// out = conv(x, w) for one channel's plane; `scratch` holds `scratchCount(g)` floats.
    static func forward(_ src: UnsafePointer<Float>, _ wk: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: Geometry,
                        scratch: UnsafeMutablePointer<Float>) {
        let rows = TapRows(g), (ih, kh, kw, ow) = (g.input[0], g.kernel[0], g.kernel[1], g.output[1])
        var input = src
        if g.strides[1] > 1 {
            movePhases(UnsafeMutablePointer(mutating: src), scratch, g, split: true)   // only read
            input = UnsafePointer(scratch)
        }
        for oy in 0..<g.output[0] {
            let d = dst + oy * ow
            d.update(repeating: 0, count: ow)
            for ky in 0..<kh {
                let iy = oy * g.strides[0] - g.padBegin[0] + ky * g.dilations[0]
                guard iy >= 0 && iy < ih else { continue }
                for kx in 0..<kw {
                    let (x0, x1) = rows.outputColumns[kx]
                    addScaled(wk[ky * kw + kx], input + rows.start(row: iy, tap: kx), to: d + x0, x1 - x0)
                }
            }
        }
    }

    /// ∂x += conv's adjoint applied to ∂y, for one channel's plane: each input row gathers the output
    /// rows its taps reached. `scratch` holds `scratchCount(g)` floats.
    static func inputGradient(_ gout: UnsafePointer<Float>, _ wk: UnsafePointer<Float>, _ gsrc: UnsafeMutablePointer<Float>, _ g: Geometry,
                              scratch: UnsafeMutablePointer<Float>) {
        let rows = TapRows(g), (sh, kh, kw, ow) = (g.strides[0], g.kernel[0], g.kernel[1], g.output[1])
        var target = gsrc
        if g.strides[1] > 1 {
            movePhases(gsrc, scratch, g, split: true)
            target = scratch
        }
        for iy in 0..<g.input[0] {
            for ky in 0..<kh {
                let reach = iy + g.padBegin[0] - ky * g.dilations[0]
                guard reach >= 0 && reach % sh == 0 && reach / sh < g.output[0] else { continue }
                let d = gout + reach / sh * ow
                for kx in 0..<kw {
                    let (x0, x1) = rows.outputColumns[kx]
                    addScaled(wk[ky * kw + kx], d + x0, to: target + rows.start(row: iy, tap: kx), x1 - x0)
                }
            }
        }
        if g.strides[1] > 1 { movePhases(gsrc, scratch, g, split: false) }
    }

    /// Where each kernel column's taps land along a row: the output columns whose tap is inside the input
    /// row, and where the first of them reads — in the plane at stride 1, else in the column phases.
    private struct TapRows {
        let outputColumns: [(x0: Int, x1: Int)]
        let offsets: [Int]           // input column of output column 0, per kernel column
        let stride: Int, inputWidth: Int
        /// Columns per phase row.
        let width: Int

        init(_ g: Geometry) {
            (stride, inputWidth) = (g.strides[1], g.input[1])
            width = (g.input[1] + g.strides[1] - 1) / g.strides[1]
            offsets = (0..<g.kernel[1]).map { $0 * g.dilations[1] - g.padBegin[1] }
            let (iw, ow, sw) = (inputWidth, g.output[1], stride)
            outputColumns = offsets.map { offset in
                let x0 = min(ow, max(0, (-offset + sw - 1) / sw))
                return (x0, min(ow, max(x0, (iw - offset + sw - 1) / sw)))
            }
        }

        /// Offset of tap column `tap`'s first value (output column x0) in input row `row`.
        func start(row: Int, tap: Int) -> Int {
            let offset = offsets[tap], x0 = outputColumns[tap].x0
            guard stride > 1 else { return row * inputWidth + offset + x0 }
            let shift = offset >= 0 ? offset / stride : -((-offset + stride - 1) / stride)   // floor division
            return (row * stride + offset - shift * stride) * width + shift + x0
        }
    }

    /// Copies the plane's columns into their phases (`split`), or the phases back into the plane.
    private static func movePhases(_ plane: UnsafeMutablePointer<Float>, _ phases: UnsafeMutablePointer<Float>, _ g: Geometry, split: Bool) {
        let (ih, iw, sw) = (g.input[0], g.input[1], g.strides[1]), width = TapRows(g).width
        for iy in 0..<ih {
            let row = plane + iy * iw
            var start = 0
            if sw == 2 {     // 32 columns at a time: even and odd halves of one vector
                let even = phases + iy * 2 * width, odd = even + width
                while start + 32 <= iw {
                    if split {
                        let pair = UnsafeRawPointer(row + start).loadUnaligned(as: SIMD32<Float>.self)
                        UnsafeMutableRawPointer(even + start / 2).storeBytes(of: pair.evenHalf, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(odd + start / 2).storeBytes(of: pair.oddHalf, as: SIMD16<Float>.self)
                    } else {
                        var pair = SIMD32<Float>()
                        pair.evenHalf = UnsafeRawPointer(even + start / 2).loadUnaligned(as: SIMD16<Float>.self)
                        pair.oddHalf = UnsafeRawPointer(odd + start / 2).loadUnaligned(as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(row + start).storeBytes(of: pair, as: SIMD32<Float>.self)
                    }
                    start += 32
                }
            }
            for p in 0..<sw {
                let phase = phases + (iy * sw + p) * width
                var j = start / sw, c = start + p
                while c < iw {
                    if split { phase[j] = row[c] } else { row[c] = phase[j] }
                    j += 1; c += sw
                }
            }
        }
    }

    /// y[i] += a · x[i] (a multiply, then an add: the same rounding as the scalar loop) in the CPU's
    /// widest lanes.
    @inline(__always)
    static func addScaled(_ a: Float, _ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, _ n: Int) {
        cp_add_scaled(a, x, y, n, DirectConv.isa)
    }
}
