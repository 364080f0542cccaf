import CNNRuntime
import Foundation

/// dlib's tiled image pyramid (`input_rgb_image_pyramid<pyramid_down<6>>`): every level, each 5/6
/// the size of the last, packed into one image so the detector runs once. Levels go down a first
/// column, then up a second, right-aligned column; `padding` pixels between levels, `outerPadding`
/// around; the rest is the network's mean colour (zero after its normalisation).
/// See docs/research/dlib-mmod-detection.md §1 for the layout rules this reproduces.
struct TiledPyramid {
    /// Where each level sits in the tiled image, level 0 (the image itself) first.
    let levels: [DlibRectangle]
    let width: Int, height: Int

    static let minimumLevelHeight = 5
    static let rate = 5.0 / 6.0

    init(imageWidth: Int, imageHeight: Int, padding: Int, outerPadding: Int) {
        var sizes = [(w: imageWidth, h: imageHeight)]
        var (w, h) = (imageWidth, imageHeight)
        while true {
            h = Int((Self.rate * Double(h)).rounded(.down)); w = Int((Self.rate * Double(w)).rounded(.down))
            if w * h == 0 || h < Self.minimumLevelHeight { break }
            sizes.append((w, h))
        }
        // How far the first column goes. dlib compares in unsigned 64-bit arithmetic, where a
        // negative difference wraps to a huge value; the wrapping operators reproduce that.
        let pad = UInt64(padding)
        let totalHeight = sizes.reduce(UInt64(0)) { $0 &+ UInt64($1.h) &+ pad } &- 2 &* pad
        let w0 = UInt64(sizes[0].w), h0 = UInt64(sizes[0].h)
        var columnHeight: UInt64 = 0, previousWidth: UInt64 = 0
        for s in sizes {
            let fitsBeside = UInt64(s.w) <= w0 &- previousWidth &- pad
            let pastHalf = (columnHeight &- h0) &* 2 >= totalHeight &- h0
            if fitsBeside && pastHalf { break }
            columnHeight = columnHeight &+ UInt64(s.h) &+ pad
            previousWidth = UInt64(s.w)
        }
        let usedHeight = Int(columnHeight) - padding
        width = sizes[0].w + 2 * outerPadding
        height = usedHeight + 2 * outerPadding

        var placed: [DlibRectangle] = []
        var y = outerPadding, i = 0
        while y < usedHeight + outerPadding && i < sizes.count {
            placed.append(DlibRectangle(left: outerPadding, top: y, right: outerPadding + sizes[i].w - 1, bottom: y + sizes[i].h - 1))
            y += sizes[i].h + padding
            i += 1
        }
        y -= padding
        while i < sizes.count {
            let right = outerPadding + sizes[0].w - 1, bottom = y - 1
            let r = DlibRectangle(left: right - sizes[i].w + 1, top: bottom - sizes[i].h + 1, right: right, bottom: bottom)
            if !r.intersection(placed[0]).isEmpty { break }    // a level that would overlap the image is dropped
            placed.append(r)
            y -= sizes[i].h + padding
            i += 1
        }
        levels = placed
    }

    /// The tiled image as planar RGB floats (pixel units 0…255), background `mean`: level 0 is
    /// `rgb` (interleaved 8-bit), each further level a bilinear (align-corners) resampling of the previous.
    /// Detection makes it a row at a time instead (PyramidRows); this is the reference for that.
    func render(rgb: UnsafeBufferPointer<UInt8>, mean: [Float], into planes: UnsafeMutablePointer<Float>) {
        let plane = width * height
        for c in 0..<3 { (planes + c * plane).update(repeating: mean[c], count: plane) }
        let l0 = levels[0]
        for c in 0..<3 {
            for row in 0..<l0.height {
                let d = planes + c * plane + (l0.top + row) * width + l0.left
                let s = row * l0.width * 3 + c
                for x in 0..<l0.width { d[x] = Float(rgb[s + 3 * x]) }
            }
        }
        for i in levels.indices.dropFirst() {
            for c in 0..<3 {
                Self.resizeBilinear(from: planes + c * plane, levels[i - 1], to: planes + c * plane, levels[i], stride: width)
            }
        }
    }

    /// Align-corners bilinear resampling of one block of a plane into another (dlib's resize_image).
    static func resizeBilinear(from src: UnsafePointer<Float>, _ a: DlibRectangle, to dst: UnsafeMutablePointer<Float>,
                               _ b: DlibRectangle, stride: Int) {
        let xs = Double(a.width - 1) / Double(max(b.width - 1, 1)), ys = Double(a.height - 1) / Double(max(b.height - 1, 1))
        let columns = (0..<b.width).map { c -> (Int, Int, Float) in
            let x = Double(c) * xs, left = Int(x.rounded(.down))
            return (left, min(left + 1, a.width - 1), Float(x - Double(left)))
        }
        for r in 0..<b.height {
            let y = Double(r) * ys, top = Int(y.rounded(.down)), bottom = min(top + 1, a.height - 1), fy = Float(y - Double(top))
            let t = src + (a.top + top) * stride + a.left, u = src + (a.top + bottom) * stride + a.left
            let d = dst + (b.top + r) * stride + b.left
            for (c, (l, rr, fx)) in columns.enumerated() {
                let upper = (1 - fx) * t[l] + fx * t[rr], lower = (1 - fx) * u[l] + fx * u[rr]
                d[c] = (1 - fy) * upper + fy * lower
            }
        }
    }

    /// The level a tiled-image point belongs to: the first containing it, else the nearest.
    func level(x: Int, y: Int) -> Int {
        if let i = levels.firstIndex(where: { $0.contains(x: x, y: y) }) { return i }
        var best = 0, bestDistance = Double.infinity
        for (i, r) in levels.enumerated() {
            let dx = Double(x - min(max(x, r.left), r.right)), dy = Double(y - min(max(y, r.top), r.bottom))
            let d = (dx * dx + dy * dy).squareRoot()
            if d < bestDistance { best = i; bestDistance = d }
        }
        return best
    }

    /// A tiled-image rectangle in the original image's coordinates (pyramid_down<6>::rect_up per level).
    func toImage(_ r: DoubleRectangle) -> DoubleRectangle {
        let cx = Int(((r.left + r.right) / 2 + 0.5).rounded(.down)), cy = Int(((r.top + r.bottom) / 2 + 0.5).rounded(.down))
        let l = level(x: cx, y: cy), origin = levels[l]
        var out = r.mapped { ($0 - Double(origin.left), $1 - Double(origin.top)) }
        for _ in 0..<l { out = out.mapped { ($0 * (6 / 5.0) + 0.3, $1 * (6 / 5.0) + 0.3) } }
        return out
    }
}
