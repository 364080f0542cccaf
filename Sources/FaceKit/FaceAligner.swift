import CNNRuntime
import Foundation

/// dlib's face alignment for the face ResNet (what `dlib.get_face_chip(image, shape, 150, 0.25)`
/// does, dlib-format.md §8): the similarity transform that puts the 5 landmarks on dlib's template,
/// then a 150×150 chip sampled bilinearly (truncated to 8 bits, black where the 2×2 neighbourhood
/// leaves the image).
public struct FaceAligner: Sendable {
    public var size = 150
    public var padding = 0.25

    /// dlib's 5-point template in a unit square (no padding): eye corners, then the nose base.
    static let template: [(x: Double, y: Double)] = [
        (0.8595674595992, 0.2134981538014), (0.6460604764104, 0.2289674387677),
        (0.1205750620789, 0.2137274526848), (0.3340850613712, 0.2290642403242),
        (0.4901123135679, 0.6277975316475),
    ]

    public init() {}

    /// The chip's square in the image: centre, side (dlib's centered_drect: right − left = side − 1)
    /// and rotation.
    struct ChipRectangle {
        var centreX: Double, centreY: Double, side: Double, angle: Double

        var rectangle: Box { Box(left: centreX - (side - 1) / 2, top: centreY - (side - 1) / 2,
                                 right: centreX + (side - 1) / 2, bottom: centreY + (side - 1) / 2) }
    }

    /// dlib's drectangle (inclusive corners: width = right − left + 1).
    struct Box {
        var left: Double, top: Double, right: Double, bottom: Double
        var area: Double { left > right || top > bottom ? 0 : (right - left + 1) * (bottom - top + 1) }
        var centre: (x: Double, y: Double) { ((left + right) / 2, (top + bottom) / 2) }
        /// pyramid_down<2>'s point_down on both corners: p / 2 − (1.25, 0.75).
        var down: Box { Box(left: left / 2 - 1.25, top: top / 2 - 0.75, right: right / 2 - 1.25, bottom: bottom / 2 - 0.75) }
        func shifted(_ dx: Double, _ dy: Double) -> Box { Box(left: left + dx, top: top + dy, right: right + dx, bottom: bottom + dy) }
    }

    func chipRectangle(_ landmarks: [DlibPoint]) -> ChipRectangle {
        let s = Double(size)
        let chipPoints = Self.template.map { (x: s * (padding + $0.x) / (1 + 2 * padding), y: s * (padding + $0.y) / (1 + 2 * padding)) }
        let t = SimilarityTransform.leastSquares(from: chipPoints, to: landmarks.map { (x: Double($0.x), y: Double($0.y)) })
        let centre = t.apply(s / 2, s / 2)
        return ChipRectangle(centreX: centre.x, centreY: centre.y, side: s * t.scale, angle: atan2(t.b, t.a))
    }

    /// Where chip pixel (c, r) samples an image: origin + c·dx + r·dy, from the corners of `box`
    /// rotated by `angle` about its centre (chip corners (0, 0), (size − 1, 0), (0, size − 1)).
    struct ChipMapping {
        var originX: Double, originY: Double
        var dxX: Double, dxY: Double
        var dyX: Double, dyY: Double
    }

    func mapping(_ box: Box, angle: Double) -> ChipMapping {
        let (cosA, sinA) = (cos(angle), sin(angle)), c = box.centre
        func rotated(_ x: Double, _ y: Double) -> (Double, Double) {
            let dx = x - c.x, dy = y - c.y
            return (c.x + dx * cosA - dy * sinA, c.y + dx * sinA + dy * cosA)
        }
        let tl = rotated(box.left, box.top), tr = rotated(box.right, box.top), bl = rotated(box.left, box.bottom)
        let steps = Double(size - 1)
        return ChipMapping(originX: tl.0, originY: tl.1, dxX: (tr.0 - tl.0) / steps, dxY: (tr.1 - tl.1) / steps,
                           dyX: (bl.0 - tl.0) / steps, dyY: (bl.1 - tl.1) / steps)
    }

    /// The aligned chip (interleaved RGB8, size × size) of the face with these 5 landmarks.
    /// Faces much bigger than the chip are sampled from a 2× image pyramid level (dlib's
    /// extract_image_chips): the coarsest level at which the square still covers more than size² pixels.
    public func chip(rgb: [UInt8], width: Int, height: Int, landmarks: [DlibPoint]) -> [UInt8] {
        let chip = chipRectangle(landmarks)
        let full = chip.rectangle, area = Double(size * size)
        var depth = 0, grow = 2.0, r = full.down
        while r.area > area { r = r.down; depth += 1; grow = grow * 2 + 2 }
        guard depth > 0 else {
            return sample(RGBImage(pixels: rgb, width: width, height: height), mapping(full, angle: chip.angle))
        }
        // The part of the image the chip can reach (its rotated square, grown by the filter's reach), rounded.
        let (cosA, sinA) = (cos(chip.angle), sin(chip.angle)), c = full.centre
        let corners = [(full.left, full.top), (full.right, full.top), (full.left, full.bottom), (full.right, full.bottom)].map { p in
            (c.x + (p.0 - c.x) * cosA - (p.1 - c.y) * sinA, c.y + (p.0 - c.x) * sinA + (p.1 - c.y) * cosA)
        }
        let left = max(corners.map(\.0).min()! - grow, 0), right = min(corners.map(\.0).max()! + grow, Double(width - 1))
        let top = max(corners.map(\.1).min()! - grow, 0), bottom = min(corners.map(\.1).max()! + grow, Double(height - 1))
        let x0 = Int(left.rounded()), y0 = Int(top.rounded()), x1 = Int(right.rounded()), y1 = Int(bottom.rounded())
        var level = RGBImage(pixels: rgb, width: width, height: height).cropped(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
        var box = full.shifted(Double(-x0), Double(-y0))
        while box.down.area > area {
            level = level.halved()
            box = box.down
        }
        return sample(level, mapping(box, angle: chip.angle))
    }

    /// Bilinear samples in double, truncated to 8 bits; 0 where the 2×2 neighbourhood leaves the image.
    func sample(_ image: RGBImage, _ m: ChipMapping) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size * size * 3)
        let width = image.width, height = image.height
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<size {
                    for c in 0..<size {
                        let x = m.originX + Double(c) * m.dxX + Double(r) * m.dyX
                        let y = m.originY + Double(c) * m.dxY + Double(r) * m.dyY
                        let left = Int(x.rounded(.down)), top = Int(y.rounded(.down))
                        guard left >= 0, top >= 0, left + 1 < width, top + 1 < height else { continue }
                        let fx = x - Double(left), fy = y - Double(top)
                        let i00 = (top * width + left) * 3, i01 = i00 + 3, i10 = i00 + width * 3, i11 = i10 + 3
                        let o = (r * size + c) * 3
                        for k in 0..<3 {
                            let v = (1 - fy) * ((1 - fx) * Double(src[i00 + k]) + fx * Double(src[i01 + k]))
                                + fy * ((1 - fx) * Double(src[i10 + k]) + fx * Double(src[i11 + k]))
                            dst[o + k] = UInt8(v)
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Interleaved 8-bit RGB.
struct RGBImage {
    var pixels: [UInt8]
    var width: Int, height: Int

    func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RGBImage {
        var p = [UInt8](repeating: 0, count: max(0, w * h * 3))
        for row in 0..<max(0, h) {
            let s = ((y + row) * width + x) * 3
            p.replaceSubrange(row * w * 3 ..< (row + 1) * w * 3, with: pixels[s ..< s + w * 3])
        }
        return RGBImage(pixels: p, width: w, height: h)
    }

    /// dlib's pyramid_down<2>: a 5×5 binomial filter (1 4 6 4 1)² / 256 in integers, every other
    /// pixel kept; (n − 3) / 2 samples per side.
    func halved() -> RGBImage {
        guard width > 8, height > 8 else { return RGBImage(pixels: [], width: 0, height: 0) }
        let w2 = (width - 3) / 2, h2 = (height - 3) / 2
        var rows = [UInt16](repeating: 0, count: height * w2 * 3)
        pixels.withUnsafeBufferPointer { s in
            rows.withUnsafeMutableBufferPointer { t in
                for r in 0..<height {
                    for c in 0..<w2 {
                        let i = (r * width + 2 * c) * 3, o = (r * w2 + c) * 3
                        for k in 0..<3 {
                            t[o + k] = UInt16(s[i + k]) + 4 * UInt16(s[i + 3 + k]) + 6 * UInt16(s[i + 6 + k])
                                + 4 * UInt16(s[i + 9 + k]) + UInt16(s[i + 12 + k])
                        }
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: h2 * w2 * 3)
        let stride = w2 * 3
        rows.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { d in
                for dr in 0..<h2 {
                    let r = 2 * dr
                    for j in 0..<stride {
                        let sum = t[r * stride + j] &+ 4 &* t[(r + 1) * stride + j] &+ 6 &* t[(r + 2) * stride + j]
                            &+ 4 &* t[(r + 3) * stride + j] &+ t[(r + 4) * stride + j]
                        d[dr * stride + j] = UInt8(sum / 256)
                    }
                }
            }
        }
        return RGBImage(pixels: out, width: w2, height: h2)
    }
}
