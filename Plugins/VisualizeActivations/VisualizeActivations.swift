import ActivationKit
import Drawing
import FrameModel
import PluginKit

/// What a ConvNet's layer responds to in each frame: its feature maps as a labelled grid, or one
/// map as a heat map over the photo. (Over a whole stream: the top-patches stage.)
final class VisualizeActivations: Stage {
    enum Mode: String, CaseIterable { case maps, overlay }

    static let name = "visualize-activations"
    static let summary = "Show a CNN layer's activations per frame: feature-map grid or heat-map overlay"
    static let mode = Param<Mode>("mode", default: .maps, "maps: grid of feature maps; overlay: heat map over the frame")
    static let channels = Param<[Int]>("channels", list: "maps: channels to show, comma-separated (default: the first `limit`)")
    static let top = Param<Int>("top", default: 0, range: 0...4096, "maps: show the N most active channels (highest mean) instead")
    static let limit = Param<Int>("limit", default: 64, range: 1...4096, "maps: most channels shown when none are chosen")
    static let cell = Param<Int>("cell", default: 96, range: 16...1024, "maps: tile size in pixels")
    static let channel = Param<Int>("channel", default: -1, range: -1...100_000, "overlay: channel to show; -1 = mean over the layer's channels")
    static let opacity = Param<Float>("opacity", default: 0.55, range: 0...1, "overlay: heat-map opacity")
    static let parameters = Parameter.list(LayerProbe.model, LayerProbe.layer, mode, channels, top, limit, cell, channel, opacity,
                                           LayerProbe.size, LayerProbe.labels)
    static let acceptedFormats: [PixelFormat] = [.rgbF32]

    let probe: LayerProbe
    let mode: Mode
    let channels: [Int]
    let top: Int, limit: Int, channel: Int
    let grid: FeatureMapGrid
    let overlay: HeatmapOverlay
    let text: TextRenderer?

    init(_ p: ParameterValues, host: StageHost) throws {
        probe = try LayerProbe(p, host: host)
        mode = try p[Self.mode]
        channels = try p[Self.channels]
        if let negative = channels.first(where: { $0 < 0 }) { throw StageError("channels: \(negative) is not a channel") }
        top = try p[Self.top]; limit = try p[Self.limit]; channel = try p[Self.channel]
        grid = FeatureMapGrid(cell: try p[Self.cell])
        overlay = HeatmapOverlay(opacity: try p[Self.opacity])
        text = try p[LayerProbe.labels] ? try TextRenderer() : nil
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        let image = FloatImage(frame.image)
        let a = try probe.activations(of: image)
        switch mode {
        case .maps:
            let chosen = try FeatureMapGrid.channels(a, listed: channels, top: top, limit: limit)
            let title = "\(probe.modelName) \(probe.model.layer) [\(a.channels)x\(a.height)x\(a.width)]" + (a.field.map { " \($0)" } ?? "")
            try output.emit(grid.render(a, channels: chosen, title: title, text: text).image(.rgb8), like: frame)
        case .overlay:
            let map = try HeatmapOverlay.map(a, channel: channel)
            try output.emit(overlay.render(a, map: map, over: image).image(.rgb8), like: frame)
        }
    }
}
