import Drawing
import Foundation
import FrameModel
import PluginKit

/// Tiles images into one: a contact sheet of the whole stream (emitted at end of stream), or,
/// with `collect=inputs`, the frames of several inputs side by side for each image.
final class Grid: Stage {
    static let name = "grid"
    static let summary = "Tile a stream (contact sheet) or several inputs into one image, with captions"
    static let options: StageOptions = [.variadicInputs, .aggregator]
    enum Collect: String, CaseIterable { case stream, inputs }
    static let collect = Param<Collect>("collect", default: .stream,
                                        "stream: one sheet of all frames at end of stream; inputs: one image per frame from all inputs")
    static let columns = Param<Int>("columns", default: 0, range: 0...100, "columns (0 = about square)")
    static let cell = Param<Int>("cell", default: 256, range: 16...4096, "largest side of each tile in pixels")
    static let gap = Param<Int>("gap", default: 4, range: 0...256, "space between tiles")
    static let captions = Param<Bool>("captions", default: true, "write each frame's caption (or source file name) under its tile")
    static let limit = Param<Int>("limit", default: 400, range: 1...10000, "most tiles on one sheet (memory stays bounded)")
    static let background = Param<SIMD3<Float>>("background", colour: "#202020", "background colour")
    static let labels = Param<[String]>("labels", list: "collect=inputs: comma-separated captions for the inputs, in order")
    static let parameters = Parameter.list(collect, columns, cell, gap, captions, limit, background, labels)

    typealias Tile = ContactSheet.Tile

    let collectStream: Bool, columns: Int, cell: Int, gap: Int, captions: Bool, limit: Int
    let background: SIMD3<Float>
    let labels: [String]
    let text: TextRenderer?
    let host: StageHost
    private var tiles: [Tile] = []
    private var dropped = 0

    init(_ p: ParameterValues, host: StageHost) throws {
        collectStream = try p[Self.collect] == .stream
        columns = try p[Self.columns]; cell = try p[Self.cell]; gap = try p[Self.gap]
        captions = try p[Self.captions]; limit = try p[Self.limit]
        background = try p[Self.background]
        labels = try p[Self.labels]
        text = captions ? try TextRenderer() : nil
        self.host = host
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        var newTiles = inputs.map(tile)
        for i in newTiles.indices where i < labels.count { newTiles[i].caption = labels[i] }
        if collectStream {
            for t in newTiles {
                if tiles.count < limit { tiles.append(t) } else { dropped += 1 }
            }
        } else {
            try output.emit(try sheet(newTiles).image(.rgb8), like: inputs[0])
        }
    }

    func finish(_ output: Output) throws {
        guard collectStream, !tiles.isEmpty else { return }
        if dropped > 0 { host.log("sheet holds the first \(limit) frames; \(dropped) more left out (raise limit)") }
        var annotations = Annotations()
        annotations.caption = "contact sheet of \(tiles.count) frames"
        try output.emit(try sheet(tiles).image(.rgb8), annotations: annotations)
        tiles = []
    }

    private func tile(_ frame: Frame) -> Tile {
        let rgb = flattened(frame)
        let s = min(1, Double(cell) / Double(max(rgb.width, rgb.height)))
        let w = max(1, Int((Double(rgb.width) * s).rounded())), h = max(1, Int((Double(rgb.height) * s).rounded()))
        let small = Resampler.resize(rgb, width: w, height: h, filter: .lanczos3)
        let a = frame.annotations
        let caption = a.caption ?? a.source.map { ($0 as NSString).lastPathComponent } ?? ""
        return Tile(image: small, caption: caption)
    }

    /// RGB with any transparency composited over the background colour.
    private func flattened(_ frame: Frame) -> FloatImage {
        guard frame.format.hasAlpha else { return FloatImage(frame.image(as: .rgbF32)) }
        let rgba = FloatImage(frame.image(as: .rgbaF32))
        var out = FloatImage(width: rgba.width, height: rgba.height, channels: 3)
        let bg = [background.x, background.y, background.z]
        rgba.samples.withUnsafeBufferPointer { src in
            out.samples.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(rgba.width * rgba.height) {
                    let a = src[4 * i + 3]
                    for c in 0..<3 { dst[3 * i + c] = bg[c] + a * (src[4 * i + c] - bg[c]) }
                }
            }
        }
        return out
    }

    private func sheet(_ tiles: [Tile]) throws -> FloatImage {
        var layout = ContactSheet()
        layout.columns = columns
        layout.gap = gap
        layout.fontSize = max(10, cell / 16)
        layout.background = background
        let size = layout.size(of: tiles, captions: text != nil)
        try host.checkFrameSize(size.width, size.height)
        return layout.render(tiles, text: text)
    }
}
