import CDNNL
import Foundation

/// The constant half of a quantised convolution (DequantizeLinear → Conv → [Relu/Clip] → QuantizeLinear),
/// fixed when the session fuses the pattern: symmetric int8 weights, the bias in accumulator units,
/// the per-channel requantisation multiplier and both activation zero points.
struct QuantizedConvParameters {
    let weights: [Int8]            // M, C/group, KH, KW
    let weightShape: [Int]
    /// M values in accumulator units (input scale · weight scale): the int32 bias itself when it was
    /// quantised on that scale, else its value rescaled (oneDNN adds it in float before the output scale).
    let bias: [Float]?
    /// input scale · weight scale[m] / output scale, per output channel (or one value).
    let outputScales: [Float]
    let inputZeroPoint: Int32, outputZeroPoint: Int32
    let inputSigned: Bool, outputSigned: Bool
    let group: Int
    /// The Relu/Clip bounds divided by the output scale (they clamp before the output zero point is added).
    let clamp: (low: Float, high: Float)?
}

/// An int8 convolution on oneDNN: u8/s8 activations × s8 weights accumulated in s32, requantised with
/// the output scales, rounded half to even and saturated, as QuantizeLinear does. Activations come and
/// go as NCHW or NHWC bytes (reordered at the boundary when the primitive wants another layout).
/// Weights are reordered once, with the compensation oneDNN keeps for zero points and s8 sources.
final class DNNLQuantizedConvolution: @unchecked Sendable {
    /// The convolution, and whether its input and output bytes are in NHWC order rather than NCHW
    /// (between two fused convolutions the activations stay in the order oneDNN's int8 kernels use).
    struct Key: Hashable {
        var shape: DNNLConvolutionShape
        var inputChannelsLast = false, outputChannelsLast = false
    }

    let shape: DNNLConvolutionShape
    private let lib: DNNL.Library
    private let convolution: DNNL.Primitive
    private let plainSource, plainDestination, source, destination, scratchpad, biasLayout, zeroPointLayout: dnnl_memory_desc_t
    private let sourceReorder, destinationReorder: DNNL.Primitive?
    private let weightData: FloatBuffer   // reordered s8 weights (+ compensation), kept as raw bytes
    private let weightLayout: dnnl_memory_desc_t
    private let bias: [Float]?
    private let zeroPoints: (input: Int32, output: Int32)

    init(_ lib: DNNL.Library, _ key: Key, _ p: QuantizedConvParameters) throws {
        let shape = key.shape
        guard let setScales = lib.attrSetOutputScales, let setZeroPoints = lib.attrSetZeroPoints else {
            throw ModelError("oneDNN without int8 attributes")
        }
        self.lib = lib
        self.shape = shape
        bias = p.bias
        zeroPoints = (p.inputZeroPoint, p.outputZeroPoint)
        let grouped = p.group > 1
        let weightDims = grouped ? [p.group, shape.weights[0] / p.group] + Array(shape.weights[1...]) : shape.weights
        let inType = p.inputSigned ? dnnl_s8 : dnnl_u8, outType = p.outputSigned ? dnnl_s8 : dnnl_u8
        plainSource = try DNNL.descriptor(lib, shape.input, key.inputChannelsLast ? dnnl_nhwc : dnnl_nchw, inType)
        plainDestination = try DNNL.descriptor(lib, shape.output, key.outputChannelsLast ? dnnl_nhwc : dnnl_nchw, outType)
        let plainWeights = try DNNL.descriptor(lib, weightDims, grouped ? dnnl_goihw : dnnl_oihw, dnnl_s8)
        biasLayout = try DNNL.descriptor(lib, [shape.weights[0]], dnnl_x, dnnl_f32)
        zeroPointLayout = try DNNL.descriptor(lib, [1], dnnl_x, dnnl_s32)
        var src = try DNNL.descriptor(lib, shape.input, dnnl_format_tag_any, inType)
        var wts = try DNNL.descriptor(lib, weightDims, dnnl_format_tag_any, dnnl_s8)
        var dst = try DNNL.descriptor(lib, shape.output, dnnl_format_tag_any, outType)
        var b = biasLayout

        var op = dnnl_convolution_desc_t()
        let strides = shape.strides.map(Int64.init), dilations = shape.dilations.map { Int64($0 - 1) }
        let padL = shape.padBegin.map(Int64.init), padR = shape.padEnd.map(Int64.init)
        let status = p.bias != nil
            ? lib.convolutionDescInit(&op, dnnl_forward_inference, dnnl_convolution_direct, &src, &wts, &b, &dst,
                                      strides, dilations, padL, padR)
            : lib.convolutionDescInit(&op, dnnl_forward_inference, dnnl_convolution_direct, &src, &wts, nil, &dst,
                                      strides, dilations, padL, padR)
        try DNNL.check(status, "int8 convolution_forward_desc_init")

        var attr: dnnl_primitive_attr_t?, postOps: dnnl_post_ops_t?
        try DNNL.check(lib.attrCreate(&attr), "primitive_attr_create")
        defer { _ = lib.attrDestroy(attr) }
        try DNNL.check(lib.attrSetScratchpad(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
        try DNNL.check(setScales(attr, Int64(p.outputScales.count), p.outputScales.count > 1 ? 1 << 1 : 0, p.outputScales),
                       "set_output_scales")
        var runtime = DNNL_RUNTIME_S32_VAL_REP
        try DNNL.check(setZeroPoints(attr, DNNL_ARG_SRC_0, 1, 0, &runtime), "set_zero_points src")
        try DNNL.check(setZeroPoints(attr, DNNL_ARG_DST_0, 1, 0, &runtime), "set_zero_points dst")
        try DNNL.check(lib.postOpsCreate(&postOps), "post_ops_create")
        defer { _ = lib.postOpsDestroy(postOps) }
        if let clamp = p.clamp {
            try DNNL.check(lib.postOpsAppendEltwise(postOps, 1, dnnl_eltwise_clip, clamp.low, clamp.high), "append_eltwise clip")
        }
        try DNNL.check(lib.attrSetPostOps(attr, postOps), "set_post_ops")
        var pd: dnnl_primitive_desc_t?
        try DNNL.check(lib.primitiveDescCreate(&pd, &op, attr, lib.engine, nil), "int8 convolution primitive_desc_create")
        guard let pd else { throw ModelError("oneDNN int8 convolution: no primitive descriptor") }
        convolution = try DNNL.Primitive(lib, descriptor: pd)
        // Without VNNI (or AMX) oneDNN's u8×s8 products go through vpmaddubsw, whose 16-bit pair sums
        // saturate; it then halves the weights, and the result is no longer the exact integer sum.
        let impl = convolution.implementation
        guard impl.contains("vnni") || impl.contains("amx") else {
            throw ModelError("oneDNN has no exact int8 convolution for \(shape) (\(impl))")
        }
        source = convolution.memoryDescriptor(dnnl_query_src_md)
        destination = convolution.memoryDescriptor(dnnl_query_dst_md)
        scratchpad = convolution.memoryDescriptor(dnnl_query_scratchpad_md)
        weightLayout = convolution.memoryDescriptor(dnnl_query_weights_md)
        sourceReorder = DNNL.same(lib, source, plainSource) ? nil : try DNNL.reorder(lib, from: plainSource, to: source)
        destinationReorder = DNNL.same(lib, destination, plainDestination) ? nil
            : try DNNL.reorder(lib, from: destination, to: plainDestination)

        weightData = FloatBuffer(count: max(1, DNNL.floatCount(lib, weightLayout)))
        var plain = p.weights
        let once = try DNNL.Execution(lib, threads: 1)
        let toLayout = try DNNL.reorder(lib, from: plainWeights, to: weightLayout)
        try plain.withUnsafeMutableBytes { w in
            try once.reorder(toLayout, plainWeights, w.baseAddress!, weightLayout, UnsafeMutableRawPointer(weightData.pointer))
            try once.finish()
        }
    }

    var implementation: String { convolution.implementation }

    /// Whether oneDNN is there and has an exact int8 convolution on this CPU (probed once on a small shape).
    static let exactOnThisCPU: Bool = {
        guard DNNL.available, let lib = DNNL.library,
              let shape = DNNLConvolutionShape(input: [1, 16, 8, 8], weights: [16, 16, 3, 3], group: 1, strides: [1, 1],
                                               dilations: [1, 1], padBegin: [1, 1], padEnd: [1, 1], output: [1, 16, 8, 8],
                                               hasBias: false, activation: .none, layout: .blocked, precision: .fp32) as DNNLConvolutionShape?
        else { return false }
        let probe = QuantizedConvParameters(weights: Array(repeating: 1, count: 16 * 16 * 9), weightShape: [16, 16, 3, 3], bias: nil,
                                            outputScales: [1], inputZeroPoint: 0, outputZeroPoint: 0, inputSigned: true,
                                            outputSigned: true, group: 1, clamp: nil)
        return (try? DNNLQuantizedConvolution(lib, Key(shape: shape), probe)) != nil
    }()

    /// `out` (bytes of the output type) = the requantised convolution of `x` (bytes of the input type).
    /// `exec` holds the threads the primitive was made for (`shape.threads`).
    func run(x: UnsafeRawPointer, out: UnsafeMutableRawPointer, _ exec: DNNL.Execution, _ ctx: ExecutionContext) throws {
        var temporaries: [Tensor] = []
        func buffer(_ desc: dnnl_memory_desc_t) throws -> UnsafeMutableRawPointer {
            let t = try ctx.tensor([max(1, DNNL.floatCount(lib, desc))])
            temporaries.append(t)
            return UnsafeMutableRawPointer(t.buffer.pointer)
        }
        var src = UnsafeMutableRawPointer(mutating: x)   // oneDNN only reads its source
        if let sourceReorder {
            src = try buffer(source)
            try exec.reorder(sourceReorder, plainSource, UnsafeMutableRawPointer(mutating: x), source, src)
        }
        let dst = destinationReorder == nil ? out : try buffer(destination)
        var inZero = zeroPoints.input, outZero = zeroPoints.output
        var biasCopy = bias ?? []
        try withUnsafeMutablePointer(to: &inZero) { inZeroPointer in
            try withUnsafeMutablePointer(to: &outZero) { outZeroPointer in
                try biasCopy.withUnsafeMutableBytes { biasBytes in
                    var args: [(Int32, dnnl_memory_t)] = [
                        (DNNL_ARG_SRC_0, try exec.memory(source, src)),
                        (DNNL_ARG_WEIGHTS_0, try exec.memory(weightLayout, UnsafeMutableRawPointer(weightData.pointer))),
                        (DNNL_ARG_DST_0, try exec.memory(destination, dst)),
                        (DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC_0, try exec.memory(zeroPointLayout, inZeroPointer)),
                        (DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST_0, try exec.memory(zeroPointLayout, outZeroPointer)),
                    ]
                    if bias != nil { args.append((DNNL_ARG_BIAS, try exec.memory(biasLayout, biasBytes.baseAddress!))) }
                    if DNNL.floatCount(lib, scratchpad) > 0 {
                        args.append((DNNL_ARG_SCRATCHPAD, try exec.memory(scratchpad, try buffer(scratchpad))))
                    }
                    try exec.execute(convolution, args)
                    if let destinationReorder { try exec.reorder(destinationReorder, destination, dst, plainDestination, out) }
                    try exec.finish()
                }
            }
        }
        withExtendedLifetime(temporaries) {}
    }
}

extension DNNL {
    /// Copies 8-bit `dims` (N, C, H, W) from one of NCHW / NHWC byte order into the other.
    static func transposeBytes(_ lib: Library, dims: [Int], signed: Bool, toChannelsLast: Bool,
                               from: UnsafeRawPointer, to: UnsafeMutableRawPointer) throws {
        let type = signed ? dnnl_s8 : dnnl_u8
        let nchw = try descriptor(lib, dims, dnnl_nchw, type), nhwc = try descriptor(lib, dims, dnnl_nhwc, type)
        let (a, b) = toChannelsLast ? (nchw, nhwc) : (nhwc, nchw)
        let once = try Execution(lib, threads: 1)
        try once.reorder(try reorder(lib, from: a, to: b), a, UnsafeMutableRawPointer(mutating: from), b, to)
        try once.finish()
    }
}
