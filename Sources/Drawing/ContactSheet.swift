import FrameModel

/// Tiles on a grid with a caption under each: the grid stage's contact sheet and the face
/// clusters' sheets. Cells are as wide as the widest tile and as tall as the tallest tile plus
/// its caption line; each tile is centred in its cell's width.
public struct ContactSheet {
    public struct Tile {
        public var image: FloatImage
        public var caption: String
        public init(image: FloatImage, caption: String) { self.image = image; self.caption = caption }
    }

    /// Columns (0: about square).
    public var columns = 0
    public var gap = 4
    public var fontSize = 16
    public var background: SIMD3<Float> = [0.125, 0.125, 0.125]
    public var captionColor: SIMD3<Float> = [0.9, 0.9, 0.9]
    /// Shorten captions wider than their cell (with "…" at the end) instead of letting them overrun.
    public var fitCaptions = false

    public init() {}

    /// The sheet's size in pixels for these tiles (to check against a pixel limit before rendering).
    public func size(of tiles: [Tile], captions: Bool) -> (width: Int, height: Int) {
        let l = layout(tiles, captions: captions)
        return (l.width, l.height)
    }

    private func layout(_ tiles: [Tile], captions: Bool) -> (cols: Int, cellW: Int, cellH: Int, captionHeight: Int, width: Int, height: Int) {
        let cols = columns > 0 ? columns : max(1, Int(Double(tiles.count).squareRoot().rounded(.up)))
        let rows = (tiles.count + cols - 1) / cols
        let captionHeight = captions ? fontSize * 3 / 2 : 0
        let cellW = tiles.map(\.image.width).max() ?? 1
        let cellH = (tiles.map(\.image.height).max() ?? 1) + captionHeight
        let width = cols.multipliedReportingOverflow(by: cellW).partialValue + (cols + 1) * gap
        let height = rows.multipliedReportingOverflow(by: cellH).partialValue + (rows + 1) * gap
        return (cols, cellW, cellH, captionHeight, width, height)
    }

    /// The sheet of RGB tiles; captions are drawn when `text` is given.
    public func render(_ tiles: [Tile], text: TextRenderer?) -> FloatImage {
        let (cols, cellW, cellH, captionHeight, width, height) = layout(tiles, captions: text != nil)
        var out = FloatImage(width: width, height: height, channels: 3)
        out.fill(x: 0, y: 0, width: width, height: height, color: background)
        for (i, t) in tiles.enumerated() {
            let x0 = gap + (i % cols) * (cellW + gap) + (cellW - t.image.width) / 2
            let y0 = gap + (i / cols) * (cellH + gap)
            out.paste(t.image, x: x0, y: y0)
            if let text, !t.caption.isEmpty {
                let mask = fitCaptions ? fitted(t.caption, width: cellW, text: text) : text.render(t.caption, pixelSize: fontSize)
                let x = gap + (i % cols) * (cellW + gap) + max(0, (cellW - mask.width) / 2)
                out.draw(mask, x: x, y: y0 + t.image.height + (captionHeight - mask.height) / 2, color: captionColor)
            }
        }
        return out
    }

    /// The caption's mask, shortened from the end until it fits `width`.
    private func fitted(_ caption: String, width: Int, text: TextRenderer) -> TextRenderer.Mask {
        var mask = text.render(caption, pixelSize: fontSize)
        var kept = caption.count
        while mask.width > width && kept > 1 {
            kept = min(kept - 1, kept * width / max(1, mask.width) + 1)
            mask = text.render(String(caption.prefix(kept)) + "…", pixelSize: fontSize)
        }
        return mask
    }
}

extension FloatImage {
    /// Copies `image` (same channel count) with its top-left corner at (x, y), row by row.
    public mutating func paste(_ image: FloatImage, x: Int, y: Int) {
        let c = channels
        let w = min(image.width, width - x)
        guard w > 0 else { return }
        samples.withUnsafeMutableBufferPointer { dst in
            image.samples.withUnsafeBufferPointer { src in
                for row in 0..<image.height where y + row >= 0 && y + row < height {
                    let d = dst.baseAddress! + ((y + row) * width + x) * c
                    d.update(from: src.baseAddress! + row * image.width * c, count: w * c)
                }
            }
        }
    }
}
