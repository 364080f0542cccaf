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

    let color: SIMD3<Float>, unknownColor: SIMD3<Float>, thickness: Int, labels: Bool, landmarks: Bool
    let fontSize: Int, caption: String
    let text: TextRenderer

    init(_ p: ParameterValues, host: StageHost) throws {
        guard let c = parseColor(p.string("color")) else { throw StageError("color: not a colour: \(p.string("color"))") }
        guard let u = parseColor(p.string("unknown-color")) else {
            throw StageError("unknown-color: not a colour: \(p.string("unknown-color"))")
        }
        color = c; unknownColor = u
        thickness = p.int("thickness"); labels = p.bool("labels"); landmarks = p.bool("landmarks")
        fontSize = p.int("font-size"); caption = p.string("caption")
        text = try TextRenderer(fontPath: p.string("font"))
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        let annotations = frame.annotations
        if annotations.faces.isEmpty && caption.isEmpty { return try output.pass(frame) }
        let format = frame.format
        var canvas = FloatImage(frame.image)
        let side = min(canvas.width, canvas.height)
        let t = thickness > 0 ? thickness : max(1, side / 300)
        let size = fontSize > 0 ? fontSize : max(12, side / 40)
        for face in annotations.faces {
            let b = face.box
            let boxColor = face.name == "unknown" ? unknownColor : color
            canvas.strokeRect(x: Int(b.x.rounded()), y: Int(b.y.rounded()), width: Int(b.width.rounded()),
                              height: Int(b.height.rounded()), thickness: t, color: boxColor)
            if landmarks {
                for p in face.landmarks {
                    canvas.fill(x: Int(p.x) - t, y: Int(p.y) - t, width: 2 * t + 1, height: 2 * t + 1, color: boxColor)
                }
            }
            if labels, let label = label(for: face) {
                let mask = text.render(label, pixelSize: size)
                let y = Int(b.y.rounded()) - mask.height - t
                let top = y >= 0 ? y : Int((b.y + b.height).rounded()) + t
                canvas.fill(x: Int(b.x.rounded()), y: top, width: mask.width + 2 * t, height: mask.height, color: boxColor, opacity: 0.75)
                canvas.draw(mask, x: Int(b.x.rounded()) + t, y: top, color: [0, 0, 0])
            }
        }
        if !caption.isEmpty {
            let mask = text.render(caption, pixelSize: size)
            canvas.fill(x: 0, y: 0, width: mask.width + 2 * size / 2, height: mask.height + size / 2, color: [0, 0, 0], opacity: 0.6)
            canvas.draw(mask, x: size / 2, y: size / 4, color: [1, 1, 1])
        }
        try output.emit(canvas.image(format), like: frame)
    }

    private func label(for face: Face) -> String? {
        if let name = face.name {
            return face.distance.map { "\(name) \(String(format: "%.2f", $0))" } ?? name
        }
        return face.confidence.map { String(format: "face %.2f", $0) }
    }
}
