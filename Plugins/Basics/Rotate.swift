import FrameModel
import PluginKit

/// Quarter turns and mirror flips (lossless); face boxes turn along.
final class Rotate: Stage {
    static let name = "rotate"
    static let summary = "Rotate by quarter turns clockwise and/or flip"
    enum Flip: String, CaseIterable { case none, horizontal, vertical }
    static let angle = Param<Int>("angle", choices: [0, 90, 180, 270], default: 90, "clockwise rotation in degrees")
    static let flip = Param<Flip>("flip", default: .none, "mirror after rotating")
    static let parameters = Parameter.list(angle, flip)

    let angle: Int, flip: Flip

    init(_ p: ParameterValues, host: StageHost) throws {
        angle = try p[Self.angle]
        flip = try p[Self.flip]
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        if angle == 0 && flip == .none { return try output.pass(frame) }
        var image = frame.image
        let w = Double(frame.width), h = Double(frame.height)
        switch angle {
        case 90: image = image.rotatedClockwise()
        case 180: image = image.rotated180()
        case 270: image = image.rotatedCounterClockwise()
        default: break
        }
        if flip == .horizontal { image = image.flippedHorizontally() }
        if flip == .vertical { image = image.flippedVertically() }
        let outW = Double(image.width), outH = Double(image.height)
        let annotations = frame.annotations.mappingFaces { p in
            var q: Face.Point
            switch angle {
            case 90: q = .init(x: h - p.y, y: p.x)
            case 180: q = .init(x: w - p.x, y: h - p.y)
            case 270: q = .init(x: p.y, y: w - p.x)
            default: q = p
            }
            if flip == .horizontal { q.x = outW - q.x }
            if flip == .vertical { q.y = outH - q.y }
            return q
        }
        try output.emit(image, annotations: annotations, like: frame)
    }
}
