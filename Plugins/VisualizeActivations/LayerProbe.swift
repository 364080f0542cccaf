import ActivationKit
import CNNRuntime
import Foundation
import FrameModel
import PluginKit

/// One layer of one model, run on frames: what both activation stages start from.
struct LayerProbe {
    static let model = Param<String>("model", default: "arbitrary_predict", "model name in the models folder, or an .onnx / dlib .dat path").filePath()
    static let layer = Param<String?>(required: "layer", "value or node name (list them: cnnpipe model layers MODEL)")
    static let size = Param<Int>("size", default: 384, range: 0...8192,
                                 "longer side frames are scaled to for models without a fixed input size (0 = as they are)")
    static let labels = Param<Bool>("labels", default: true, "write channel / unit numbers and a title")

    let model: ActivationModel
    let modelName: String
    let workingSize: Int

    init(_ p: ParameterValues, host: StageHost) throws {
        modelName = try p[Self.model]
        workingSize = try p[Self.size]
        do {
            model = try ActivationModel(model: modelName, layer: try p[Self.layer] ?? "", models: host.models, threads: host.threads)
        } catch let e as ModelError { throw StageError(Self.naming(modelName, e)) }
    }

    func activations(of image: FloatImage) throws -> Activations {
        do { return try model.activations(of: image, workingSize: workingSize) } catch let e as ModelError {
            throw StageError(Self.naming(modelName, e))
        }
    }

    /// A model error with the model named once (importer errors already start with the path).
    static func naming(_ model: String, _ e: ModelError) -> String {
        e.description.contains(model) ? e.description : "\(model): \(e.description)"
    }
}

extension StageHost {
    /// The host's model folder as a model lookup (a name is found there; a path is taken as it is).
    var models: ModelLocator {
        ModelLocator(directories: modelDirectory.map { [$0] } ?? [], fetchHint: StageHost.modelFetchHint)
    }
}
