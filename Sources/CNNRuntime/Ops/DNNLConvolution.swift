import CDNNL
import Foundation

/// Everything a oneDNN convolution primitive is specialised for. Creating one is expensive
/// (kernel generation), so each distinct shape is created once and kept.
struct DNNLConvolutionShape: Hashable {
    var input: [Int]      // N, C, H, W (1D convolutions get H = 1)
    var weights: [Int]    // M, C/group, KH, KW
    var group: Int
    var strides: [Int]
    var dilations: [Int]
    var padBegin: [Int]
    var padEnd: [Int]
    var output: [Int]     // N, M, OH, OW
    var hasBias: Bool
    var activation: Activation
    var layout: DNNL.Layout
    var precision: Precision
    /// The OpenMP threads the primitive is made for: oneDNN fixes them when it makes one (a primitive
    /// made while one thread was set ran on one thread ever after), so each count gets its own.
    var threads = 1
    /// Winograd F(2×2, 3×3) (3×3, stride 1, no dilation): fewer multiplications, slightly other sums.
    var winograd = false

    /// The layers DNNL.winograd may take.
    var allowsWinograd: Bool {
        weights.count == 4 && weights[2] == 3 && weights[3] == 3 && strides == [1, 1] && dilations == [1, 1]
            && group == 1 && precision == .fp32
    }

    init(input: [Int], weights: [Int], group: Int, strides: [Int], dilations: [Int], padBegin: [Int], padEnd: [Int],
         output: [Int], hasBias: Bool, activation: Activation, layout: DNNL.Layout, precision: Precision) {
        self.input = input; self.weights = weights; self.group = group
        self.strides = strides; self.dilations = dilations; self.padBegin = padBegin; self.padEnd = padEnd
        self.output = output; self.hasBias = hasBias; self.activation = activation
        self.layout = layout; self.precision = precision
    }

    /// A 1D or 2D convolution as oneDNN sees it; nil for 3D (left to the im2col path).
    init?(input: [Int], weights: [Int], group: Int, geometry g: Geometry, hasBias: Bool, activation: Activation,
          layout: DNNL.Layout, precision: Precision = .fp32) {
        guard g.input.count <= 2 else { return nil }
        let g2 = g.as2D
        let lift = g.input.count == 1 ? [1] : []
        self.input = Array(input[0..<2]) + g2.input
        self.weights = Array(weights[0..<2]) + lift + Array(weights[2...])
        self.group = group
        strides = g2.strides; dilations = g2.dilations; padBegin = g2.padBegin; padEnd = g2.padEnd
        output = [input[0], weights[0]] + g2.output
        self.hasBias = hasBias
        self.activation = activation
        self.layout = layout
        self.precision = precision
    }

    /// The same convolution in float32.
    var inFP32: DNNLConvolutionShape {
        var s = self
        s.precision = .fp32
        return s
    }
}

/// A forward-inference convolution with its bias and activation fused, on oneDNN. Activations come
/// and go in NCHW; with the blocked layout they are reordered at the boundary and the weights are
/// reordered once per weight tensor (constants keep theirs). In bf16, source and weights are bfloat16
/// (the reorders convert them) and the destination stays float32 (oneDNN accumulates in float32).
final class DNNLConvolution: @unchecked Sendable {
    let shape: DNNLConvolutionShape
    private let lib: DNNL.Library
    private let convolution: DNNL.Primitive
    private let plainSource, plainWeights, plainDestination, biasLayout: dnnl_memory_desc_t
    private let source, weights, destination, scratchpad: dnnl_memory_desc_t
    private let sourceReorder, weightsReorder, destinationReorder: DNNL.Primitive?
    private let weightStore: DNNLWeightStore

    init(_ lib: DNNL.Library, _ shape: DNNLConvolutionShape, weightStore: DNNLWeightStore = DNNLWeightStore()) throws {
        self.lib = lib
        self.shape = shape
        self.weightStore = weightStore
        let grouped = shape.group > 1
        let weightDims = grouped ? [shape.group, shape.weights[0] / shape.group] + Array(shape.weights[1...]) : shape.weights
        plainSource = try DNNL.descriptor(lib, shape.input, dnnl_nchw)
        plainWeights = try DNNL.descriptor(lib, weightDims, grouped ? dnnl_goihw : dnnl_oihw)
        plainDestination = try DNNL.descriptor(lib, shape.output, dnnl_nchw)
        biasLayout = try DNNL.descriptor(lib, [shape.weights[0]], dnnl_x)
        let chosen = shape.layout == .blocked
        let inputType = shape.precision == .bf16 ? dnnl_bf16 : dnnl_f32
        var src = try DNNL.descriptor(lib, shape.input, chosen ? dnnl_format_tag_any : dnnl_nchw, inputType)
        var wts = try DNNL.descriptor(lib, weightDims, chosen ? dnnl_format_tag_any : (grouped ? dnnl_goihw : dnnl_oihw),
                                      inputType)
        var dst = chosen ? try DNNL.descriptor(lib, shape.output, dnnl_format_tag_any) : plainDestination
        var bias = biasLayout

        var op = dnnl_convolution_desc_t()
        // oneDNN counts dilation from 0 (0 = dense); ONNX from 1.
        let strides = shape.strides.map(Int64.init), dilations = shape.dilations.map { Int64($0 - 1) }
        let padL = shape.padBegin.map(Int64.init), padR = shape.padEnd.map(Int64.init)
        let algo = shape.winograd ? dnnl_convolution_winograd : dnnl_convolution_direct
        let status = shape.hasBias
            ? lib.convolutionDescInit(&op, dnnl_forward_inference, algo, &src, &wts, &bias, &dst,
                                      strides, dilations, padL, padR)
            : lib.convolutionDescInit(&op, dnnl_forward_inference, algo, &src, &wts, nil, &dst,
                                      strides, dilations, padL, padR)
        try DNNL.check(status, "convolution_forward_desc_init")
        convolution = try Self.makePrimitive(lib, &op, shape.activation)
        // oneDNN's reference kernels are plain loops, far slower than im2col + sgemm: leave those shapes to it.
        guard !convolution.implementation.hasPrefix("ref") else {
            throw ModelError("oneDNN has only a reference convolution for \(shape)")
        }
        guard shape.precision == .fp32 || BF16Support.isHardwareBF16(convolution.implementation) else {
            throw ModelError("oneDNN has no hardware bf16 convolution for \(shape) (\(convolution.implementation))")
        }
        source = convolution.memoryDescriptor(dnnl_query_src_md)
        weights = convolution.memoryDescriptor(dnnl_query_weights_md)
        destination = convolution.memoryDescriptor(dnnl_query_dst_md)
        scratchpad = convolution.memoryDescriptor(dnnl_query_scratchpad_md)
        sourceReorder = DNNL.same(lib, source, plainSource) ? nil : try DNNL.reorder(lib, from: plainSource, to: source)
        weightsReorder = DNNL.same(lib, weights, plainWeights) ? nil : try DNNL.reorder(lib, from: plainWeights, to: weights)
        destinationReorder = DNNL.same(lib, destination, plainDestination) ? nil
            : try DNNL.reorder(lib, from: destination, to: plainDestination)
    }

    /// The primitive with the fused activation as an eltwise post-op and a caller-provided scratchpad
    /// (so one primitive can run on several threads at once).
    private static func makePrimitive(_ lib: DNNL.Library, _ op: inout dnnl_convolution_desc_t,
                                      _ activation: Activation) throws -> DNNL.Primitive {
        var attr: dnnl_primitive_attr_t?, postOps: dnnl_post_ops_t?
        try DNNL.check(lib.attrCreate(&attr), "primitive_attr_create")
        defer { _ = lib.attrDestroy(attr) }
        try DNNL.check(lib.attrSetScratchpad(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
        try DNNL.check(lib.postOpsCreate(&postOps), "post_ops_create")
        defer { _ = lib.postOpsDestroy(postOps) }
        switch activation {
        case .none: break
        case .relu: try DNNL.check(lib.postOpsAppendEltwise(postOps, 1, dnnl_eltwise_relu, 0, 0), "append_eltwise relu")
        case .clip(let lo, let hi):
            try DNNL.check(lib.postOpsAppendEltwise(postOps, 1, dnnl_eltwise_clip, lo, hi), "append_eltwise clip")
        }
        try DNNL.check(lib.attrSetPostOps(attr, postOps), "set_post_ops")
        var pd: dnnl_primitive_desc_t?
        try DNNL.check(lib.primitiveDescCreate(&pd, &op, attr, lib.engine, nil), "convolution primitive_desc_create")
        guard let pd else { throw ModelError("oneDNN convolution: no primitive descriptor") }
        return try DNNL.Primitive(lib, descriptor: pd)
    }

    /// oneDNN's name for the convolution implementation it picked.
    var implementation: String { convolution.implementation }

    /// out = activation(conv(x, w) + bias), all in NCHW / OIHW as the runtime stores them.
    /// `exec` holds the threads the primitive was made for (`shape.threads`).
    func run(x: UnsafeMutablePointer<Float>, weights w: FloatBuffer, bias: UnsafeMutablePointer<Float>?,
             out: UnsafeMutablePointer<Float>, _ exec: DNNL.Execution, _ ctx: ExecutionContext) throws {
        var temporaries: [Tensor] = []
        func buffer(_ desc: dnnl_memory_desc_t) throws -> UnsafeMutablePointer<Float> {
            let t = try ctx.tensor([max(1, DNNL.floatCount(lib, desc))])
            temporaries.append(t)
            return t.buffer.pointer
        }
        var src = x
        if let sourceReorder {
            src = try buffer(source)
            try exec.reorder(sourceReorder, plainSource, x, source, src)
        }
        let wts = try weightData(w, exec, buffer)
        let dst = destinationReorder == nil ? out : try buffer(destination)
        var args: [(Int32, dnnl_memory_t)] = [
            (DNNL_ARG_SRC_0, try exec.memory(source, src)), (DNNL_ARG_WEIGHTS_0, try exec.memory(weights, wts)),
            (DNNL_ARG_DST_0, try exec.memory(destination, dst)),
        ]
        if let bias { args.append((DNNL_ARG_BIAS, try exec.memory(biasLayout, bias))) }
        if DNNL.floatCount(lib, scratchpad) > 0 {
            args.append((DNNL_ARG_SCRATCHPAD, try exec.memory(scratchpad, try buffer(scratchpad))))
        }
        try exec.execute(convolution, args)
        if let destinationReorder { try exec.reorder(destinationReorder, destination, dst, plainDestination, out) }
        try exec.finish()
        withExtendedLifetime(temporaries) {}
    }

    /// The weights in the primitive's layout. Constant weights (not from the buffer pool) are reordered
    /// once and kept with the buffer they came from; others are reordered into a temporary each run.
    private func weightData(_ w: FloatBuffer, _ exec: DNNL.Execution,
                            _ buffer: (dnnl_memory_desc_t) throws -> UnsafeMutablePointer<Float>) throws -> UnsafeMutablePointer<Float> {
        guard let weightsReorder else { return w.pointer }
        let constant = w.pool == nil
        if constant {
            return try weightStore.weights(w, layout: weights, lib) {
                let data = FloatBuffer(count: max(1, DNNL.floatCount(lib, weights)))
                try exec.reorder(weightsReorder, plainWeights, w.pointer, weights, data.pointer)
                try exec.finish()
                return data
            }.pointer
        }
        let data = try buffer(weights)
        try exec.reorder(weightsReorder, plainWeights, w.pointer, weights, data)
        return data
    }
}

/// Constant weights reordered into a primitive's layout, shared by the convolutions of one Conv node:
/// the shapes of one node (tiles, batch sizes) nearly always want the same layout, and a copy per
/// shape would hold the face ResNet's 22 MB of weights once per number of faces seen.
final class DNNLWeightStore: @unchecked Sendable {
    private let lock = NSLock()
    private var copies: [(of: FloatBuffer, layout: dnnl_memory_desc_t, data: FloatBuffer)] = []
    static let limit = 2

    func weights(_ w: FloatBuffer, layout: dnnl_memory_desc_t, _ lib: DNNL.Library,
                 reorder: () throws -> FloatBuffer) throws -> FloatBuffer {
        lock.lock()
        defer { lock.unlock() }
        if let hit = copies.first(where: { $0.of === w && DNNL.same(lib, $0.layout, layout) }) { return hit.data }
        let data = try reorder()
        copies.append((w, layout, data))
        if copies.count > Self.limit { copies.removeFirst() }
        return data
    }
}

/// The oneDNN convolutions one Conv node has needed, by shape; shared by the copies of its kernel.
/// A shape oneDNN cannot do is remembered as nil (the im2col path runs it). At most `limit` shapes
/// are kept, least recently used first out: a photo library brings ever new tile and batch shapes,
/// and each primitive holds its generated code.
final class DNNLConvolutionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var byShape: [DNNLConvolutionShape: DNNLConvolution?] = [:]
    private var recent: [DNNLConvolutionShape] = []
    private let weightStore = DNNLWeightStore()
    static let limit = 8

    /// How many shapes run on oneDNN.
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return byShape.values.filter { $0 != nil }.count
    }

    func convolution(_ shape: DNNLConvolutionShape) -> DNNLConvolution? {
        guard let lib = DNNL.library else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if let i = recent.firstIndex(of: shape) { recent.remove(at: i) }
        recent.append(shape)
        if let known = byShape[shape] { return known }
        var made = try? DNNLConvolution(lib, shape, weightStore: weightStore)
        if made == nil && shape.winograd {     // no Winograd kernel on this CPU (oneDNN 2.6 has AVX-512 ones only)
            var direct = shape
            direct.winograd = false
            made = try? DNNLConvolution(lib, direct, weightStore: weightStore)
        }
        byShape[shape] = made
        if recent.count > Self.limit { byShape[recent.removeFirst()] = nil }
        return made
    }
}
