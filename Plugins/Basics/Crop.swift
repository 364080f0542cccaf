import FrameModel
import PluginKit

/// Cuts out a rectangle; face boxes move with it.
final class Crop: Stage {
    static let name = "crop"
    static let summary = "Cut out a rectangle (centred unless x/y are given)"
    static let width = Param<Int>("width", default: 0, range: 0...65535, "width of the rectangle (0 = to the right edge)")
    static let height = Param<Int>("height", default: 0, range: 0...65535, "height of the rectangle (0 = to the bottom edge)")
    static let x = Param<Int>("x", default: -1, range: -1...65535, "left edge (-1 = centred)")
    static let y = Param<Int>("y", default: -1, range: -1...65535, "top edge (-1 = centred)")
    static let parameters = Parameter.list(width, height, x, y)

    let width: Int, height: Int, x: Int, y: Int

    init(_ p: ParameterValues, host: StageHost) throws {
        width = try p[Self.width]; height = try p[Self.height]; x = try p[Self.x]; y = try p[Self.y]
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        let w = min(width == 0 ? frame.width : width, frame.width)
        let h = min(height == 0 ? frame.height : height, frame.height)
        let left = x < 0 ? (frame.width - w) / 2 : x, top = y < 0 ? (frame.height - h) / 2 : y
        guard left < frame.width, top < frame.height else {
            throw StageError("crop at (\(left), \(top)) lies outside the \(frame.width)x\(frame.height) image")
        }
        let cw = min(w, frame.width - left), ch = min(h, frame.height - top)
        let annotations = frame.annotations.mappingFaces { .init(x: $0.x - Double(left), y: $0.y - Double(top)) }
        try output.emit(frame.image.cropped(x: left, y: top, width: cw, height: ch), annotations: annotations, like: frame)
    }
}
