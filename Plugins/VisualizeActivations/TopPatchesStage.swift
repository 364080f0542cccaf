import ActivationKit
import CNNRuntime
import Drawing
import Foundation
import FrameModel
import PluginKit

/// Over the whole stream, the input patches that excite each unit of a layer most; one sheet at
/// the end of the stream.
final class TopPatchesStage: Stage {
    static let name = "top-patches"
    static let summary = "The patches of a stream that excite each unit of a CNN layer most: one sheet at end of stream"
    static let units = Param<Int>("units", default: 9, range: 1...1024, "the first N units (channels) of the layer")
    static let patch = Param<Int>("patch", default: 64, range: 8...512, "side of each patch on the sheet")
    static let perFrame = Param<Int>("per-frame", default: 1, range: 1...64, "places one frame may give each unit (half a field apart)")
    static let parameters = Parameter.list(LayerProbe.model, LayerProbe.layer, units, patch, perFrame, LayerProbe.size, LayerProbe.labels)
    static let options: StageOptions = [.aggregator]
    static let acceptedFormats: [PixelFormat] = [.rgbF32]

    let probe: LayerProbe
    let units: Int
    let text: TextRenderer?
    let host: StageHost
    private var patches: TopPatches
    private var field: ReceptiveField?

    init(_ p: ParameterValues, host: StageHost) throws {
        self.host = host
        probe = try LayerProbe(p, host: host)
        units = try p[Self.units]
        text = try p[LayerProbe.labels] ? try TextRenderer() : nil
        patches = TopPatches(units: units, side: try p[Self.patch], perFrame: try p[Self.perFrame])
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        let image = FloatImage(frame.image)
        let a = try probe.activations(of: image)
        field = a.field
        let source = frame.annotations.source.map { ($0 as NSString).lastPathComponent } ?? "frame \(patches.framesSeen + 1)"
        do { try patches.add(a, frame: image, source: source) } catch let e as ActivationError {
            throw StageError("\(probe.model.layer): \(e.description)")
        }
    }

    func finish(_ output: Output) throws {
        guard patches.framesSeen > 0 else { return }
        let shown = patches.best.filter { !$0.isEmpty }.count
        if units > shown { host.log("the layer has fewer than \(units) units; the sheet shows \(shown)") }
        let size = field.map { " (field \(Int($0.x.size)) px of the model input)" } ?? ""
        let title = "\(probe.modelName) \(probe.model.layer): top \(patches.keep) per unit over \(patches.framesSeen) frames\(size)"
        var annotations = Annotations()
        annotations.caption = title
        try output.emit(PatchSheet().render(patches, title: title, text: text).image(.rgb8), annotations: annotations)
        patches = TopPatches(units: units, side: patches.side, perFrame: patches.perFrame)
    }
}
