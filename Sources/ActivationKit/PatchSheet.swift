import Drawing
import FrameModel

/// The end-of-stream picture of `TopPatches`: units in a grid, each a 3×3 block of its patches
/// (best top-left, row by row), with the unit number above each block and a title line.
public struct PatchSheet: Sendable {
    public var gap = 2
    public var blockGap = 10
    public var background: SIMD3<Float> = [0.1, 0.1, 0.1]

    public init() {}

    public struct Layout: Equatable {
        public var blockColumns: Int, blockRows: Int, perSide: Int
        public var side: Int, labelHeight: Int, titleHeight: Int
        public var blockWidth: Int, width: Int, height: Int
    }

    public func layout(units: Int, keep: Int, side: Int, columns: Int = 0) -> Layout {
        let perSide = max(1, Int(Double(keep).squareRoot().rounded(.up)))
        let cols = columns > 0 ? columns : max(1, Int(Double(units).squareRoot().rounded(.up)))
        let rows = max(1, (units + cols - 1) / cols)
        let block = perSide * side + (perSide - 1) * gap
        let label = max(11, min(18, side / 3)) + 4, title = 22
        return Layout(blockColumns: cols, blockRows: rows, perSide: perSide, side: side, labelHeight: label, titleHeight: title,
                      blockWidth: block, width: max(240, cols * block + (cols + 1) * blockGap),
                      height: title + rows * (block + label) + (rows + 1) * blockGap)
    }

    /// Top-left corner of patch `k` of unit `u`.
    public func origin(unit u: Int, patch k: Int, _ l: Layout) -> (x: Int, y: Int) {
        let bx = blockGap + (u % l.blockColumns) * (l.blockWidth + blockGap)
        let by = l.titleHeight + blockGap + (u / l.blockColumns) * (l.blockWidth + l.labelHeight + blockGap) + l.labelHeight
        return (bx + (k % l.perSide) * (l.side + gap), by + (k / l.perSide) * (l.side + gap))
    }

    public func render(_ top: TopPatches, title: String, text: TextRenderer?, columns: Int = 0) -> FloatImage {
        var l = layout(units: top.units, keep: top.keep, side: top.side, columns: columns)
        let titleMask = text?.render(title, pixelSize: 14)
        l.width = max(l.width, (titleMask?.width ?? 0) + 2 * blockGap)
        var out = FloatImage(width: l.width, height: l.height, channels: 3)
        out.fill(x: 0, y: 0, width: l.width, height: l.height, color: background)
        for u in 0..<top.units {
            for (k, patch) in top.best[u].enumerated() {
                let o = origin(unit: u, patch: k, l)
                out.place(patch.pixels, x: o.x, y: o.y)
            }
            if let text {
                let o = origin(unit: u, patch: 0, l)
                out.draw(text.render("unit \(u)", pixelSize: l.labelHeight - 4), x: o.x, y: o.y - l.labelHeight + 1, color: [0.85, 0.85, 0.85])
            }
        }
        if let titleMask { out.draw(titleMask, x: blockGap, y: 4, color: [1, 1, 1]) }
        return out
    }
}
