import CNNRuntime

/// Where the detector's score map reads its input, derived from the graph: score cell c depends on
/// input pixels stride·c + low … stride·c + high of each axis (the receptive field, padding
/// positions included). Only convolutions change geometry; every other op of the dlib graph is
/// pointwise, so the network can run over the pyramid in tiles and give the untiled score map.
struct ConvolutionalFootprint: Equatable {
    struct Layer: Equatable { let kernel: Int, stride: Int, pad: Int }
    /// Convolutions in graph order.
    let layers: [Layer]
    let stride: Int, low: Int, high: Int

    static let pointwise: Set<String> = ["Conv", "Relu", "Add", "Sub", "Mul", "Div", "BatchNormalization", "Identity", "LeakyRelu", "PRelu"]

    /// nil when the graph has an op that is not pointwise or a convolution that is not square,
    /// symmetric and undilated: then it is run untiled.
    init?(_ graph: ModelGraph) {
        var layers: [Layer] = []
        for node in graph.nodes {
            guard Self.pointwise.contains(node.opType) else { return nil }
            guard node.opType == "Conv" else { continue }
            guard case .ints(let k)? = node.attributes["kernel_shape"], case .ints(let s)? = node.attributes["strides"],
                  case .ints(let p)? = node.attributes["pads"], k.count == 2, k[0] == k[1], s.count == 2, s[0] == s[1],
                  p.allSatisfy({ $0 == p[0] }) else { return nil }
            if case .ints(let d)? = node.attributes["dilations"], d.contains(where: { $0 != 1 }) { return nil }
            layers.append(Layer(kernel: k[0], stride: s[0], pad: p[0]))
        }
        var stride = 1, low = 0, high = 0
        for l in layers.reversed() {    // output q of a layer reads its input q·s − pad … q·s − pad + k − 1
            low = low * l.stride - l.pad
            high = high * l.stride - l.pad + l.kernel - 1
            stride *= l.stride
        }
        (self.layers, self.stride, self.low, self.high) = (layers, stride, low, high)
    }

    var receptiveField: Int { high - low + 1 }

    /// Score-map length for an input length (0 when the input is smaller than the field).
    func outputLength(_ input: Int) -> Int {
        layers.reduce(input) { n, l in n + 2 * l.pad < l.kernel ? 0 : (n + 2 * l.pad - l.kernel) / l.stride + 1 }
    }

    /// Splits an axis of `input` pixels into spans of at most `cellsPerTile` score cells. Each input
    /// span starts on a multiple of the stride (so every layer's grid lines up with the untiled one)
    /// and holds the whole receptive field of its cells, except at the image's own edges, where the
    /// padding is the same as untiled.
    func spans(input: Int, cellsPerTile: Int) -> [ScoreMapSpan] {
        let cells = outputLength(input)
        return Swift.stride(from: 0, to: cells, by: cellsPerTile).map { c0 in
            let c1 = min(cells, c0 + cellsPerTile)
            let first = stride * c0 + low, last = stride * (c1 - 1) + high
            let start = c0 == 0 ? 0 : max(0, first >= 0 ? first / stride * stride : 0)
            let end = c1 == cells ? input : min(input, last + 1)
            return ScoreMapSpan(cells: c0..<c1, input: start..<end)
        }
    }
}

/// One tile along an axis: the score cells it owns and the input span that computes them.
struct ScoreMapSpan: Equatable { let cells: Range<Int>, input: Range<Int> }
