import CConvKernels
import Foundation

/// The direct kernels' layers in a bf16 session: bf16 products with float32 sums (AVX-512 BF16),
/// NCHW in and out. oneDNN's bf16 convolutions want NHWC or blocked maps, and the reorders around
/// them cost multistyle26 at 512² about as much as its convolutions; here the input is rewritten once
/// into a plane of bf16 pairs (bf16_conv.h) and nothing else moves.
enum BF16DirectConv {
    /// AVX-512 BF16 on this CPU, and not turned off with CNNPIPE_BF16_DIRECT=0 (oneDNN then runs these layers).
    static let available = DirectConv.isa == Int32(CP_ISA_AVX512) && cp_bf16_conv_available() != 0
        && ProcessInfo.processInfo.environment["CNNPIPE_BF16_DIRECT"] != "0"

    /// out [m, oh, ow] = activation(w ⊛ x + bias), inputs and weights rounded to bf16, sums in float32.
    /// False when the kernel does not take this geometry (the caller runs another path).
    static func run(_ x: UnsafePointer<Float>, channels c: Int, _ w: FloatBuffer, outChannels m: Int,
                    bias: UnsafePointer<Float>?, _ activation: Activation,
                    _ out: UnsafeMutablePointer<Float>, _ g: Geometry, packed: BF16WeightCache,
                    _ ctx: ExecutionContext) throws -> Bool {
        guard available, g.input.count == 2, g.dilations == [1, 1] else { return false }
        let (h, width) = (g.input[0], g.input[1]), (top, left) = (g.padBegin[0], g.padBegin[1])
        var layout = cp_plane_layout()
        guard top >= 0, left >= 0,
              cp_bf16_layout_for(Int32(c), Int32(h + top + g.padEnd[0]), Int32(width + left + g.padEnd[1]),
                                 Int32(g.kernel[0]), Int32(g.kernel[1]), Int32(g.strides[0]), Int32(g.strides[1]),
                                 &layout) != 0 else { return false }
        let words = try packed.words(for: w, outChannels: m, channels: c, layout)
        let plane = try ctx.tensor([Int(layout.groups) * layout.plane])   // 32-bit words in a float tensor
        let q = UnsafeMutablePointer<UInt32>(OpaquePointer(plane.buffer.pointer))
        let l = layout
        let (clamp, lo, hi): (Int32, Float, Float) = switch activation {
        case .none: (0, 0, 0)
        case .relu: (1, 0, .infinity)
        case .clip(let lo, let hi): (1, lo, hi)
        }
        ctx.parallel(Int(l.ih), minimumPerThread: 16) { rows in
            withUnsafePointer(to: l) {
                cp_bf16_pair_rows(x, Int32(c), Int32(h), Int32(width), Int32(top), Int32(left), $0, q,
                                  Int32(rows.lowerBound), Int32(rows.upperBound))
            }
        }
        words.withUnsafeBufferPointer { packedWeights in
            ctx.parallel(g.output[0], minimumPerThread: 1) { rows in
                withUnsafePointer(to: l) {
                    cp_bf16_conv2d(q, $0, packedWeights.baseAddress, Int32(m), bias, clamp, lo, hi, out,
                                   Int32(rows.lowerBound), Int32(rows.upperBound))
                }
            }
        }
        withExtendedLifetime(plane) {}
        return true
    }
}

/// One Conv node's weights as bf16 weight words, packed once for constant weights (the last two
/// weight buffers are kept); weights that change between runs are packed every run.
final class BF16WeightCache: @unchecked Sendable {
    private let lock = NSLock()
    private var packed: [(of: FloatBuffer, words: [UInt32])] = []

    func words(for w: FloatBuffer, outChannels m: Int, channels c: Int, _ layout: cp_plane_layout) throws -> [UInt32] {
        lock.lock()
        defer { lock.unlock() }
        if let hit = packed.first(where: { $0.of === w && $0.words.count == m * Int(layout.groups * layout.taps) }) {
            return hit.words
        }
        var l = layout
        let words = [UInt32](unsafeUninitializedCapacity: m * Int(layout.groups * layout.taps)) { buffer, count in
            cp_bf16_pack_weights(w.pointer, Int32(m), Int32(c), &l, buffer.baseAddress)
            count = buffer.count
        }
        if w.pool == nil {
            packed.append((w, words))
            if packed.count > 2 { packed.removeFirst() }
        }
        return words
    }
}
