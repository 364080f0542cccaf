import CNNRuntime
import Foundation
import FrameModel

/// A model opened to show one layer: the session computes just that value (the graph cut after it),
/// and frames are fitted to what the model takes (a fixed size: centre crop and resize; otherwise a
/// working size), remembering how model pixels map back to the frame's.
public final class ActivationModel {
    public let graph: ModelGraph
    public let layer: String
    /// dlib networks take RGB levels 0…255 (their graph normalises); ONNX models take 0…1.
    public let eightBitLevels: Bool
    public let fixedSize: (height: Int, width: Int)?
    private let session: Session
    private var analyses: [String: ReceptiveFieldAnalysis] = [:]
    private let lock = NSLock()

    public init(graph: ModelGraph, layer: String, eightBitLevels: Bool = false, threads: Int = 1) throws {
        self.graph = graph
        self.eightBitLevels = eightBitLevels
        self.layer = try Self.resolveLayer(layer, in: graph)
        fixedSize = LayerCatalog.fixedInputSize(graph)
        session = try Session(try graph.exposing([self.layer]), threads: threads)
        session.acceptsAnyInputSize = fixedSize == nil
    }

    /// Opens a model by name (in the folders of `models`) or path.
    public convenience init(model: String, layer: String, models: ModelLocator, threads: Int) throws {
        let path = try models.find(model)
        try self.init(graph: try models.load(path), layer: layer, eightBitLevels: ModelLocator.isDlibModel(path), threads: threads)
    }

    /// A value or node name; unknown names fail listing the closest layer names.
    static func resolveLayer(_ name: String, in graph: ModelGraph) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        let layers = graph.producedValues.filter { LayerCatalog.layerOps.contains($0.node.opType) }
        guard !trimmed.isEmpty else {
            let some = layers.prefix(6).map(\.value).joined(separator: ", ")
            throw ModelError("layer: name one of \(graph.name)'s layers (e.g. \(some)); list them with: cnnpipe model layers MODEL")
        }
        if let hit = try? graph.resolveValue(trimmed) { return hit }
        let similar = ModelGraph.similarNames(to: trimmed, in: layers.map(\.value) + layers.map(\.node.name))
        throw ModelError("layer '\(trimmed)' not found in \(graph.name)"
            + (similar.isEmpty ? "" : "; similar: " + similar.joined(separator: ", "))
            + "; list them with: cnnpipe model layers MODEL")
    }

    /// The layer's activations for an RGB image (samples 0…1). `workingSize` bounds the longer side
    /// fed to models without a fixed size (0: the image's own size).
    public func activations(of image: FloatImage, workingSize: Int) throws -> Activations {
        let view = InputView(frameWidth: image.width, frameHeight: image.height, fixed: fixedSize, workingSize: workingSize)
        let input = view.modelInput(from: image)
        let analysis = try fieldAnalysis(height: view.modelHeight, width: view.modelWidth)
        var feeds = try LayerCatalog.feeds(graph, analysis, height: view.modelHeight, width: view.modelWidth)
        feeds[analysis.imageInput] = tensor(input, nhwc: analysis.inputIsNHWC)
        guard let t = try session.run(feeds)[layer] else { throw ModelError("layer '\(layer)' was not computed") }
        guard t.elementType == .float, t.shape.count == 4, t.shape[0] == 1 else {
            throw ModelError("layer '\(layer)' is \(t.shape), not a feature map [1, C, H, W]")
        }
        let spatial = analysis[layer]
        let field = spatial.flatMap { $0.height == t.shape[2] && $0.width == t.shape[3] ? $0.field : nil }
        return Activations(channels: t.shape[1], height: t.shape[2], width: t.shape[3], values: t.floats, field: field, view: view)
    }

    private func fieldAnalysis(height: Int, width: Int) throws -> ReceptiveFieldAnalysis {
        try lock.withLock {
            let key = "\(height)x\(width)"
            if let a = analyses[key] { return a }
            let a = try ReceptiveFieldAnalysis(graph, height: height, width: width)
            analyses[key] = a
            return a
        }
    }

    private func tensor(_ image: FloatImage, nhwc: Bool) -> Tensor {
        let n = image.width * image.height, scale: Float = eightBitLevels ? 255 : 1
        if nhwc {
            let values = image.samples.map { eightBitLevels ? ($0 * scale).rounded() : $0 }
            return Tensor(shape: [1, image.height, image.width, 3], floats: values)
        }
        let planar = [Float](unsafeUninitializedCapacity: 3 * n) { dst, count in
            image.samples.withUnsafeBufferPointer { src in
                for c in 0..<3 { for i in 0..<n { dst[c * n + i] = src[i * 3 + c] * scale } }
            }
            count = 3 * n
        }
        return Tensor(shape: [1, 3, image.height, image.width],
                      floats: eightBitLevels ? planar.map { $0.rounded() } : planar)
    }
}

/// One layer's activations for one frame: C maps of H×W (channel-major), with the receptive field
/// of its units in model-input pixels and the view that maps those to the frame.
public struct Activations: Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var values: [Float]
    public var field: ReceptiveField?
    public var view: InputView

    public init(channels: Int, height: Int, width: Int, values: [Float], field: ReceptiveField?, view: InputView) {
        self.channels = channels; self.height = height; self.width = width
        self.values = values; self.field = field; self.view = view
    }

    /// The frame rectangle (x, y, width, height) unit (row, column) sees.
    public func frameRectangle(row: Int, column: Int) -> (x: Double, y: Double, width: Double, height: Double)? {
        guard let field else { return nil }
        let r = field.rectangle(row: row, column: column)
        return (view.offsetX + r.x * view.scaleX, view.offsetY + r.y * view.scaleY, r.width * view.scaleX, r.height * view.scaleY)
    }
}
