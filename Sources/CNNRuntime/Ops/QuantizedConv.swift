import Foundation

/// DequantizeLinear(x) → Conv → [Relu/Clip] → QuantizeLinear as one step that takes and gives the
/// quantised tensors (made by `Session.fuseQuantizedConvolutions`). With oneDNN and VNNI it runs in
/// integer arithmetic; otherwise, or for a shape oneDNN cannot do exactly, `fallback` runs the float
/// ops it replaced (dequantise, float convolution with the activation fused, quantise).
struct QuantizedConvKernel: Kernel {
    let conv: ConvKernel                 // geometry, plus the float fallback with the activation fused
    let parameters: QuantizedConvParameters
    let floatWeights: Tensor, floatBias: Tensor?
    let input: (scale: Float, zeroPoint: Int32)
    let output: (scale: Float, zeroPoint: Int32)
    /// Input / output bytes in NHWC order (set by the session where only fused convolutions read the
    /// value); the tensor's shape stays N, C, H, W.
    var inputChannelsLast = false, outputChannelsLast = false
    let primitives = DNNLQuantizedConvolutionCache()
    let packedWeights = Int8PackedWeights()

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "QuantizedConv")
        guard x.elementType == (parameters.inputSigned ? .int8 : .uint8), x.shape.count == 4 else {
            throw ModelError("QuantizedConv '\(conv.name)': input \(x.elementType) \(x.shape) is not what was fused")
        }
        let w = parameters.weightShape
        let g = try conv.spatial.resolve(input: Array(x.shape[2...]), kernel: Array(w[2...]), op: "Conv '\(conv.name)'")
        if !inputChannelsLast, !outputChannelsLast, Int8DirectConv.applies(parameters, g),
           let out = try Int8DirectConv.run(x, parameters, g, packed: packedWeights, ctx) {
            return [out]
        }
        if DNNL.available, let lib = DNNL.library,
           var shape = DNNLConvolutionShape(input: x.shape, weights: w, group: parameters.group, geometry: g,
                                            hasBias: parameters.bias != nil, activation: .none, layout: .blocked) {
            let exec = try DNNL.Execution(lib, threads: ctx.threads)   // the threads first (DNNLConvolutionShape.threads)
            shape.threads = exec.threads
            if let primitive = primitives.convolution(lib, .init(shape: shape, inputChannelsLast: inputChannelsLast,
                                                                 outputChannelsLast: outputChannelsLast), parameters) {
                ctx.multiplyAdds += x.shape[0] * w[0] * g.output.reduce(1, *) * w[1] * g.kernelSize
                return [try x.withEightBitBytes("QuantizedConv '\(conv.name)'") { src in
                    try Tensor.eightBit(shape.output, signed: parameters.outputSigned) { out in
                        try primitive.run(x: src, out: out, exec, ctx)
                    }
                }]
            }
        }
        return [try runInFloat(x, ctx)]
    }

    /// The ops that were fused, as the QDQ spec defines them: dequantise, float convolution (activation
    /// fused), quantise. The fallback, and the tests' yardstick for the integer path.
    func runInFloat(_ x: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        let xf = try Quantization.dequantize(try reordered(x, toChannelsLast: false), scale: input.scale,
                                             zeroPoint: input.zeroPoint, ctx)
        let y = try conv.run([xf, floatWeights, floatBias], ctx)[0]
        let yq = Quantization.quantize(y, scale: output.scale, zeroPoint: output.zeroPoint, signed: parameters.outputSigned, ctx)
        return outputChannelsLast ? try reordered(yq, toChannelsLast: true) : yq
    }

    /// The fallback's NHWC ↔ NCHW copy (only fused kernels agree on NHWC, and those run on oneDNN).
    private func reordered(_ t: Tensor, toChannelsLast: Bool) throws -> Tensor {
        guard toChannelsLast || inputChannelsLast else { return t }
        guard let lib = DNNL.library else { throw ModelError("QuantizedConv '\(conv.name)': NHWC input without oneDNN") }
        let signed = t.elementType == .int8
        return try t.withEightBitBytes("QuantizedConv '\(conv.name)'") { src in
            try Tensor.eightBit(t.shape, signed: signed) { out in
                try DNNL.transposeBytes(lib, dims: t.shape, signed: signed, toChannelsLast: toChannelsLast, from: src, to: out)
            }
        }
    }

    /// Whether this kernel has run in integer arithmetic, on oneDNN or Int8DirectConv (for tests and inspection).
    var ranInteger: Bool { primitives.count > 0 || packedWeights.isPacked }

}

extension Tensor {
    /// The bytes of an int8 or uint8 tensor; `what` names the op in the error for any other type.
    func withEightBitBytes<R>(_ what: String, _ body: (UnsafeRawPointer) throws -> R) throws -> R {
        switch storage {
        case .int8(let v): return try v.withUnsafeBytes { try body($0.baseAddress!) }
        case .uint8(let v): return try v.withUnsafeBytes { try body($0.baseAddress!) }
        default: throw ModelError("\(what): input is not 8-bit")
        }
    }

    /// An int8 (`signed`) or uint8 tensor of `shape` whose bytes `write` fills.
    static func eightBit(_ shape: [Int], signed: Bool, _ write: (UnsafeMutableRawPointer) throws -> Void) rethrows -> Tensor {
        let count = shape.reduce(1, *)
        if signed {
            return Tensor(shape: shape, storage: .int8(try [Int8](unsafeUninitializedCapacity: count) { o, n in
                try write(UnsafeMutableRawPointer(o.baseAddress!))
                n = count
            }))
        }
        return Tensor(shape: shape, storage: .uint8(try [UInt8](unsafeUninitializedCapacity: count) { o, n in
            try write(UnsafeMutableRawPointer(o.baseAddress!))
            n = count
        }))
    }
}

/// The oneDNN int8 convolutions one fused node has needed, by input shape; a shape oneDNN cannot do
/// exactly is remembered as nil (the float fallback runs it). Few shapes: least recent out past `limit`.
final class DNNLQuantizedConvolutionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var byShape: [DNNLQuantizedConvolution.Key: DNNLQuantizedConvolution?] = [:]
    private var recent: [DNNLQuantizedConvolution.Key] = []
    static let limit = 8

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return byShape.values.filter { $0 != nil }.count
    }

    func convolution(_ lib: DNNL.Library, _ shape: DNNLQuantizedConvolution.Key, _ p: QuantizedConvParameters) -> DNNLQuantizedConvolution? {
        lock.lock()
        defer { lock.unlock() }
        if let i = recent.firstIndex(of: shape) { recent.remove(at: i) }
        recent.append(shape)
        if let known = byShape[shape] { return known }
        let made = try? DNNLQuantizedConvolution(lib, shape, p)
        byShape[shape] = made
        if recent.count > Self.limit { byShape[recent.removeFirst()] = nil }
        return made
    }
}
