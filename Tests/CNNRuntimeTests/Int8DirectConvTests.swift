import Foundation
import XCTest
@testable import CNNRuntime

/// The VNNI int8 convolution (int8_conv.c) against its definition: exact integer sums of
/// (x − input zero point) · w, then (float(sum) + bias) · scale[m], clamped, rounded half to even,
/// plus the output zero point, saturated. The same float operations in the same order, so equal bytes.
final class Int8DirectConvTests: XCTestCase {
    struct Case {
        var channels: Int, outChannels: Int, kernel: Int, stride: Int, pad: Int, size: (h: Int, w: Int)
        var inputSigned: Bool, outputSigned: Bool, inputZeroPoint: Int32, outputZeroPoint: Int32
        var scale: Float, bias: Bool, clamp: (low: Float, high: Float)?
    }

    /// Channel counts that are not whole quads, two column phases, padding (filled with the zero point),
    /// row tails, ties (scale 1/2 on integer sums), saturation on both sides, Relu/Clip bounds.
    static let cases = [
        Case(channels: 3, outChannels: 8, kernel: 9, stride: 1, pad: 0, size: (20, 41), inputSigned: true, outputSigned: true,
             inputZeroPoint: -128, outputZeroPoint: -128, scale: 0.002, bias: true, clamp: (0, .greatestFiniteMagnitude)),
        Case(channels: 8, outChannels: 3, kernel: 9, stride: 1, pad: 4, size: (17, 70), inputSigned: true, outputSigned: false,
             inputZeroPoint: -3, outputZeroPoint: 7, scale: 0.5, bias: false, clamp: nil),
        Case(channels: 5, outChannels: 6, kernel: 3, stride: 2, pad: 1, size: (19, 45), inputSigned: false, outputSigned: true,
             inputZeroPoint: 131, outputZeroPoint: 2, scale: 0.01, bias: true, clamp: (-40, 30)),
        Case(channels: 16, outChannels: 7, kernel: 3, stride: 2, pad: 0, size: (13, 66), inputSigned: false, outputSigned: false,
             inputZeroPoint: 0, outputZeroPoint: 100, scale: 0.5, bias: true, clamp: nil),
        Case(channels: 2, outChannels: 9, kernel: 1, stride: 1, pad: 0, size: (5, 16), inputSigned: true, outputSigned: true,
             inputZeroPoint: 0, outputZeroPoint: 0, scale: 0.25, bias: false, clamp: nil),
        // Scaled past ±2^31 (a tiny output scale): must saturate on the side of the value's sign.
        Case(channels: 4, outChannels: 3, kernel: 3, stride: 1, pad: 1, size: (6, 20), inputSigned: true, outputSigned: true,
             inputZeroPoint: 0, outputZeroPoint: -5, scale: 1e7, bias: false, clamp: (0, .greatestFiniteMagnitude)),
        Case(channels: 4, outChannels: 3, kernel: 3, stride: 1, pad: 1, size: (6, 20), inputSigned: false, outputSigned: false,
             inputZeroPoint: 128, outputZeroPoint: 3, scale: 1e7, bias: true, clamp: nil),
    ]

    func testMatchesTheDefinitionByteForByte() throws {
        guard Int8DirectConv.available else { throw XCTSkip("no AVX-512 VNNI here") }
        var ties = 0, saturated = 0
        for (i, t) in Self.cases.enumerated() {
            var rng = SeededRandom(seed: UInt64(40 + i))
            let count = t.channels * t.size.h * t.size.w
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let weights = (0..<(t.outChannels * t.channels * t.kernel * t.kernel)).map { _ in Int8(truncatingIfNeeded: rng.next()) }
            let bias: [Float]? = t.bias ? (0..<t.outChannels).map { _ in Float(Int(rng.next() % 2001) - 1000) } : nil
            let scales = (0..<t.outChannels).map { t.scale * Float(1 + $0 % 3) }
            let p = QuantizedConvParameters(weights: weights, weightShape: [t.outChannels, t.channels, t.kernel, t.kernel],
                                            bias: bias, outputScales: scales, inputZeroPoint: t.inputZeroPoint,
                                            outputZeroPoint: t.outputZeroPoint, inputSigned: t.inputSigned,
                                            outputSigned: t.outputSigned, group: 1, clamp: t.clamp)
            let x = Tensor(shape: [1, t.channels, t.size.h, t.size.w],
                           storage: t.inputSigned ? .int8(bytes.map { Int8(bitPattern: $0) }) : .uint8(bytes))
            let oh = (t.size.h + 2 * t.pad - t.kernel) / t.stride + 1, ow = (t.size.w + 2 * t.pad - t.kernel) / t.stride + 1
            let g = Geometry(input: [t.size.h, t.size.w], kernel: [t.kernel, t.kernel], strides: [t.stride, t.stride],
                             dilations: [1, 1], padBegin: [t.pad, t.pad], padEnd: [t.pad, t.pad], output: [oh, ow])
            XCTAssertTrue(Int8DirectConv.applies(p, g), "case \(i)")
            let got = try XCTUnwrap(try Int8DirectConv.run(x, p, g, packed: Int8PackedWeights(), ExecutionContext(threads: 2)))
            let expected = Self.reference(t, x.int64s, weights, bias, scales)
            XCTAssertEqual(got.shape, [1, t.outChannels] + g.output, "case \(i)")
            XCTAssertEqual(got.int64s.count, expected.values.count)
            let wrong = zip(got.int64s, expected.values).filter { $0 != $1 }.count
            XCTAssertEqual(wrong, 0, "case \(i): \(wrong) of \(expected.values.count) bytes differ")
            ties += expected.ties
            saturated += expected.saturated
        }
        print("int8 direct: \(ties) ties, \(saturated) saturated outputs")
        XCTAssertGreaterThan(ties, 100)
        XCTAssertGreaterThan(saturated, 100)
    }

    static func reference(_ t: Case, _ x: [Int64], _ w: [Int8], _ bias: [Float]?, _ scales: [Float])
        -> (values: [Int64], ties: Int, saturated: Int) {
        let (h, wd, k, s, p) = (t.size.h, t.size.w, t.kernel, t.stride, t.pad)
        let oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1
        let (lo, hi): (Int64, Int64) = t.outputSigned ? (-128, 127) : (0, 255)
        var out = [Int64](), ties = 0, saturated = 0
        for m in 0..<t.outChannels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum: Int64 = 0
                    for c in 0..<t.channels {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let iy = oy * s + ky - p, ix = ox * s + kx - p
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }   // padding is x = zero point
                                sum += (x[(c * h + iy) * wd + ix] - Int64(t.inputZeroPoint))
                                    * Int64(w[((m * t.channels + c) * k + ky) * k + kx])
                            }
                        }
                    }
                    var v = Float(Int32(sum)) + (bias?[m] ?? 0)
                    v *= scales[m]
                    if let c = t.clamp { v = min(max(v, c.low), c.high) }
                    if v - v.rounded(.down) == 0.5 { ties += 1 }
                    let q = Int64(v.rounded(.toNearestOrEven)) + Int64(t.outputZeroPoint)
                    if q < lo || q > hi { saturated += 1 }
                    out.append(min(max(q, lo), hi))
                }
            }
        }
        return (out, ties, saturated)
    }
}
