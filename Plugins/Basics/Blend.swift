import FrameModel
import PluginKit

/// Merges two inputs: `top` over `base` with an opacity (top is resized to base's size).
final class Blend: Stage {
    static let name = "blend"
    static let summary = "Merge two inputs: top over base with opacity"
    static let inputs = ["base", "top"]
    enum Mode: String, CaseIterable { case normal, multiply, screen, difference }
    static let opacity = Param<Float>("opacity", default: 0.5, range: 0...1, "weight of the top input (0 = base only, 1 = top only)")
    static let mode = Param<Mode>("mode", default: .normal, "how the colours combine")
    static let parameters = Parameter.list(opacity, mode)

    let opacity: Float, mode: Mode, host: StageHost

    init(_ p: ParameterValues, host: StageHost) throws {
        opacity = try p[Self.opacity]
        mode = try p[Self.mode]
        self.host = host
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let base = inputs[0], top = inputs[1]
        let format = base.format
        let a = FloatImage(base.image)
        var b = FloatImage(top.image(as: format))
        if b.width != a.width || b.height != a.height {
            let extra = host.borrowThreads(host.threads - 1)
            defer { host.returnThreads(extra) }
            b = Resampler.resize(b, width: a.width, height: a.height, filter: .lanczos3, threads: 1 + extra)
        }
        var out = a
        let o = opacity
        a.samples.withUnsafeBufferPointer { x in
            b.samples.withUnsafeBufferPointer { y in
                out.samples.withUnsafeMutableBufferPointer { r in
                    switch mode {
                    case .multiply: for i in 0..<r.count { r[i] = x[i] + o * (x[i] * y[i] - x[i]) }
                    case .screen: for i in 0..<r.count { r[i] = x[i] + o * ((1 - (1 - x[i]) * (1 - y[i])) - x[i]) }
                    case .difference: for i in 0..<r.count { r[i] = x[i] + o * (abs(x[i] - y[i]) - x[i]) }
                    case .normal: for i in 0..<r.count { r[i] = x[i] + o * (y[i] - x[i]) }
                    }
                }
            }
        }
        try output.emit(out.image(format), like: base)
    }
}
