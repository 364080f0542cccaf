import FrameModel
import PluginKit

/// Reduces each colour channel to a few levels: flat areas of colour, like a screen print.
final class Posterize: Stage {
    enum Rounding: String, CaseIterable { case nearest, down }

    static let name = "posterize"
    static let summary = "Reduce each colour channel to a few levels (a poster look)"
    static let levels = Param<Int>("levels", default: 4, range: 2...256, "levels per channel")
    static let amount = Param<Float>("amount", default: 1, range: 0...1, "0 = the photo unchanged, 1 = fully posterized")
    static let rounding = Param<Rounding>("rounding", default: .nearest, "nearest level, or the level below (a darker print)")
    static let parameters = Parameter.list(levels, amount, rounding)
    static let acceptedFormats: [PixelFormat] = [.rgbF32, .rgbaF32]

    let steps: Float, amount: Float, rounding: Rounding

    init(_ p: ParameterValues, host: StageHost) throws {
        steps = Float(try p[Self.levels] - 1)
        amount = try p[Self.amount]
        rounding = try p[Self.rounding]
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        var image = FloatImage(frame.image)
        let rule: FloatingPointRoundingRule = rounding == .nearest ? .toNearestOrEven : .down
        let (steps, amount, channels) = (steps, amount, image.channels)
        image.samples.withUnsafeMutableBufferPointer { s in
            for i in s.indices where channels == 3 || i % 4 != 3 {     // alpha stays
                let level = (min(max(s[i], 0), 1) * steps).rounded(rule) / steps
                s[i] += amount * (level - s[i])
            }
        }
        try output.emit(image.image(frame.format), like: frame)
    }
}
