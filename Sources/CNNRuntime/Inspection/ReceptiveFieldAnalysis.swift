/// Receptive fields and spatial sizes of every image-derived value of a graph, for one input size,
/// read from the graph: the kernels, strides, pads (explicit, auto_pad, Pad nodes) and dilations of
/// every convolution and pooling, resize scales, transposes; where paths merge (Add, Concat, a
/// residual ZeroPaddedAdd) the field is the union. Per-channel statistics broadcast back over a map
/// (instance norm's mean and variance, a squeeze-excitation gate) are not counted: the field is what
/// a unit sees locally, as usual for visualisations; global pooling and reductions over H and W do
/// see the whole input.
public struct ReceptiveFieldAnalysis: Sendable {
    public struct Spatial: Sendable {
        public var field: ReceptiveField
        public var height: Int
        public var width: Int
        /// Which tensor axes are rows and columns (NHWC input before its Transpose: 1, 2).
        var rowAxis: Int, columnAxis: Int
    }

    /// The image input's name and whether it is NHWC.
    public let imageInput: String
    public let inputIsNHWC: Bool
    public private(set) var values: [String: Spatial] = [:]

    public subscript(_ value: String) -> Spatial? { values[value] }

    /// The first rank-4 input with 3 channels (NCHW or NHWC) is the image, of `height`×`width` pixels.
    public init(_ graph: ModelGraph, height: Int, width: Int) throws {
        guard let image = graph.inputs.first(where: { ($0.shape?.count ?? 0) == 4 && ($0.shape?[1] == 3 || $0.shape?[3] == 3) })
        else { throw ModelError("\(graph.name) has no image input (rank 4 with 3 channels)") }
        imageInput = image.name
        inputIsNHWC = image.shape?[3] == 3 && image.shape?[1] != 3
        values[image.name] = Spatial(field: .pixel, height: height, width: width,
                                     rowAxis: inputIsNHWC ? 1 : 2, columnAxis: inputIsNHWC ? 2 : 3)
        let constants = try graph.constantValues(Self.constantInputs(graph))
        for node in graph.nodes {
            let spatialInputs = node.inputs.compactMap { values[$0] }
            guard let first = spatialInputs.first else { continue }
            if let out = try Self.propagate(node, first, spatialInputs, constants: constants, graph: graph) {
                for o in node.outputs where !o.isEmpty { values[o] = out }
            }
        }
    }

    /// The inputs whose values the analysis needs: Pad's pads, Resize's scales and sizes, reduction axes.
    static func constantInputs(_ graph: ModelGraph) -> [String] {
        graph.nodes.flatMap { n -> [String] in
            switch n.opType {
            case "Pad", "Upsample", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin":
                return Array(n.inputs.dropFirst())
            case "Conv", "ConvTranspose": return n.attributes["kernel_shape"] == nil ? Array(n.inputs.dropFirst().prefix(1)) : []
            case "Resize": return Array(n.inputs.dropFirst(2))
            default: return []
            }
        }
    }

    private static func propagate(_ node: Node, _ x: Spatial, _ all: [Spatial], constants: [String: Tensor],
                                  graph: ModelGraph) throws -> Spatial? {
        func constant(_ i: Int) -> Tensor? {
            guard i < node.inputs.count, !node.inputs[i].isEmpty else { return nil }
            return graph.initializers[node.inputs[i]] ?? constants[node.inputs[i]]
        }
        switch node.opType {
        case "Conv", "MaxPool", "AveragePool", "LpPool", "ConvTranspose":
            guard x.rowAxis == 2, x.columnAxis == 3 else { return nil }
            let a = AttributeReader(node)
            let attributes = try SpatialAttributes(a)
            guard let kernel = try a.ints("kernel_shape") ?? constant(1).map({ Array($0.shape.dropFirst(2)) }), kernel.count == 2 else {
                return nil
            }
            if node.opType == "ConvTranspose" { return try transposed(node, x, kernel, attributes) }
            let g = try attributes.resolve(input: [x.height, x.width], kernel: kernel, ceilMode: try a.int("ceil_mode", 0) != 0,
                                           op: node.name)
            var out = x
            out.field.y = x.field.y.window(kernel: kernel[0], stride: g.strides[0], dilation: g.dilations[0], padBegin: g.padBegin[0])
            out.field.x = x.field.x.window(kernel: kernel[1], stride: g.strides[1], dilation: g.dilations[1], padBegin: g.padBegin[1])
            (out.height, out.width) = (g.output[0], g.output[1])
            return out
        case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
            return whole(x)
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin":
            let a = AttributeReader(node)
            let axes = try a.ints("axes") ?? constant(1)?.ints ?? []
            let rank = 4
            let normalised = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
            if axes.isEmpty || normalised.contains(x.rowAxis) || normalised.contains(x.columnAxis) { return whole(x) }
            return x
        case "Flatten", "Gemm", "MatMul", "Squeeze", "Shape", "Size":
            return nil
        case "Transpose":
            guard let perm = try AttributeReader(node).ints("perm"), perm.count == 4,
                  let r = perm.firstIndex(of: x.rowAxis), let c = perm.firstIndex(of: x.columnAxis) else { return nil }
            var out = x
            (out.rowAxis, out.columnAxis) = (r, c)
            return out
        case "Pad":
            let pads = try AttributeReader(node).ints("pads") ?? constant(1)?.ints
            guard let pads, pads.count == 8 else { return x }
            var out = x
            out.field.y.start -= Double(pads[x.rowAxis]) * x.field.y.jump
            out.field.x.start -= Double(pads[x.columnAxis]) * x.field.x.jump
            out.height += pads[x.rowAxis] + pads[x.rowAxis + 4]
            out.width += pads[x.columnAxis] + pads[x.columnAxis + 4]
            return out
        case "Resize", "Upsample":
            return try resized(node, x, scales: node.opType == "Upsample" || node.inputs.count == 2 ? constant(1) : constant(2),
                               sizes: node.opType == "Resize" ? constant(3) : nil)
        default:
            // Elementwise and merging ops: the union of the inputs' fields, ignoring broadcast statistics.
            let maps = all.filter { $0.height * $0.width > 1 }
            guard var out = maps.first else { return x }
            for m in maps.dropFirst() {
                out.field = ReceptiveField(y: out.field.y.union(m.field.y), x: out.field.x.union(m.field.x))
                out.height = max(out.height, m.height); out.width = max(out.width, m.width)
            }
            return out
        }
    }

    private static func whole(_ x: Spatial) -> Spatial {
        Spatial(field: ReceptiveField(y: x.field.y.whole(x.height), x: x.field.x.whole(x.width)), height: 1, width: 1,
                rowAxis: x.rowAxis, columnAxis: x.columnAxis)
    }

    /// Output o of a transposed convolution takes input i where i·stride − pad + t·dilation = o.
    private static func transposed(_ node: Node, _ x: Spatial, _ k: [Int], _ a: SpatialAttributes) throws -> Spatial {
        let s = a.strides ?? [1, 1], d = a.dilations ?? [1, 1], p = a.pads ?? [0, 0, 0, 0]
        let outputPadding = try AttributeReader(node).ints("output_padding") ?? [0, 0]
        func axis(_ f: ReceptiveField.Axis, _ i: Int) -> ReceptiveField.Axis {
            let reach = Double(d[i] * (k[i] - 1))
            return .init(jump: f.jump / Double(s[i]), size: f.size + (reach / Double(s[i])).rounded(.up) * f.jump,
                         start: f.start + ((Double(p[i]) - reach) / Double(s[i])).rounded(.up) * f.jump)
        }
        var out = x
        out.field = ReceptiveField(y: axis(x.field.y, 0), x: axis(x.field.x, 1))
        out.height = (x.height - 1) * s[0] - p[0] - p[2] + d[0] * (k[0] - 1) + 1 + outputPadding[0]
        out.width = (x.width - 1) * s[1] - p[1] - p[3] + d[1] * (k[1] - 1) + 1 + outputPadding[1]
        return out
    }

    /// Output o samples input (o + ½)/scale − ½ (half-pixel); linear modes read the two neighbours.
    private static func resized(_ node: Node, _ x: Spatial, scales: Tensor?, sizes: Tensor?) throws -> Spatial? {
        var fy: Double, fx: Double, h: Int, w: Int
        if let sizes, sizes.count == 4 {
            let v = sizes.ints
            (h, w) = (v[x.rowAxis], v[x.columnAxis])
            (fy, fx) = (Double(h) / Double(x.height), Double(w) / Double(x.width))
        } else if let scales, scales.count == 4 {
            let v = scales.floats.map(Double.init)
            (fy, fx) = (v[x.rowAxis], v[x.columnAxis])
            (h, w) = (Int((Double(x.height) * fy).rounded(.down)), Int((Double(x.width) * fx).rounded(.down)))
        } else {
            return nil
        }
        let nearest = (try AttributeReader(node).string("mode", "nearest")) == "nearest"
        func axis(_ a: ReceptiveField.Axis, _ f: Double) -> ReceptiveField.Axis {
            let first = (0.5 / f - 0.5).rounded(.down)
            return .init(jump: a.jump / f, size: a.size + (nearest ? 0 : a.jump), start: a.start + max(0, first) * a.jump)
        }
        var out = x
        out.field = ReceptiveField(y: axis(x.field.y, fy), x: axis(x.field.x, fx))
        (out.height, out.width) = (h, w)
        return out
    }
}
