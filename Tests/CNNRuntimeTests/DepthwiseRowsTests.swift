@testable import CNNRuntime
import XCTest

/// The row-at-a-time depthwise convolution and its input gradient: against double-precision loops
/// from the definition, and bit-identical to summing tap by tap over the whole plane (the order the
/// kernels had before, which the rows keep for every element).
final class DepthwiseRowsTests: XCTestCase {
    struct Case {
        var ih, iw, kh, kw: Int
        var sy = 1, sx = 1, dy = 1, dx = 1
        var pads = [0, 0, 0, 0]   // top, left, bottom, right
    }

    static let cases = [
        Case(ih: 9, iw: 37, kh: 3, kw: 3, pads: [1, 1, 1, 1]),                 // two 16-lane blocks and a tail
        Case(ih: 8, iw: 40, kh: 3, kw: 5, dy: 2, dx: 2, pads: [1, 2, 2, 0]),   // dilated, uneven pads
        Case(ih: 11, iw: 33, kh: 3, kw: 3, sy: 2, sx: 2, pads: [1, 1, 1, 1]),  // MobileNet's downsampling
        Case(ih: 7, iw: 5, kh: 3, kw: 3, sy: 1, sx: 2, pads: [0, 1, 2, 1]),
        Case(ih: 5, iw: 70, kh: 3, kw: 3, sy: 2, sx: 2, pads: [0, 0, 1, 1]),  // two 32-column splits and a tail
        Case(ih: 6, iw: 29, kh: 3, kw: 4, sy: 3, sx: 3, pads: [2, 3, 0, 1]),  // three column phases, negative offsets
        Case(ih: 1, iw: 1, kh: 3, kw: 3, pads: [1, 1, 1, 1]),                  // only the centre tap lands
        Case(ih: 4, iw: 4, kh: 5, kw: 5, pads: [0, 0, 0, 0]),                  // kernel larger than the image: empty output
    ]

    func geometry(_ c: Case) -> Geometry {
        let oh = max(0, (c.ih + c.pads[0] + c.pads[2] - c.dy * (c.kh - 1) - 1) / c.sy + 1)
        let ow = max(0, (c.iw + c.pads[1] + c.pads[3] - c.dx * (c.kw - 1) - 1) / c.sx + 1)
        let empty = c.ih + c.pads[0] + c.pads[2] < c.dy * (c.kh - 1) + 1
        return Geometry(input: [c.ih, c.iw], kernel: [c.kh, c.kw], strides: [c.sy, c.sx], dilations: [c.dy, c.dx],
                        padBegin: [c.pads[0], c.pads[1]], padEnd: [c.pads[2], c.pads[3]], output: empty ? [0, ow] : [oh, ow])
    }

    /// Every (output, input, tap) triple of the convolution, in tap order, then output order.
    func taps(_ c: Case, _ g: Geometry, _ visit: (_ out: Int, _ input: Int, _ tap: Int) -> Void) {
        for ky in 0..<c.kh { for kx in 0..<c.kw {
            for oy in 0..<g.output[0] { for ox in 0..<g.output[1] {
                let iy = oy * c.sy - c.pads[0] + ky * c.dy, ix = ox * c.sx - c.pads[1] + kx * c.dx
                guard iy >= 0, iy < c.ih, ix >= 0, ix < c.iw else { continue }
                visit(oy * g.output[1] + ox, iy * c.iw + ix, ky * c.kw + kx)
            } }
        } }
    }

    func testForwardMatchesTheDefinitionAndTheTapOrder() {
        for (n, c) in Self.cases.enumerated() {
            let g = geometry(c), outCount = g.output[0] * g.output[1]
            let x = Tensor.deterministic([c.ih * c.iw], seed: UInt64(n) + 1).floats
            let w = Tensor.deterministic([c.kh * c.kw], seed: UInt64(n) + 100).floats
            var exact = [Double](repeating: 0, count: outCount), tapByTap = [Float](repeating: 0, count: outCount)
            taps(c, g) { o, i, t in
                exact[o] += Double(w[t]) * Double(x[i])
                tapByTap[o] += w[t] * x[i]
            }
            do {
                var out = [Float](repeating: .nan, count: outCount + 16)
                var scratch = [Float](repeating: .nan, count: DepthwiseRows.scratchCount(g) + 16)
                out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { DepthwiseRows.forward(x, w, o.baseAddress!, g, scratch: $0.baseAddress!) }
                }
                XCTAssertTrue(Array(out.prefix(outCount)) == tapByTap, "case \(n): not the tap-by-tap sums")
                XCTAssertLessThan(zip(out, exact).map { abs(Double($0) - $1) }.max() ?? 0, 1e-5, "case \(n)")
                XCTAssertTrue(out.suffix(16).allSatisfy(\.isNaN), "case \(n): wrote past the output")
                XCTAssertTrue(scratch.suffix(16).allSatisfy(\.isNaN), "case \(n): wrote past the scratch")
            }
        }
    }

    func testInputGradientMatchesTheDefinitionAndTheTapOrder() {
        for (n, c) in Self.cases.enumerated() {
            let g = geometry(c), outCount = g.output[0] * g.output[1]
            let dy = Tensor.deterministic([max(1, outCount)], seed: UInt64(n) + 7).floats
            let w = Tensor.deterministic([c.kh * c.kw], seed: UInt64(n) + 200).floats
            let start = Tensor.deterministic([c.ih * c.iw], seed: UInt64(n) + 300).floats   // it adds to what is there
            var exact = start.map(Double.init), tapByTap = start
            taps(c, g) { o, i, t in
                exact[i] += Double(w[t]) * Double(dy[o])
                tapByTap[i] += w[t] * dy[o]
            }
            do {
                var dx = start + [Float](repeating: .nan, count: 16)
                var scratch = [Float](repeating: .nan, count: DepthwiseRows.scratchCount(g) + 16)
                dx.withUnsafeMutableBufferPointer { d in
                    scratch.withUnsafeMutableBufferPointer {
                        DepthwiseRows.inputGradient(dy, w, d.baseAddress!, g, scratch: $0.baseAddress!)
                    }
                }
                XCTAssertTrue(Array(dx.prefix(start.count)) == tapByTap, "case \(n): not the tap-by-tap sums")
                XCTAssertLessThan(zip(dx, exact).map { abs(Double($0) - $1) }.max() ?? 0, 1e-5, "case \(n)")
                XCTAssertTrue(dx.suffix(16).allSatisfy(\.isNaN), "case \(n): wrote past the input")
                XCTAssertTrue(scratch.suffix(16).allSatisfy(\.isNaN), "case \(n): wrote past the scratch")
            }
        }
    }
}
