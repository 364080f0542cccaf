import CNNRuntime
import FrameModel

/// An RGB image as three float planes (the CNN layout), with the helpers stylisation needs.
struct PlanarRGB {
    var width: Int
    var height: Int
    var planes: [Float]       // R plane, G plane, B plane

    init(width: Int, height: Int, planes: [Float]) {
        self.width = width; self.height = height; self.planes = planes
    }

    /// From interleaved RGB (or RGBA, alpha ignored) float samples.
    init(interleaved s: [Float], width: Int, height: Int, channels: Int) {
        self.width = width; self.height = height
        let n = width * height
        var p = [Float](repeating: 0, count: 3 * n)
        s.withUnsafeBufferPointer { src in
            p.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 { for i in 0..<n { dst[c * n + i] = src[i * channels + c] } }
            }
        }
        planes = p
    }

    /// Back to interleaved samples; `alpha` (one per pixel) is appended as a 4th channel when given.
    func interleaved(alpha: [Float]? = nil) -> [Float] {
        let n = width * height, channels = alpha == nil ? 3 : 4
        var out = [Float](repeating: 0, count: channels * n)
        planes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 { for i in 0..<n { dst[i * channels + c] = min(max(src[c * n + i], 0), 1) } }
                if let alpha { for i in 0..<n { dst[i * 4 + 3] = alpha[i] } }
            }
        }
        return out
    }

    /// Reflect-padded (no edge repeat) so both sides are multiples of `m`; returns the offsets.
    func paddedToMultiple(of m: Int) -> PlanarRGB {
        let w = (width + m - 1) / m * m, h = (height + m - 1) / m * m
        if w == width && h == height { return self }
        func reflect(_ i: Int, _ n: Int) -> Int {
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            let j = ((i % period) + period) % period
            return j < n ? j : period - j
        }
        let xs = (0..<w).map { reflect($0, width) }, ys = (0..<h).map { reflect($0, height) }
        var p = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 {
            for y in 0..<h {
                let src = c * width * height + ys[y] * width, dst = c * w * h + y * w
                for x in 0..<w { p[dst + x] = planes[src + xs[x]] }
            }
        }
        return PlanarRGB(width: w, height: h, planes: p)
    }

    func cropped(width w: Int, height h: Int) -> PlanarRGB {
        if w == width && h == height { return self }
        var p = [Float](repeating: 0, count: 3 * w * h)
        for c in 0..<3 { for y in 0..<h {
            let src = c * width * height + y * width, dst = c * w * h + y * w
            for x in 0..<w { p[dst + x] = planes[src + x] }
        } }
        return PlanarRGB(width: w, height: h, planes: p)
    }

    var nchw: Tensor { Tensor(shape: [1, 3, height, width], floats: planes) }

    /// NHWC tensor (the Magenta models' layout).
    var nhwc: Tensor { Tensor(shape: [1, height, width, 3], floats: interleaved()) }

    static func fromNHWC(_ t: Tensor) -> PlanarRGB {
        PlanarRGB(interleaved: t.floats, width: t.shape[2], height: t.shape[1], channels: 3)
    }

    /// self + s · (other − self), element-wise.
    func mixed(with other: PlanarRGB, amount s: Float) -> PlanarRGB {
        var p = planes
        other.planes.withUnsafeBufferPointer { o in
            p.withUnsafeMutableBufferPointer { d in for i in 0..<d.count { d[i] += s * (o[i] - d[i]) } }
        }
        return PlanarRGB(width: width, height: height, planes: p)
    }

    /// Luminance of `self`, chroma of `colour` (BT.601 YCbCr).
    func withChroma(of colour: PlanarRGB) -> PlanarRGB {
        let n = width * height
        var p = [Float](repeating: 0, count: 3 * n)
        planes.withUnsafeBufferPointer { s in
            colour.planes.withUnsafeBufferPointer { c in
                p.withUnsafeMutableBufferPointer { d in
                    for i in 0..<n {
                        let y = 0.299 * s[i] + 0.587 * s[n + i] + 0.114 * s[2 * n + i]
                        let cy = 0.299 * c[i] + 0.587 * c[n + i] + 0.114 * c[2 * n + i]
                        // Keep the original's colour differences, moved to the stylised brightness.
                        d[i] = y + (c[i] - cy); d[n + i] = y + (c[n + i] - cy); d[2 * n + i] = y + (c[2 * n + i] - cy)
                    }
                }
            }
        }
        return PlanarRGB(width: width, height: height, planes: p)
    }

    /// Centre square, resized to `side` with area averaging (downscale) or bilinear (upscale).
    func centreSquare(side: Int) -> PlanarRGB {
        let s = min(width, height), x0 = (width - s) / 2, y0 = (height - s) / 2
        var p = [Float](repeating: 0, count: 3 * side * side)
        let scale = Double(s) / Double(side)
        for c in 0..<3 {
            for oy in 0..<side {
                for ox in 0..<side {
                    let fx0 = Double(ox) * scale, fy0 = Double(oy) * scale
                    if scale >= 1 {
                        var sum: Float = 0, count: Float = 0
                        for y in Int(fy0)..<max(Int(fy0) + 1, Int(fy0 + scale)) {
                            for x in Int(fx0)..<max(Int(fx0) + 1, Int(fx0 + scale)) {
                                sum += planes[c * width * height + (y0 + min(y, s - 1)) * width + x0 + min(x, s - 1)]
                                count += 1
                            }
                        }
                        p[c * side * side + oy * side + ox] = sum / count
                    } else {
                        let x = min(Int(fx0), s - 1), y = min(Int(fy0), s - 1)
                        p[c * side * side + oy * side + ox] = planes[c * width * height + (y0 + y) * width + x0 + x]
                    }
                }
            }
        }
        return PlanarRGB(width: side, height: side, planes: p)
    }
}
