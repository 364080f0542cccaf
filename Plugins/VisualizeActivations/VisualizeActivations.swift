import ActivationKit
import CNNRuntime
import Drawing
import Foundation
import FrameModel
import PluginKit

/// What a ConvNet's layer responds to: its feature maps as a labelled grid, one map as a heat map
/// over the photo, or (over the whole stream) the 9 input patches that excite each unit most.
final class VisualizeActivations: Stage {
    static let name = "visualize-activations"
    static let summary = "Show a CNN layer's activations: feature-map grid, heat-map overlay, or top-9 patches per unit"
    enum Mode: String, CaseIterable { case maps, overlay, topPatches = "top-patches" }
    static let model = Param<String>("model", default: "arbitrary_predict", "model name in the models folder, or an .onnx / dlib .dat path")
    static let layer = Param<String?>(required: "layer", "value or node name (list them: cnnpipe model layers MODEL)")
    static let mode = Param<Mode>("mode", default: .maps,
                                  "maps: grid of feature maps per frame; overlay: heat map over the frame; top-patches: one sheet at end of stream")
    static let channels = Param<[Int]>("channels", list: "maps: channels to show, comma-separated (default: the first `limit`)")
    static let top = Param<Int>("top", default: 0, range: 0...4096, "maps: show the N most active channels (highest mean) instead")
    static let limit = Param<Int>("limit", default: 64, range: 1...4096, "maps: most channels shown when none are chosen")
    static let cell = Param<Int>("cell", default: 96, range: 16...1024, "maps: tile size in pixels")
    static let channel = Param<Int>("channel", default: -1, range: -1...100_000, "overlay: channel to show; -1 = mean over the layer's channels")
    static let opacity = Param<Float>("opacity", default: 0.55, range: 0...1, "overlay: heat-map opacity")
    static let units = Param<Int>("units", default: 9, range: 1...1024, "top-patches: the first N units (channels) of the layer")
    static let patch = Param<Int>("patch", default: 64, range: 8...512, "top-patches: side of each patch on the sheet")
    static let perFrame = Param<Int>("per-frame", default: 1, range: 1...64,
                                     "top-patches: places one frame may give each unit (half a field apart)")
    static let size = Param<Int>("size", default: 384, range: 0...8192,
                                 "longer side frames are scaled to for models without a fixed input size (0 = as they are)")
    static let labels = Param<Bool>("labels", default: true, "write channel / unit numbers and a title")
    static let parameters = Parameter.list(model, layer, mode, channels, top, limit, cell, channel, opacity, units, patch, perFrame,
                                           size, labels)
    static let options: StageOptions = [.aggregator]
    static let acceptedFormats: [PixelFormat] = [.rgbF32]

    let model: ActivationModel
    let modelName: String
    let mode: Mode
    let channels: [Int]
    let top: Int, limit: Int, channel: Int, workingSize: Int, units: Int
    let grid: FeatureMapGrid
    let overlay: HeatmapOverlay
    let text: TextRenderer?
    let host: StageHost
    private var patches: TopPatches
    private var field: ReceptiveField?

    init(_ p: ParameterValues, host: StageHost) throws {
        self.host = host
        modelName = try p[Self.model]
        do {
            model = try ActivationModel(model: modelName, layer: try p[Self.layer] ?? "", modelDirectory: host.modelDirectory,
                                        threads: host.threads)
        } catch let e as ModelError { throw StageError(Self.naming(modelName, e)) }
        mode = try p[Self.mode]
        channels = try p[Self.channels]
        if let negative = channels.first(where: { $0 < 0 }) { throw StageError("channels: \(negative) is not a channel") }
        top = try p[Self.top]; limit = try p[Self.limit]; channel = try p[Self.channel]; workingSize = try p[Self.size]
        units = try p[Self.units]
        grid = FeatureMapGrid(cell: try p[Self.cell])
        overlay = HeatmapOverlay(opacity: try p[Self.opacity])
        text = try p[Self.labels] ? try TextRenderer() : nil
        patches = TopPatches(units: units, side: try p[Self.patch], perFrame: try p[Self.perFrame])
    }

    /// A model error with the model named once (importer errors already start with the path).
    static func naming(_ model: String, _ e: ModelError) -> String {
        e.description.contains(model) ? e.description : "\(model): \(e.description)"
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        let image = FloatImage(frame.image)
        let a: Activations
        do { a = try model.activations(of: image, workingSize: workingSize) } catch let e as ModelError { throw StageError(Self.naming(modelName, e)) }
        switch mode {
        case .maps:
            let chosen = try FeatureMapGrid.channels(a, listed: channels, top: top, limit: limit)
            let title = "\(modelName) \(model.layer) [\(a.channels)x\(a.height)x\(a.width)]" + (a.field.map { " \($0)" } ?? "")
            try output.emit(grid.render(a, channels: chosen, title: title, text: text).image(.rgb8), like: frame)
        case .overlay:
            let map = try HeatmapOverlay.map(a, channel: channel)
            try output.emit(overlay.render(a, map: map, over: image).image(.rgb8), like: frame)
        case .topPatches:
            field = a.field
            let source = frame.annotations.source.map { ($0 as NSString).lastPathComponent } ?? "frame \(patches.framesSeen + 1)"
            do { try patches.add(a, frame: image, source: source) } catch let e as ActivationError {
                throw StageError("\(model.layer): \(e.description)")
            }
        }
    }

    func finish(_ output: Output) throws {
        guard mode == .topPatches, patches.framesSeen > 0 else { return }
        if units > patches.best.filter({ !$0.isEmpty }).count {
            host.log("the layer has fewer than \(units) units; the sheet shows \(patches.best.filter { !$0.isEmpty }.count)")
        }
        let size = field.map { " (field \(Int($0.x.size)) px of the model input)" } ?? ""
        let title = "\(modelName) \(model.layer): top \(patches.keep) per unit over \(patches.framesSeen) frames\(size)"
        var annotations = Annotations()
        annotations.caption = title
        try output.emit(PatchSheet().render(patches, title: title, text: text).image(.rgb8), annotations: annotations)
        patches = TopPatches(units: units, side: patches.side, perFrame: patches.perFrame)
    }
}
