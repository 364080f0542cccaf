import FrameModel

/// Mode `overlay`: one channel's activation (or the mean over channels) normalised, interpolated
/// over the frame and blended on it in the colour map. Each unit sits at the centre of its receptive
/// field (mapped to frame pixels); between units the map is bilinear.
public struct HeatmapOverlay: Sendable {
    public var opacity: Float

    public init(opacity: Float) { self.opacity = opacity }

    /// The map to show: channel `channel`, or the mean of all channels when it is negative.
    public static func map(_ a: Activations, channel: Int) throws -> [Float] {
        let plane = a.height * a.width
        if channel >= 0 {
            guard channel < a.channels else {
                throw ActivationError("channel \(channel) is out of range: layer has channels 0-\(a.channels - 1)")
            }
            return normalised(a.values[channel * plane..<(channel + 1) * plane])
        }
        var mean = [Float](repeating: 0, count: plane)
        a.values.withUnsafeBufferPointer { v in
            for c in 0..<a.channels { for i in 0..<plane { mean[i] += v[c * plane + i] } }
        }
        return normalised(mean[...])
    }

    /// For each frame pixel along an axis: the lower unit index and the weight of the next one.
    static func taps(count: Int, units: Int, centre0: Double, step: Double) -> (index: [Int], weight: [Float]) {
        var index = [Int](repeating: 0, count: count), weight = [Float](repeating: 0, count: count)
        for p in 0..<count {
            let u = min(Double(units - 1), max(0, (Double(p) + 0.5 - centre0) / step))
            let i = min(units - 2, Int(u.rounded(.down)))
            index[p] = max(0, i)
            weight[p] = units > 1 ? Float(u - Double(max(0, i))) : 0
        }
        return (index, weight)
    }

    public func render(_ a: Activations, map: [Float], over photo: FloatImage) -> FloatImage {
        let v = a.view
        // Unit centres in frame pixels (without a known field: the map stretched over the model input).
        let fx = a.field?.x ?? .init(jump: Double(v.modelWidth) / Double(a.width), size: Double(v.modelWidth) / Double(a.width), start: 0)
        let fy = a.field?.y ?? .init(jump: Double(v.modelHeight) / Double(a.height), size: Double(v.modelHeight) / Double(a.height), start: 0)
        let cx = Self.taps(count: photo.width, units: a.width, centre0: v.offsetX + (fx.start + fx.size / 2) * v.scaleX, step: fx.jump * v.scaleX)
        let cy = Self.taps(count: photo.height, units: a.height, centre0: v.offsetY + (fy.start + fy.size / 2) * v.scaleY, step: fy.jump * v.scaleY)
        let colors = ColorMap.standard
        var out = photo
        let c = photo.channels, w = a.width
        let next = a.width > 1 ? 1 : 0, below = a.height > 1 ? a.width : 0
        // Only the part the model saw (a fixed-size model sees a centre crop).
        let x0 = max(0, Int(v.offsetX.rounded())), x1 = min(photo.width, Int((v.offsetX + Double(v.modelWidth) * v.scaleX).rounded()))
        let y0 = max(0, Int(v.offsetY.rounded())), y1 = min(photo.height, Int((v.offsetY + Double(v.modelHeight) * v.scaleY).rounded()))
        out.samples.withUnsafeMutableBufferPointer { dst in
            map.withUnsafeBufferPointer { m in
                for y in y0..<y1 {
                    let r = cy.index[y] * w, wy = cy.weight[y]
                    for x in x0..<x1 {
                        let i = r + cx.index[x], wx = cx.weight[x]
                        let top = m[i] + wx * (m[i + next] - m[i])
                        let bottom = m[i + below] + wx * (m[i + below + next] - m[i + below])
                        let color = colors.color(top + wy * (bottom - top))
                        let d = (y * photo.width + x) * c
                        dst[d] += opacity * (color.x - dst[d])
                        dst[d + 1] += opacity * (color.y - dst[d + 1])
                        dst[d + 2] += opacity * (color.z - dst[d + 2])
                    }
                }
            }
        }
        return out
    }
}
