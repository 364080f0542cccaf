import CConvKernels
import XCTest
@testable import CNNRuntime

/// The direct convolution kernels on every instruction set this CPU has (AVX-512, AVX2 — what a CPU
/// without AVX-512 runs — and scalar) against a double-precision loop: channel counts that are not
/// multiples of the tile, rows with tails shorter than a vector, row ranges, nothing written past the output.
final class DirectConvTests: XCTestCase {
    struct Shape {
        let c, m, kh, kw, ih, iw: Int
        var sy = 1, sx = 1
    }

    static let shapes = [
        Shape(c: 3, m: 32, kh: 9, kw: 9, ih: 24, iw: 77),     // a style network's first layer
        Shape(c: 4, m: 3, kh: 9, kw: 9, ih: 20, iw: 100),     // and its last
        Shape(c: 8, m: 4, kh: 3, kw: 3, ih: 11, iw: 17),
        Shape(c: 32, m: 8, kh: 3, kw: 3, ih: 9, iw: 70),
        Shape(c: 2, m: 5, kh: 3, kw: 1, ih: 7, iw: 9),
        Shape(c: 1, m: 1, kh: 1, kw: 1, ih: 1, iw: 1),
        Shape(c: 5, m: 7, kh: 2, kw: 4, ih: 6, iw: 131),
        Shape(c: 32, m: 32, kh: 3, kw: 3, ih: 21, iw: 67, sy: 2, sx: 2),   // a style network's downsampling
        Shape(c: 3, m: 5, kh: 4, kw: 4, ih: 9, iw: 40, sy: 2, sx: 2),
        Shape(c: 2, m: 3, kh: 3, kw: 3, ih: 9, iw: 36, sy: 2, sx: 2),     // every row ends in a partial vector
        Shape(c: 64, m: 5, kh: 3, kw: 3, ih: 11, iw: 601, sy: 2, sx: 2),  // wide rows: one output row per band
        Shape(c: 4, m: 6, kh: 3, kw: 2, ih: 12, iw: 20, sy: 3, sx: 1),
    ]

    var instructionSets: [Int32] {
        (Int32(CP_ISA_SCALAR)...cp_conv_best_isa()).map { $0 }
    }

    func testEveryInstructionSetMatchesTheDefinition() {
        XCTAssertLessThanOrEqual(DirectConv.isa, cp_conv_best_isa())
        XCTAssertEqual(cp_direct_conv_supports(Int32(CP_ISA_AVX2), 1, 2), 0, "AVX2 has no stride-2 kernel: such layers stay on im2col")
        for s in Self.shapes {
            let oh = (s.ih - s.kh) / s.sy + 1, ow = (s.iw - s.kw) / s.sx + 1
            let x = (0..<(s.c * s.ih * s.iw)).map { Float(($0 * 7919) % 613) / 613 - 0.5 }
            let w = (0..<(s.m * s.c * s.kh * s.kw)).map { Float(($0 * 104_729) % 389) / 389 - 0.5 }
            var expected = [Double](repeating: 0, count: s.m * oh * ow)
            for mo in 0..<s.m { for y in 0..<oh { for xo in 0..<ow {
                var sum = 0.0
                for ci in 0..<s.c { for ky in 0..<s.kh { for kx in 0..<s.kw {
                    sum += Double(w[((mo * s.c + ci) * s.kh + ky) * s.kw + kx]) * Double(x[(ci * s.ih + y * s.sy + ky) * s.iw + xo * s.sx + kx])
                } } }
                expected[(mo * oh + y) * ow + xo] = sum
            } } }
            for isa in instructionSets where cp_direct_conv_supports(isa, Int32(s.sy), Int32(s.sx)) != 0 {
                let guardCount = 64
                var out = [Float](repeating: .nan, count: s.m * oh * ow + guardCount)
                // In two row ranges, as the threads split it.
                let split = oh / 2
                out.withUnsafeMutableBufferPointer { o in
                    cp_direct_conv2d(x, Int32(s.c), Int32(s.ih), Int32(s.iw), w, Int32(s.m), Int32(s.kh), Int32(s.kw),
                                     Int32(s.sy), Int32(s.sx), o.baseAddress!, 0, Int32(split), isa)
                    cp_direct_conv2d(x, Int32(s.c), Int32(s.ih), Int32(s.iw), w, Int32(s.m), Int32(s.kh), Int32(s.kw),
                                     Int32(s.sy), Int32(s.sx), o.baseAddress!, Int32(split), Int32(oh), isa)
                }
                let worst = zip(out, expected).map { abs(Double($0) - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-4, "isa \(isa), \(s)")
                XCTAssertTrue(out.suffix(guardCount).allSatisfy(\.isNaN), "isa \(isa), \(s): wrote past the output")
                XCTAssertFalse(out.prefix(s.m * oh * ow).contains(where: \.isNaN), "isa \(isa), \(s): left outputs unwritten")
            }
        }
    }
}
