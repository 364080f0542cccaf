import CConvKernels
import Foundation

/// The thin layers of quantised models (8 input or output channels or fewer) in integer arithmetic
/// on a VNNI kernel of our own (int8_conv.h), NCHW bytes in and out. oneDNN pads those layers'
/// channels to 16 and reorders their maps to NHWC and back; arbitrary_transform's 9×9 layers
/// (3→8, 8→3 at 384²) spent more time there than in any other convolution.
/// Exact s32 sums, requantised with the same formula as DNNLQuantizedConvolution.
enum Int8DirectConv {
    /// AVX-512 VNNI on this CPU, and not turned off with CNNPIPE_INT8_DIRECT=0 (oneDNN then runs these layers).
    static let available = DirectConv.isa == Int32(CP_ISA_AVX512) && cp_int8_conv_available() != 0
        && ProcessInfo.processInfo.environment["CNNPIPE_INT8_DIRECT"] != "0"
    /// CNNPIPE_INT8_DIRECT=all: every layer it can run, whatever its channels (for measuring).
    static let everyLayer = ProcessInfo.processInfo.environment["CNNPIPE_INT8_DIRECT"] == "all"

    static func applies(_ p: QuantizedConvParameters, _ g: Geometry) -> Bool {
        let w = p.weightShape
        return available && p.group == 1 && w.count == 4 && (min(w[0], w[1]) <= 8 || everyLayer) && g.input.count == 2
            && g.dilations == [1, 1] && g.strides.allSatisfy({ $0 <= 2 })
            && (g.padBegin + g.padEnd).allSatisfy({ $0 >= 0 })
    }

    /// The requantised convolution of the bytes of `x` [1…, C, H, W], or nil when the kernel does not
    /// take this geometry.
    static func run(_ x: Tensor, _ p: QuantizedConvParameters, _ g: Geometry, packed: Int8PackedWeights,
                    _ ctx: ExecutionContext) throws -> Tensor? {
        let (n, c, m) = (x.shape[0], x.shape[1], p.weightShape[0])
        guard c == p.weightShape[1] else { return nil }   // the other paths report the mismatch
        let (h, width) = (g.input[0], g.input[1]), (top, left) = (g.padBegin[0], g.padBegin[1])
        var layout = cp_plane_layout()
        guard cp_int8_layout_for(Int32(c), Int32(h + top + g.padEnd[0]), Int32(width + left + g.padEnd[1]),
                                 Int32(g.kernel[0]), Int32(g.kernel[1]), Int32(g.strides[0]), Int32(g.strides[1]),
                                 &layout) != 0 else { return nil }
        packed.pack(p, layout)
        let plane = try ctx.tensor([Int(layout.groups) * layout.plane])   // 32-bit words in a float tensor
        let q = UnsafeMutablePointer<UInt32>(OpaquePointer(plane.buffer.pointer))
        let l = layout, inSize = c * h * width, outSize = m * g.output[0] * g.output[1]
        // Padding is the input zero point, as stored; signed bytes are read as unsigned (+128).
        let fill = UInt8(truncatingIfNeeded: p.inputZeroPoint), flip: Int32 = p.inputSigned ? 1 : 0
        ctx.multiplyAdds += n * m * g.outputSize * c * g.kernelSize

        func convolve(_ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer) {
            for b in 0..<n {
                let xb = src.assumingMemoryBound(to: UInt8.self) + b * inSize
                ctx.parallel(Int(l.ih), minimumPerThread: 16) { rows in
                    withUnsafePointer(to: l) {
                        cp_int8_quad_rows(xb, Int32(c), Int32(h), Int32(width), Int32(top), Int32(left), flip, fill, $0, q,
                                          Int32(rows.lowerBound), Int32(rows.upperBound))
                    }
                }
                packed.withRequant(p) { words, requant in
                    ctx.parallel(g.output[0], minimumPerThread: 1) { rows in
                        withUnsafePointer(to: l) { layoutPointer in
                            withUnsafePointer(to: requant) {
                                cp_int8_conv2d(q, layoutPointer, words, Int32(m), $0, dst + b * outSize,
                                               Int32(rows.lowerBound), Int32(rows.upperBound))
                            }
                        }
                    }
                }
            }
        }
        let out = try x.withEightBitBytes("int8 convolution") { src in
            Tensor.eightBit([n, m] + g.output, signed: p.outputSigned) { convolve(src, $0) }
        }
        withExtendedLifetime(plane) {}
        return out
    }
}

/// One fused node's weights as weight words, with what requantisation needs per output channel;
/// made once (the weights are constants of the fused node).
final class Int8PackedWeights: @unchecked Sendable {
    private let lock = NSLock()
    private var words: [UInt32] = [], scales: [Float] = [], offsets: [Int32] = []
    private var made = false

    var isPacked: Bool {
        lock.lock()
        defer { lock.unlock() }
        return made
    }

    /// Packs the weights for `layout` the first time (the layout of a fused node's weights never changes).
    func pack(_ p: QuantizedConvParameters, _ layout: cp_plane_layout) {
        lock.lock()
        defer { lock.unlock() }
        guard !made else { return }
        let m = p.weightShape[0], c = p.weightShape[1]
        var sums = [Int32](repeating: 0, count: m)
        var l = layout
        words = [UInt32](unsafeUninitializedCapacity: m * Int(layout.groups * layout.taps)) { buffer, count in
            p.weights.withUnsafeBufferPointer {
                cp_int8_pack_weights($0.baseAddress, Int32(m), Int32(c), &l, buffer.baseAddress, &sums)
            }
            count = buffer.count
        }
        let zeroPoint = p.inputZeroPoint + (p.inputSigned ? 128 : 0)    // as the kernel reads the input
        offsets = sums.map { zeroPoint &* $0 }
        scales = p.outputScales.count == 1 ? Array(repeating: p.outputScales[0], count: m) : p.outputScales
        made = true
    }

    func withRequant(_ p: QuantizedConvParameters, _ body: (UnsafePointer<UInt32>, cp_requant) -> Void) {
        words.withUnsafeBufferPointer { w in
            scales.withUnsafeBufferPointer { s in
                offsets.withUnsafeBufferPointer { o in
                    let clamp = p.clamp
                    func run(_ bias: UnsafePointer<Float>?) {
                        body(w.baseAddress!, cp_requant(scale: s.baseAddress, bias: bias, offset: o.baseAddress,
                                                        clamp: clamp == nil ? 0 : 1, low: clamp?.low ?? 0, high: clamp?.high ?? 0,
                                                        zero_point: p.outputZeroPoint, is_signed: p.outputSigned ? 1 : 0))
                    }
                    if let bias = p.bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
                }
            }
        }
    }
}
