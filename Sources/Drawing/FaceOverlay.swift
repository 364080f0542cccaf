import FrameModel

/// Draws a frame's faces: boxes, landmark dots and labels (name and distance, or the detector's
/// score). Shared by the annotate stage and the face detector's `draw` option.
public struct FaceOverlay {
    public var color: SIMD3<Float> = [0.2, 0.867, 0.333]
    /// For faces named "unknown".
    public var unknownColor: SIMD3<Float> = [1, 0.25, 0.25]
    /// Line width; 0 = from the image size.
    public var thickness = 0
    public var labels = true
    public var landmarks = true
    /// Label size in pixels; 0 = from the image size.
    public var fontSize = 0
    public let text: TextRenderer

    public init(text: TextRenderer) { self.text = text }

    public func lineWidth(for canvas: FloatImage) -> Int { thickness > 0 ? thickness : max(1, min(canvas.width, canvas.height) / 300) }
    public func labelSize(for canvas: FloatImage) -> Int { fontSize > 0 ? fontSize : max(12, min(canvas.width, canvas.height) / 40) }

    public func draw(_ faces: [Face], on canvas: inout FloatImage) {
        let t = lineWidth(for: canvas), size = labelSize(for: canvas)
        for face in faces {
            let b = face.box
            let boxColor = face.name == "unknown" ? unknownColor : color
            canvas.strokeRect(x: Int(b.x.rounded()), y: Int(b.y.rounded()), width: Int(b.width.rounded()),
                              height: Int(b.height.rounded()), thickness: t, color: boxColor)
            if landmarks {
                for p in face.landmarks {
                    canvas.fill(x: Int(p.x) - t, y: Int(p.y) - t, width: 2 * t + 1, height: 2 * t + 1, color: boxColor)
                }
            }
            if labels, let label = Self.label(for: face) {
                let mask = text.render(label, pixelSize: size)
                let y = Int(b.y.rounded()) - mask.height - t
                let top = y >= 0 ? y : Int((b.y + b.height).rounded()) + t
                canvas.fill(x: Int(b.x.rounded()), y: top, width: mask.width + 2 * t, height: mask.height, color: boxColor, opacity: 0.75)
                canvas.draw(mask, x: Int(b.x.rounded()) + t, y: top, color: [0, 0, 0])
            }
        }
    }

    /// "name 0.41" when identified, "face 1.05" (the score) when only detected.
    public static func label(for face: Face) -> String? {
        if let name = face.name {
            return face.distance.map { "\(name) \(String(format: "%.2f", $0))" } ?? name
        }
        return face.confidence.map { String(format: "face %.2f", $0) }
    }
}
