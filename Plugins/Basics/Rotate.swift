import FrameModel
import PluginKit

/// Quarter turns and mirror flips (lossless); face boxes turn along.
final class Rotate: Stage {
    static let name = "rotate"
    static let summary = "Rotate by quarter turns clockwise and/or flip"
    static let angle = Param<Int>("angle", choices: [0, 90, 180, 270], default: 90, "clockwise rotation in degrees")
    static let flip = Param<Orientation.Mirror>("flip", default: .none, "mirror after rotating")
    static let parameters = Parameter.list(angle, flip)

    /// The turn and the mirror as one transform of the pixels and the face points.
    let orientation: Orientation

    init(_ p: ParameterValues, host: StageHost) throws {
        orientation = Orientation(clockwise: try p[Self.angle], then: try p[Self.flip])
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        if orientation == .upright { return try output.pass(frame) }
        let image = frame.image.applyingOrientation(orientation.value)
        let (w, h) = (Double(frame.width), Double(frame.height)), (outW, outH) = (Double(image.width), Double(image.height))
        let annotations = frame.annotations.mappingFaces { p in
            let (u, v) = orientation.upright(p.x / w, p.y / h)
            return .init(x: u * outW, y: v * outH)
        }
        try output.emit(image, annotations: annotations, like: frame)
    }
}
