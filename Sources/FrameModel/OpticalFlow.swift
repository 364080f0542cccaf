/// A dense motion field: the pixel at (x, y) of one image is at (x + u, y + v) in the other.
public struct FlowField: Sendable {
    public var width: Int
    public var height: Int
    public var u: [Float]
    public var v: [Float]

    public init(width: Int, height: Int, u: [Float], v: [Float]) {
        precondition(u.count == width * height && v.count == width * height, "flow size mismatch")
        self.width = width
        self.height = height
        self.u = u
        self.v = v
    }

    public init(width: Int, height: Int) {
        self.init(width: width, height: height, u: [Float](repeating: 0, count: width * height),
                  v: [Float](repeating: 0, count: width * height))
    }

    /// The field at another size, vectors scaled with it (bilinear).
    public func resized(width w: Int, height h: Int) -> FlowField {
        if w == width && h == height { return self }
        func plane(_ p: [Float], _ scale: Float) -> [Float] {
            Resampler.resize(FloatImage(width: width, height: height, channels: 1, samples: p), width: w, height: h,
                             filter: .bilinear).samples.map { $0 * scale }
        }
        return FlowField(width: w, height: h, u: plane(u, Float(w) / Float(width)), v: plane(v, Float(h) / Float(height)))
    }

    /// Where `forward` (this field's reverse direction) does not lead back within the tolerance of
    /// Sundaram et al. (2010) — |b + f(x + b)|² ≤ 0.01 (|b|² + |f(x + b)|²) + 0.5 — the pixel is
    /// occluded or the motion unreliable: 0 there, 1 elsewhere.
    public func consistencyMask(with forward: FlowField) -> [Float] {
        let fu = FlowWarp.sample(forward.u, width: width, height: height, by: self)
        let fv = FlowWarp.sample(forward.v, width: width, height: height, by: self)
        return [Float](unsafeUninitializedCapacity: u.count) { m, n in
            for i in 0..<u.count {
                let du = u[i] + fu[i], dv = v[i] + fv[i]
                let bound = 0.01 * (u[i] * u[i] + v[i] * v[i] + fu[i] * fu[i] + fv[i] * fv[i]) + 0.5
                m[i] = du * du + dv * dv <= bound ? 1 : 0
            }
            n = u.count
        }
    }
}

/// Backward warping with bilinear sampling (clamped at the borders).
public enum FlowWarp {
    /// `image` sampled at (x + u, y + v) for every pixel (x, y) of `flow`: with the flow from frame
    /// t to frame t−1, frame t−1 moved onto frame t. Every channel; the image has the flow's size.
    public static func warp(_ image: FloatImage, by flow: FlowField) -> FloatImage {
        precondition(image.width == flow.width && image.height == flow.height, "warp: image and flow sizes differ")
        let c = image.channels, w = flow.width, h = flow.height
        var out = [Float](repeating: 0, count: image.samples.count)
        image.samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                forEachSample(flow) { i, i00, i01, i10, i11, fx, fy in
                    for k in 0..<c {
                        let top = src[i00 * c + k] + fx * (src[i01 * c + k] - src[i00 * c + k])
                        let bottom = src[i10 * c + k] + fx * (src[i11 * c + k] - src[i10 * c + k])
                        dst[i * c + k] = top + fy * (bottom - top)
                    }
                }
            }
        }
        return FloatImage(width: w, height: h, channels: c, samples: out)
    }

    /// One plane sampled along `flow`.
    public static func sample(_ plane: [Float], width: Int, height: Int, by flow: FlowField) -> [Float] {
        warp(FloatImage(width: width, height: height, channels: 1, samples: plane), by: flow).samples
    }

    /// Calls `body` with the output index, the four source indices and the fractions of each sample point.
    @inline(__always)
    private static func forEachSample(_ flow: FlowField,
                                      _ body: (Int, Int, Int, Int, Int, Float, Float) -> Void) {
        let w = flow.width, h = flow.height
        let maxX = Float(w - 1), maxY = Float(h - 1)
        flow.u.withUnsafeBufferPointer { u in
            flow.v.withUnsafeBufferPointer { v in
                for y in 0..<h {
                    let row = y * w
                    for x in 0..<w {
                        let i = row + x
                        let sx = min(max(Float(x) + u[i], 0), maxX), sy = min(max(Float(y) + v[i], 0), maxY)
                        let x0 = Int(sx), y0 = Int(sy)
                        let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                        body(i, y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1, sx - Float(x0), sy - Float(y0))
                    }
                }
            }
        }
    }
}
