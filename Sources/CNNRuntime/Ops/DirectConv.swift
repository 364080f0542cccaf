import CConvKernels
import Foundation

/// Direct convolution for the 2D layers im2col + sgemm serves badly: few input channels (the column
/// matrix is mostly copying) or few output channels (a thin matrix product) — in the style networks
/// the 9×9 first and last layers, the thin upsampling convolutions and the 32-channel body; in
/// dlib's face detector the 45-channel layers and the 45→1 scorer. C kernels with AVX-512 or AVX2
/// (chosen at run time) accumulate a tile of output channels × pixels in registers over every input
/// channel and tap. Strides 1 (and 2 along rows with AVX-512), dilation 1; a padded layer reads a
/// zero-bordered copy of its input.
enum DirectConv {
    /// The instruction set: the CPU's best, or a narrower one forced with CNNPIPE_ISA=avx2|scalar (to
    /// test on this machine what a CPU without AVX-512 runs).
    static let isa: Int32 = {
        let best = cp_conv_best_isa()
        switch ProcessInfo.processInfo.environment["CNNPIPE_ISA"] {
        case "avx2": return min(best, Int32(CP_ISA_AVX2))
        case "scalar": return Int32(CP_ISA_SCALAR)
        default: return best
        }
    }()

    enum Mode { case off, measured, all }
    /// CNNPIPE_DIRECT_CONV=0: never (im2col + sgemm everywhere); =all: every layer it can run (for
    /// measuring); otherwise the layers where it measured faster than im2col + sgemm.
    static let mode: Mode = {
        switch ProcessInfo.processInfo.environment["CNNPIPE_DIRECT_CONV"] {
        case "0": return .off
        case "all": return .all
        default: return .measured
        }
    }()

    static func applies(channels c: Int, outChannels m: Int, group: Int, _ g: Geometry) -> Bool {
        guard mode != .off, isa != CP_ISA_SCALAR || mode == .all, group == 1, g.input.count == 2,
              cp_direct_conv_supports(isa, Int32(g.strides[0]), Int32(g.strides[1])) != 0,
              g.dilations == [1, 1], (g.padBegin + g.padEnd).allSatisfy({ $0 >= 0 }) else { return false }
        // Measured (docs/RUNTIME-SPEED.md): ahead of sgemm on wide rows up to ~48 channels; on narrow
        // rows (ResNet's 38-pixel ones) only the very thin layers gain.
        return mode == .all || min(c, m) <= 8 || (min(c, m) <= 48 && g.output[1] >= 64)
    }

    /// out [m, oh, ow] = w [m, c, kh, kw] ⊛ x [c, ih, iw], output rows split across threads. A padded
    /// layer first copies its input into a zero-bordered buffer (one pass, small next to the convolution).
    static func run(_ x: UnsafePointer<Float>, channels c: Int, _ w: UnsafePointer<Float>, outChannels m: Int,
                    _ out: UnsafeMutablePointer<Float>, _ g: Geometry, _ ctx: ExecutionContext) throws {
        let (kh, kw) = (g.kernel[0], g.kernel[1])
        var (ih, iw) = (g.input[0], g.input[1])
        var x = x
        var padded: Tensor?
        if g.padBegin.contains(where: { $0 > 0 }) || g.padEnd.contains(where: { $0 > 0 }) {
            let (top, left) = (g.padBegin[0], g.padBegin[1])
            let (ph, pw) = (ih + top + g.padEnd[0], iw + left + g.padEnd[1])
            let buffer = try ctx.tensor([c, ph, pw])
            let dst = buffer.buffer.pointer, src = x, (h, width) = (ih, iw)
            let right = pw - left - width, bottom = ph - top - h
            ctx.parallel(c, minimumPerThread: 1) { channels in
                for ch in channels {
                    let plane = dst + ch * ph * pw
                    plane.update(repeating: 0, count: top * pw)
                    for y in 0..<h {       // each interior row: left border, the input row, right border
                        let row = plane + (y + top) * pw
                        row.update(repeating: 0, count: left)
                        (row + left).update(from: src + (ch * h + y) * width, count: width)
                        (row + left + width).update(repeating: 0, count: right)
                    }
                    (plane + (top + h) * pw).update(repeating: 0, count: bottom * pw)
                }
            }
            (padded, x, ih, iw) = (buffer, UnsafePointer(dst), ph, pw)
        }
        defer { withExtendedLifetime(padded) {} }
        ctx.parallel(g.output[0], minimumPerThread: 1) { rows in
            cp_direct_conv2d(x, Int32(c), Int32(ih), Int32(iw), w, Int32(m), Int32(kh), Int32(kw),
                             Int32(g.strides[0]), Int32(g.strides[1]), out,
                             Int32(rows.lowerBound), Int32(rows.upperBound), isa)
        }
    }
}
