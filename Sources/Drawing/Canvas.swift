import FrameModel

/// Drawing on a FloatImage: filled and outlined rectangles, and text masks.
/// Colours are RGB in 0...1; on gray images their luma is drawn; alpha is set opaque.
extension FloatImage {
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: SIMD3<Float>, opacity: Float = 1) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        let value = paint(color)
        for row in y0..<y1 {
            blendRun(row: row, from: x0, to: x1, value: value) { _ in opacity }
        }
    }

    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, thickness t: Int, color: SIMD3<Float>) {
        fill(x: x, y: y, width: w, height: t, color: color)
        fill(x: x, y: y + h - t, width: w, height: t, color: color)
        fill(x: x, y: y, width: t, height: h, color: color)
        fill(x: x + w - t, y: y, width: t, height: h, color: color)
    }

    /// Draws a text mask with its top-left corner at (x, y).
    public mutating func draw(_ mask: TextRenderer.Mask, x: Int, y: Int, color: SIMD3<Float>) {
        let value = paint(color)
        for row in 0..<mask.height where y + row >= 0 && y + row < height {
            let x0 = max(0, x), x1 = min(width, x + mask.width)
            guard x0 < x1 else { continue }
            blendRun(row: y + row, from: x0, to: x1, value: value) { px in
                Float(mask.coverage[row * mask.width + (px - x)]) * (1 / 255)
            }
        }
    }

    /// The samples of a colour for this image's channel layout.
    private func paint(_ c: SIMD3<Float>) -> [Float] {
        let luma = 0.299 * c.x + 0.587 * c.y + 0.114 * c.z
        switch channels {
        case 1: return [luma]
        case 2: return [luma, 1]
        case 3: return [c.x, c.y, c.z]
        default: return [c.x, c.y, c.z, 1]
        }
    }

    private mutating func blendRun(row: Int, from x0: Int, to x1: Int, value: [Float], alpha: (Int) -> Float) {
        let c = channels
        samples.withUnsafeMutableBufferPointer { s in
            for px in x0..<x1 {
                let a = alpha(px)
                if a <= 0 { continue }
                let base = (row * width + px) * c
                for k in 0..<c { s[base + k] += a * (value[k] - s[base + k]) }
            }
        }
    }
}

/// Parses "#rrggbb" or a few colour names.
public func parseColor(_ text: String) -> SIMD3<Float>? {
    let named: [String: SIMD3<Float>] = [
        "red": [1, 0.2, 0.2], "green": [0.2, 0.9, 0.3], "blue": [0.2, 0.5, 1], "yellow": [1, 0.9, 0.1],
        "white": [1, 1, 1], "black": [0, 0, 0], "cyan": [0.1, 0.9, 0.9], "magenta": [1, 0.2, 0.9],
    ]
    if let c = named[text.lowercased()] { return c }
    var hex = Substring(text)
    if hex.first == "#" { hex = hex.dropFirst() }
    guard hex.count == 6, let v = UInt32(hex, radix: 16) else { return nil }
    return SIMD3(Float((v >> 16) & 0xFF), Float((v >> 8) & 0xFF), Float(v & 0xFF)) / 255
}
