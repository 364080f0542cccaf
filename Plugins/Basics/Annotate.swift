import Drawing
import Foundation
import FrameModel
import PluginKit

/// Draws the faces in a frame's metadata: boxes, landmarks and labels (name, distance or score).
final class Annotate: Stage {
    static let name = "annotate"
    static let summary = "Draw face boxes, landmarks and names from the frame metadata"
    static let color = Param<SIMD3<Float>>("color", colour: "#33dd55", "box colour: #rrggbb or a name (red, green, blue, yellow, ...)")
    static let unknownColor = Param<SIMD3<Float>>("unknown-color", colour: "#ff4040", "box colour for faces named 'unknown'")
    static let thickness = Param<Int>("thickness", default: 0, range: 0...64, "line width in pixels (0 = from the image size)")
    static let labels = Param<Bool>("labels", default: true, "write the name (or score) above each box")
    static let landmarks = Param<Bool>("landmarks", default: true, "mark the landmark points")
    static let fontSize = Param<Int>("font-size", default: 0, range: 0...512, "label size in pixels (0 = from the image size)")
    static let caption = Param<String>("caption", default: "", "text to write in the top-left corner (empty = none)")
    static let font = Param<String>("font", default: TextRenderer.defaultFont, "TrueType font file for labels").filePath()
    static let parameters = Parameter.list(color, unknownColor, thickness, labels, landmarks, fontSize, caption, font)

    let overlay: FaceOverlay
    let caption: String

    init(_ p: ParameterValues, host: StageHost) throws {
        var overlay = FaceOverlay(text: try TextRenderer(fontPath: try p[Self.font]))
        overlay.color = try p[Self.color]; overlay.unknownColor = try p[Self.unknownColor]
        overlay.thickness = try p[Self.thickness]; overlay.labels = try p[Self.labels]; overlay.landmarks = try p[Self.landmarks]
        overlay.fontSize = try p[Self.fontSize]
        self.overlay = overlay
        caption = try p[Self.caption]
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
