/// The layers of a model worth looking at: float feature maps [1, C, H, W] computed from the image by
/// a convolution, activation, pooling, normalisation, merge or resize, with their shapes (from one
/// run at the given input size) and receptive fields. Quantize/dequantize copies and shape plumbing
/// are left out.
public struct LayerCatalog: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var node: String
        public var opType: String
        public var shape: [Int]
        public var field: ReceptiveField?

        public var channels: Int { shape[1] }
        public var height: Int { shape[2] }
        public var width: Int { shape[3] }
    }

    public static let layerOps: Set<String> = [
        "Conv", "ConvTranspose", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
        "Elu", "Selu", "Softplus", "MaxPool", "AveragePool", "LpPool", "Add", "Sum", "Concat", "ZeroPaddedAdd",
        "BatchNormalization", "InstanceNormalization", "Resize", "Upsample",
    ]

    public let layers: [Layer]
    public let inputHeight: Int, inputWidth: Int

    /// Runs the model once at `height`×`width` with every candidate value as an output.
    public init(_ graph: ModelGraph, height: Int, width: Int, threads: Int = 1) throws {
        let analysis = try ReceptiveFieldAnalysis(graph, height: height, width: width)
        let dependent = graph.inputDependentValues
        let candidates = graph.producedValues.filter {
            Self.layerOps.contains($0.node.opType) && dependent.contains($0.value) && analysis[$0.value] != nil
        }
        let session = try Session(try graph.exposing(candidates.map(\.value)), threads: threads)
        session.acceptsAnyInputSize = true
        let outputs = try session.run(try Self.feeds(graph, analysis, height: height, width: width))
        layers = candidates.compactMap { c in
            guard let t = outputs[c.value], t.elementType == .float, t.shape.count == 4, t.shape[0] == 1,
                  t.shape[2] * t.shape[3] > 1 else { return nil }
            // The field only where the graph arithmetic agrees with the computed shape.
            let s = analysis[c.value]
            let field = s.flatMap { $0.height == t.shape[2] && $0.width == t.shape[3] ? $0.field : nil }
            return Layer(name: c.value, node: c.node.name, opType: c.node.opType, shape: t.shape, field: field)
        }
        inputHeight = height; inputWidth = width
    }

    /// A zero image of the size and the other inputs as neutral values (a one-hot style blend, zero vectors).
    public static func feeds(_ graph: ModelGraph, _ analysis: ReceptiveFieldAnalysis, height: Int, width: Int) throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        for info in graph.inputs {
            if info.name == analysis.imageInput {
                let shape = analysis.inputIsNHWC ? [1, height, width, 3] : [1, 3, height, width]
                feeds[info.name] = Tensor(shape: shape, floats: Array(repeating: 0.5, count: 3 * height * width))
                continue
            }
            guard let declared = info.shape else { throw ModelError("input '\(info.name)' has no declared shape") }
            let dims = declared.map { $0 ?? 1 }
            let n = dims.reduce(1, *)
            if info.elementType == .int64 { feeds[info.name] = Tensor(shape: dims, int64s: Array(repeating: 0, count: n)); continue }
            var values = [Float](repeating: 0, count: n)
            if dims.count == 1, n > 0 { values[0] = 1 }
            feeds[info.name] = Tensor(shape: dims, floats: values)
        }
        return feeds
    }

    /// The input size a model declares for its image (nil for symbolic dimensions).
    public static func fixedInputSize(_ graph: ModelGraph) -> (height: Int, width: Int)? {
        guard let image = graph.inputs.first(where: { ($0.shape?.count ?? 0) == 4 && ($0.shape?[1] == 3 || $0.shape?[3] == 3) }),
              let s = image.shape else { return nil }
        let nhwc = s[3] == 3 && s[1] != 3
        let (h, w) = nhwc ? (s[1], s[2]) : (s[2], s[3])
        guard let h, let w else { return nil }
        return (h, w)
    }
}
