import Drawing
import FrameModel

/// Mode `maps`: a layer's feature maps as a grid of tiles, each channel normalised to its own range
/// and coloured with the colour map, labelled with its channel number, under a title line.
public struct FeatureMapGrid: Sendable {
    public var cell: Int
    public var gap = 4
    public var columns = 0
    public var background: SIMD3<Float> = [0.12, 0.12, 0.12]

    public init(cell: Int, columns: Int = 0) { self.cell = cell; self.columns = columns }

    /// Which channels to show: those listed (in order), or the `top` with the highest mean
    /// activation (most active first), or the first `limit`.
    public static func channels(_ a: Activations, listed: [Int], top: Int, limit: Int) throws -> [Int] {
        if !listed.isEmpty {
            if let bad = listed.first(where: { $0 < 0 || $0 >= a.channels }) {
                throw ActivationError("channel \(bad) is out of range: layer has channels 0-\(a.channels - 1)")
            }
            return listed
        }
        let plane = a.height * a.width
        if top > 0 {
            let means = (0..<a.channels).map { c in a.values[c * plane..<(c + 1) * plane].reduce(0, +) / Float(plane) }
            return Array(means.indices.sorted { means[$0] > means[$1] || (means[$0] == means[$1] && $0 < $1) }.prefix(top))
        }
        return Array(0..<min(a.channels, limit))
    }

    /// Where each tile goes: (x, y) of tile i's top-left corner, the tile side and the sheet size.
    public struct Layout: Equatable {
        public var columns: Int, rows: Int
        public var tileWidth: Int, tileHeight: Int, labelHeight: Int, titleHeight: Int
        public var width: Int, height: Int
        public func origin(_ i: Int, gap: Int) -> (x: Int, y: Int) {
            (gap + (i % columns) * (tileWidth + gap), titleHeight + gap + (i / columns) * (tileHeight + labelHeight + gap))
        }
    }

    public func layout(count: Int, mapWidth: Int, mapHeight: Int) -> Layout {
        let cols = columns > 0 ? min(columns, max(1, count)) : max(1, Int(Double(count).squareRoot().rounded(.up)))
        let rows = max(1, (count + cols - 1) / cols)
        let s = Double(cell) / Double(max(mapWidth, mapHeight))
        let tw = max(1, Int((Double(mapWidth) * s).rounded())), th = max(1, Int((Double(mapHeight) * s).rounded()))
        let label = max(10, cell / 7) + 4, title = max(12, cell / 6) + 8
        let width = max(cols * (tw + gap) + gap, 200)
        return Layout(columns: cols, rows: rows, tileWidth: tw, tileHeight: th, labelHeight: label, titleHeight: title,
                      width: width, height: title + gap + rows * (th + label + gap))
    }

    public func render(_ a: Activations, channels: [Int], title: String, text: TextRenderer?) -> FloatImage {
        var l = layout(count: channels.count, mapWidth: a.width, mapHeight: a.height)
        let titleMask = text?.render(title, pixelSize: l.titleHeight - 8)
        l.width = max(l.width, (titleMask?.width ?? 0) + 2 * gap)
        var out = FloatImage(width: l.width, height: l.height, channels: 3)
        out.fill(x: 0, y: 0, width: l.width, height: l.height, color: background)
        let plane = a.height * a.width
        for (i, c) in channels.enumerated() {
            let tile = colouredTile(normalised(a.values[c * plane..<(c + 1) * plane]), width: a.width, height: a.height,
                                    tileWidth: l.tileWidth, tileHeight: l.tileHeight)
            let o = l.origin(i, gap: gap)
            out.place(tile, x: o.x, y: o.y)
            if let text {
                let mask = text.render("\(c)", pixelSize: l.labelHeight - 4)
                out.draw(mask, x: o.x + max(0, (l.tileWidth - mask.width) / 2), y: o.y + l.tileHeight + 2, color: [0.85, 0.85, 0.85])
            }
        }
        if let titleMask { out.draw(titleMask, x: gap, y: 4, color: [1, 1, 1]) }
        return out
    }

    /// A normalised map enlarged to the tile (nearest neighbour: each unit a visible block) and coloured.
    func colouredTile(_ map: [Float], width: Int, height: Int, tileWidth: Int, tileHeight: Int) -> FloatImage {
        let colors = ColorMap.standard
        var tile = FloatImage(width: tileWidth, height: tileHeight, channels: 3)
        let xs = (0..<tileWidth).map { min(width - 1, $0 * width / tileWidth) }
        tile.samples.withUnsafeMutableBufferPointer { dst in
            for y in 0..<tileHeight {
                let row = min(height - 1, y * height / tileHeight) * width
                for x in 0..<tileWidth {
                    let c = colors.color(map[row + xs[x]])
                    let d = (y * tileWidth + x) * 3
                    dst[d] = c.x; dst[d + 1] = c.y; dst[d + 2] = c.z
                }
            }
        }
        return tile
    }
}

public struct ActivationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension FloatImage {
    /// Copies `image` (same channel count) with its top-left corner at (x, y), clipped to this image.
    mutating func place(_ image: FloatImage, x: Int, y: Int) {
        let c = channels
        let x0 = max(0, x), x1 = min(width, x + image.width)
        guard x0 < x1 else { return }
        samples.withUnsafeMutableBufferPointer { dst in
            image.samples.withUnsafeBufferPointer { src in
                for row in 0..<image.height where y + row >= 0 && y + row < height {
                    (dst.baseAddress! + ((y + row) * width + x0) * c)
                        .update(from: src.baseAddress! + (row * image.width + x0 - x) * c, count: (x1 - x0) * c)
                }
            }
        }
    }
}
