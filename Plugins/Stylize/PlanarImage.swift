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
        self = s.withUnsafeBufferPointer { Self.deinterleave($0, width: width, height: height, channels: channels, scale: 1) }
    }

    /// From and to the interleaved float image of FrameModel's resampler and StyleTransfer.
    init(_ image: FloatImage) {
        self.init(interleaved: image.samples, width: image.width, height: image.height, channels: image.channels)
    }

    var floatImage: FloatImage { FloatImage(width: width, height: height, channels: 3, samples: interleaved()) }

    /// The RGB planes of an RGB or RGBA image of any depth (samples scaled to 0...1), and its
    /// alpha plane if it has one: one pass from the packed pixels, no intermediate float image.
    static func split(_ image: Image) -> (PlanarRGB, alpha: [Float]?) {
        let c = image.format.channels, w = image.width, h = image.height
        func planes<T: BinaryInteger>(_ type: T.Type, _ scale: Float) -> (PlanarRGB, [Float]?) {
            image.bytes.withUnsafeBytes { raw in
                let src = raw.bindMemory(to: T.self)
                let rgb = deinterleave(src, width: w, height: h, channels: c, scale: scale)
                guard c == 4 else { return (rgb, nil) }
                let alpha = [Float](unsafeUninitializedCapacity: w * h) { a, n in
                    for i in 0..<(w * h) { a[i] = Float(src[i * 4 + 3]) * scale }
                    n = w * h
                }
                return (rgb, alpha)
            }
        }
        switch image.format.bytesPerSample {
        case 1: return planes(UInt8.self, 1 / 255)
        case 2: return planes(UInt16.self, 1 / 65535)
        default:
            let s = image.floatSamples()
            let alpha: [Float]? = c == 4 ? stride(from: 3, to: s.count, by: 4).map { s[$0] } : nil
            return (PlanarRGB(interleaved: s, width: w, height: h, channels: c), alpha)
        }
    }

    private static func deinterleave<T>(_ src: UnsafeBufferPointer<T>, width: Int, height: Int, channels: Int, scale: Float) -> PlanarRGB
    where T: BinaryInteger {
        let n = width * height
        let p = [Float](unsafeUninitializedCapacity: 3 * n) { dst, count in
            for c in 0..<3 { for i in 0..<n { dst[c * n + i] = Float(src[i * channels + c]) * scale } }
            count = 3 * n
        }
        return PlanarRGB(width: width, height: height, planes: p)
    }

    private static func deinterleave(_ src: UnsafeBufferPointer<Float>, width: Int, height: Int, channels: Int, scale: Float) -> PlanarRGB {
        let n = width * height
        let p = [Float](unsafeUninitializedCapacity: 3 * n) { dst, count in
            for c in 0..<3 { for i in 0..<n { dst[c * n + i] = src[i * channels + c] } }
            count = 3 * n
        }
        return PlanarRGB(width: width, height: height, planes: p)
    }

    /// Back to a packed RGB/RGBA image of `format`'s depth (clamped to 0...1, rounded), with `alpha` when it has one.
    func image(_ format: PixelFormat, alpha: [Float]?) -> Image {
        let n = width * height, c = format.channels
        func pack<T: FixedWidthInteger>(_ type: T.Type) -> [UInt8] {
            let maxValue = Float(T.max)
            let packed = [T](unsafeUninitializedCapacity: c * n) { dst, count in
                planes.withUnsafeBufferPointer { src in
                    for k in 0..<3 { for i in 0..<n { dst[i * c + k] = T(min(max(src[k * n + i], 0), 1) * maxValue + 0.5) } }
                }
                if c == 4 { for i in 0..<n { dst[i * 4 + 3] = T(min(max(alpha?[i] ?? 1, 0), 1) * maxValue + 0.5) } }
                count = c * n
            }
            return packed.withUnsafeBytes { Array($0) }
        }
        switch format.bytesPerSample {
        case 1: return Image(width: width, height: height, format: format, bytes: pack(UInt8.self))
        case 2: return Image(width: width, height: height, format: format, bytes: pack(UInt16.self))
        default: return Image(width: width, height: height, format: format, floatSamples: interleaved(alpha: c == 4 ? alpha ?? [Float](repeating: 1, count: n) : nil))
        }
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

    /// Each plane resized with the shared separable resampler: area averaging when shrinking,
    /// bilinear when enlarging.
    func resized(width w: Int, height h: Int) -> PlanarRGB {
        if w == width && h == height { return self }
        let filter: ResampleFilter = w < width && h < height ? .box : .bilinear
        let n = width * height
        var p: [Float] = []
        p.reserveCapacity(3 * w * h)
        for c in 0..<3 {
            let plane = FloatImage(width: width, height: height, channels: 1, samples: Array(planes[c * n ..< (c + 1) * n]))
            p += Resampler.resize(plane, width: w, height: h, filter: filter).samples
        }
        return PlanarRGB(width: w, height: h, planes: p)
    }

    /// A smaller copy of at most `pixels` pixels, sides multiples of `m`, same aspect ratio.
    func downscaled(toAtMost pixels: Int, multipleOf m: Int) -> PlanarRGB {
        let scale = (Double(pixels) / Double(width * height)).squareRoot()
        let w = max(m, Int(Double(width) * scale) / m * m), h = max(m, Int(Double(height) * scale) / m * m)
        return resized(width: w, height: h)
    }

    /// Centre square, resized to `side`.
    func centreSquare(side: Int) -> PlanarRGB {
        let s = min(width, height)
        return region(x: (width - s) / 2, y: (height - s) / 2, width: s, height: s).resized(width: side, height: side)
    }
}
