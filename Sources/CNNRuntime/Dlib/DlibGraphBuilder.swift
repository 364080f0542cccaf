/// Turns a parsed dlib network file into the runtime's ModelGraph, checking every layer record
/// against the architecture first. Standard ONNX ops throughout, except dlib's add_prev (a sum that
/// zero-pads the smaller operand), which is the custom op `com.cnnpipe.ZeroPaddedAdd`.
///
/// The input normalisation, (pixel − mean[channel]) / 256, is part of the graph (Sub, Mul), so the
/// graph input `image` is planar RGB [1, 3, H, W] with values 0…255.
struct DlibGraphBuilder {
    static let customDomain = OpRegistry.customDomain
    static let inputName = "image"

    let architecture: DlibArchitecture
    /// Fold each affine (batch norm) layer that directly follows a convolution into that
    /// convolution's weights and bias (see DlibImporter.Options).
    let foldAffine: Bool

    private var nodes: [Node] = []
    private var initializers: [String: Tensor] = [:]
    /// The value the layers so far produce, and its channel count (for checking the next layer).
    private var current = "", channels = 3
    /// The layer just emitted was this convolution (so an affine may fold into it).
    private var foldableConvolution: (name: String, record: DlibConvolution)?
    /// Spatial size 1×1 is known (after global pooling), so a fully connected layer's input size can be checked.
    private var spatialIsOne = false
    private var tags: [Int: (value: String, channels: Int)] = [:]
    /// The input layer's per-channel mean (the normalisation an unpadded first convolution folds in).
    private var inputMean: [Float] = []

    init(architecture: DlibArchitecture, foldAffine: Bool) {
        self.architecture = architecture
        self.foldAffine = foldAffine
    }

    mutating func build(_ file: DlibNetworkFile, name: String) throws -> ModelGraph {
        let arch = architecture
        guard file.layers.count == arch.layers.count else {
            throw ModelError("the file has \(file.layers.count) layers under the loss, the \(arch.name) has \(arch.layers.count)")
        }
        let inputShape: [Int?]
        switch (arch.input, file.input) {
        case (.sizedImage(let rows, let columns), .sizedImage(_, let fileRows, let fileColumns))
            where rows == fileRows && columns == fileColumns: inputShape = [1, 3, rows, columns]
        case (.imagePyramid, .imagePyramid): inputShape = [1, 3, nil, nil]
        default: throw ModelError("input layer \(file.input) does not fit the \(arch.name) (expects \(arch.input))")
        }
        emitNormalisation(mean: file.input.mean)
        let count = arch.layers.count
        // The file lists layers top-down; the architecture, forward. dlib numbers layers from the top.
        for (i, (expected, stored)) in zip(arch.layers, file.layers.reversed()).enumerated() {
            let index = count - i
            do { try emit(expected, stored) } catch let e as ModelError {
                throw ModelError("layer \(index) (\(expected.name)): \(e.description)")
            }
        }
        guard let last = nodes.indices.last else { throw ModelError("the \(arch.name) has no layers") }
        let output = arch.outputName
        for j in nodes[last].outputs.indices where nodes[last].outputs[j] == current { nodes[last].outputs[j] = output }
        let outputInfo = spatialIsOne
            ? ValueInfo(name: output, elementType: .float, shape: [1, channels])
            : ValueInfo(name: output, elementType: .float, shape: [1, channels, nil, nil], symbolicNames: [nil, nil, "rows", "columns"])
        return ModelGraph(name: name, nodes: nodes,
                          inputs: [ValueInfo(name: Self.inputName, elementType: .float, shape: inputShape,
                                             symbolicNames: [nil, nil, "height", "width"])],
                          outputs: [outputInfo],
                          initializers: initializers, opsetVersion: 17)
    }

    // MARK: layers

    private mutating func emit(_ expected: DlibArchitecture.Layer, _ stored: DlibNetworkFile.Layer) throws {
        let name = expected.name
        let foldInto = foldableConvolution
        foldableConvolution = nil
        switch (expected.spec, stored) {
        case (.tag(let id), .tagOrSkip):
            tags[id] = (current, channels)
        case (.skip(let id), .tagOrSkip):
            guard let marked = tags[id] else { throw ModelError("skip\(id) has no tag\(id) below it") }
            (current, channels) = marked
            spatialIsOne = false
        case (let spec, .computational(let record)):
            guard spec.matches(record) else {
                throw ModelError("the file has \(record.summary), the \(architecture.name) expects \(spec.summary) here")
            }
            try emit(name, spec, record, foldInto: foldInto)
        case (let spec, .tagOrSkip):
            throw ModelError("the file has a tag or skip, the \(architecture.name) expects \(spec.summary) here")
        }
    }

    private mutating func emit(_ name: String, _ spec: DlibLayerSpec, _ record: DlibLayerRecord, foldInto: (name: String, record: DlibConvolution)?) throws {
        switch record {
        case .convolution(let c):
            guard c.inputChannels == channels else {
                throw ModelError("con takes \(c.inputChannels) channels, the layer below gives \(channels)")
            }
            let conv = foldAffine && current == "input.scale" && c.padding.allSatisfy({ $0 == 0 }) ? normalisationFolded(c) : c
            emitConvolution(name, conv, weights: conv.weights, biases: conv.biases)
            foldableConvolution = (name, conv)
        case .affine(let a):
            guard a.gamma.count == channels else {
                throw ModelError("affine has \(a.gamma.count) channels, the layer below gives \(channels)")
            }
            if foldAffine, let (convName, c) = foldInto {
                removeNode(named: convName)
                let (weights, biases) = folded(c, a)
                emitConvolution(convName + "+" + lastComponent(name), c, weights: weights, biases: biases)
            } else {
                let shape = [1, channels, 1, 1]
                let scaled = node("Mul", name + ".scale", [current, constant(name + ".gamma", Tensor(shape: shape, floats: a.gamma))])
                current = node("Add", name, [scaled, constant(name + ".beta", Tensor(shape: shape, floats: a.beta))])
            }
        case .relu:
            current = node("Relu", name, [current])
        case .maxPool(let p), .averagePool(let p):
            let isMax: Bool
            if case .maxPool = record { isMax = true } else { isMax = false }
            if p.isGlobal {
                current = node(isMax ? "GlobalMaxPool" : "GlobalAveragePool", name, [current])
                spatialIsOne = true
            } else {
                current = node(isMax ? "MaxPool" : "AveragePool", name, [current], [
                    "kernel_shape": .ints(p.window), "strides": .ints(p.stride), "pads": .ints(p.padding + p.padding)])
            }
        case .addPrevious:
            guard case .addPrevious(let id) = spec, let marked = tags[id] else {
                throw ModelError("add_prev has no matching tag below it")
            }
            current = node("ZeroPaddedAdd", name, [current, marked.value], domain: Self.customDomain)
            channels = max(channels, marked.channels)
        case .fullyConnected(let f):
            guard !spatialIsOne || f.inputs == channels else {
                throw ModelError("fc takes \(f.inputs) inputs, the layer below gives \(channels)")
            }
            let flat = node("Flatten", name + ".flatten", [current], ["axis": .int(1)])
            var inputs = [flat, constant(name + ".weight", Tensor(shape: [f.inputs, f.outputs], floats: f.weights))]
            if let b = f.biases { inputs.append(constant(name + ".bias", Tensor(shape: [f.outputs], floats: b))) }
            current = node("Gemm", name, inputs)
            channels = f.outputs
            spatialIsOne = true
        }
    }

    /// Input normalisation as dlib's input layers do it: (pixel − mean) / 256 per RGB plane.
    private mutating func emitNormalisation(mean: [Float]) {
        inputMean = mean
        current = Self.inputName
        let centred = node("Sub", "input.center", [current, constant("input.mean", Tensor(shape: [1, 3, 1, 1], floats: mean))])
        current = node("Mul", "input.scale", [centred, constant("input.inverse_256", Tensor.scalar(1 / 256))])
        channels = 3
    }

    private mutating func emitConvolution(_ name: String, _ c: DlibConvolution, weights: [Float], biases: [Float]?) {
        var inputs = [current, constant(name + ".weight", Tensor(shape: [c.filters, c.inputChannels] + c.kernel, floats: weights))]
        if let biases { inputs.append(constant(name + ".bias", Tensor(shape: [c.filters], floats: biases))) }
        current = node("Conv", name, inputs, ["kernel_shape": .ints(c.kernel), "strides": .ints(c.stride),
                                              "pads": .ints(c.padding + c.padding)])
        channels = c.filters
        spatialIsOne = false
    }

    /// An unpadded first convolution takes the input normalisation: W∗((x − mean)/256) + b =
    /// (W/256)∗x + (b − Σ W·mean/256), so the two whole-image passes before it go (with zero padding
    /// the border would differ, so padded ones keep them). Removes the normalisation nodes.
    private mutating func normalisationFolded(_ c: DlibConvolution) -> DlibConvolution {
        removeNode(named: "input.scale")
        removeNode(named: "input.center")
        let perChannel = c.kernel.reduce(1, *), perFilter = c.inputChannels * perChannel
        var weights = c.weights, biases = c.biases ?? [Float](repeating: 0, count: c.filters)
        for o in 0..<c.filters {
            var shift: Float = 0
            for ch in 0..<c.inputChannels {
                for j in 0..<perChannel {
                    let k = o * perFilter + ch * perChannel + j
                    weights[k] /= 256
                    shift += weights[k] * inputMean[ch]
                }
            }
            biases[o] -= shift
        }
        return DlibConvolution(filters: c.filters, inputChannels: c.inputChannels, kernel: c.kernel, stride: c.stride,
                               padding: c.padding, weights: weights, biases: biases)
    }

    /// gamma·(W∗x + b) + beta = (gamma·W)∗x + (gamma·b + beta), per output channel.
    private func folded(_ c: DlibConvolution, _ a: DlibAffine) -> (weights: [Float], biases: [Float]) {
        let perFilter = c.weights.count / c.filters
        var weights = c.weights
        var biases = [Float](repeating: 0, count: c.filters)
        for o in 0..<c.filters {
            let g = a.gamma[o]
            for j in (o * perFilter)..<((o + 1) * perFilter) { weights[j] *= g }
            biases[o] = g * (c.biases?[o] ?? 0) + a.beta[o]
        }
        return (weights, biases)
    }

    // MARK: graph plumbing

    /// Adds a node whose single output value is named after it; returns that value's name.
    private mutating func node(_ op: String, _ name: String, _ inputs: [String], _ attributes: [String: Attribute] = [:],
                               domain: String = "") -> String {
        nodes.append(Node(name: name, opType: op, domain: domain, inputs: inputs, outputs: [name], attributes: attributes))
        return name
    }

    private mutating func constant(_ name: String, _ t: Tensor) -> String {
        initializers[name] = t
        return name
    }

    /// Drops a node and the constants only it used; its input becomes the current value again.
    private mutating func removeNode(named name: String) {
        guard let i = nodes.lastIndex(where: { $0.name == name }) else { return }
        let removed = nodes.remove(at: i)
        current = removed.inputs[0]
        for input in removed.inputs.dropFirst() { initializers[input] = nil }
    }

    private func lastComponent(_ name: String) -> String {
        name.split(separator: ".").last.map(String.init) ?? name
    }
}
