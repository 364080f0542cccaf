import Drawing
import Foundation
import FrameModel
import PluginKit

/// Draws the faces in a frame's metadata: boxes, landmarks and labels (name, distance or score).
final class Annotate: Stage {
    static let name = "annotate"
    static let summary = "Draw face boxes, landmarks and names from the frame metadata"
    static let parameters: [Parameter] = [
        .string("color", default: "#33dd55", "box colour: #rrggbb or a name (red, green, blue, yellow, ...)"),
        .string("unknown-color", default: "#ff4040", "box colour for faces named 'unknown'"),
        .int("thickness", default: 0, range: 0...64, "line width in pixels (0 = from the image size)"),
        .bool("labels", default: true, "write the name (or score) above each box"),
        .bool("landmarks", default: true, "mark the landmark points"),
        .int("font-size", default: 0, range: 0...512, "label size in pixels (0 = from the image size)"),
        .string("caption", default: "", "text to write in the top-left corner (empty = none)"),
        .string("font", default: TextRenderer.defaultFont, "TrueType font file for labels"),
    ]

    let overlay: FaceOverlay
    let caption: String

    init(_ p: ParameterValues, host: StageHost) throws {
        guard let c = parseColor(p.string("color")) else { throw StageError("color: not a colour: \(p.string("color"))") }
        guard let u = parseColor(p.string("unknown-color")) else {
            throw StageError("unknown-color: not a colour: \(p.string("unknown-color"))")
        }
        var overlay = FaceOverlay(text: try TextRenderer(fontPath: p.string("font")))
        overlay.color = c; overlay.unknownColor = u
        overlay.thickness = p.int("thickness"); overlay.labels = p.bool("labels"); overlay.landmarks = p.bool("landmarks")
        overlay.fontSize = p.int("font-size")
        self.overlay = overlay
        caption = p.string("caption")
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        let annotations = frame.annotations
        if annotations.faces.isEmpty && caption.isEmpty { return try output.pass(frame) }
        let format = frame.format
        var canvas = FloatImage(frame.image)
        overlay.draw(annotations.faces, on: &canvas)
        let size = overlay.labelSize(for: canvas)
        if !caption.isEmpty {
            let mask = overlay.text.render(caption, pixelSize: size)
            canvas.fill(x: 0, y: 0, width: mask.width + 2 * size / 2, height: mask.height + size / 2, color: [0, 0, 0], opacity: 0.6)
            canvas.draw(mask, x: size / 2, y: size / 4, color: [1, 1, 1])
        }
        try output.emit(canvas.image(format), like: frame)
    }
}
