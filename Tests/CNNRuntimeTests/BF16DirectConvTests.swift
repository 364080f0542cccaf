import Foundation
import XCTest
@testable import CNNRuntime

/// The bf16 direct convolution (bf16_conv.c) against the definition: inputs and weights rounded to
/// bf16 (nearest even), products summed in Double, bias added, Relu/Clip applied. Its float32 sums
/// differ from that only in the order of additions; an fp32 convolution differs by the rounding.
final class BF16DirectConvTests: XCTestCase {
    struct Case {
        var channels: Int, outChannels: Int, kernel: Int, stride: Int, pad: Int, size: (h: Int, w: Int)
        var activation: String?
    }

    /// Column pairs (3 channels, 9×9), channel pairs with an odd channel count, two column phases
    /// (stride 2), padding, row tails that are not whole vectors, fused Relu and Clip.
    static let cases = [
        Case(channels: 3, outChannels: 5, kernel: 9, stride: 1, pad: 4, size: (23, 37), activation: nil),
        Case(channels: 5, outChannels: 7, kernel: 3, stride: 1, pad: 1, size: (19, 70), activation: "Relu"),
        Case(channels: 4, outChannels: 6, kernel: 3, stride: 2, pad: 1, size: (21, 45), activation: nil),
        Case(channels: 8, outChannels: 3, kernel: 3, stride: 2, pad: 0, size: (17, 66), activation: "Clip"),
        Case(channels: 2, outChannels: 9, kernel: 1, stride: 1, pad: 0, size: (5, 16), activation: nil),
    ]

    func testMatchesTheDefinitionOnBF16RoundedValues() throws {
        guard BF16DirectConv.available else { throw XCTSkip("no AVX-512 BF16 here") }
        if let reason = BF16Support.missingReason { throw XCTSkip(reason) }
        for (i, t) in Self.cases.enumerated() {
            let input = [1, t.channels, t.size.h, t.size.w], weights = [t.outChannels, t.channels, t.kernel, t.kernel]
            let x = Tensor.deterministic(input, seed: UInt64(10 + i)), w = Tensor.deterministic(weights, seed: UInt64(20 + i))
            let b = Tensor.deterministic([t.outChannels], seed: UInt64(30 + i))
            let graph = Self.graph(t, input: input, w: w, b: b)
            let session = try Session(graph, threads: 2, precision: .bf16)
            let got = try XCTUnwrap(try session.run(["x": x])["y"])
            let fp32 = try XCTUnwrap(try Session(graph, threads: 2).run(["x": x])["y"])
            let (expected, magnitude) = Self.reference(t, x.floats, w.floats, b.floats)
            XCTAssertEqual(got.floats.count, expected.count, "case \(i)")
            var worst = 0.0, worstFP32 = 0.0
            for j in expected.indices {
                let scale = max(magnitude[j], 1e-3)
                worst = max(worst, abs(Double(got.floats[j]) - expected[j]) / scale)
                worstFP32 = max(worstFP32, abs(Double(fp32.floats[j]) - expected[j]) / scale)
            }
            print("bf16 direct case \(i): worst error \(worst) of Σ|terms| (fp32 conv: \(worstFP32))")
            XCTAssertLessThan(worst, 2e-6, "case \(i): not the bf16 definition")
            XCTAssertGreaterThan(worstFP32, 1e-4, "case \(i): the fp32 conv is as close: bf16 rounding not tested")
        }
    }

    /// bf16 of a float32: nearest even, as vcvtneps2bf16 (the test values are normal numbers).
    static func bf16(_ f: Float) -> Double {
        let u = f.bitPattern
        return Double(Float(bitPattern: ((u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16) << 16))
    }

    /// The output and, per element, Σ|terms| (the scale float32 summation errors are relative to).
    static func reference(_ t: Case, _ x: [Float], _ w: [Float], _ bias: [Float]) -> ([Double], [Double]) {
        let (h, wd, k, s, p) = (t.size.h, t.size.w, t.kernel, t.stride, t.pad)
        let oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1
        var out = [Double](), magnitude = [Double]()
        for m in 0..<t.outChannels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum = Double(bias[m]), size = abs(Double(bias[m]))
                    for c in 0..<t.channels {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let iy = oy * s + ky - p, ix = ox * s + kx - p
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                let term = bf16(x[(c * h + iy) * wd + ix]) * bf16(w[((m * t.channels + c) * k + ky) * k + kx])
                                sum += term
                                size += abs(term)
                            }
                        }
                    }
                    switch t.activation {
                    case "Relu": sum = max(sum, 0)
                    case "Clip": sum = min(max(sum, -0.5), 0.75)
                    default: break
                    }
                    out.append(sum)
                    magnitude.append(size)
                }
            }
        }
        return (out, magnitude)
    }

    static func graph(_ t: Case, input: [Int], w: Tensor, b: Tensor) -> ModelGraph {
        var nodes = [Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: [t.activation == nil ? "y" : "c"],
                          attributes: ["pads": .ints(Array(repeating: t.pad, count: 4)),
                                       "strides": .ints([t.stride, t.stride])])]
        var initializers = ["w": w, "b": b]
        switch t.activation {
        case "Relu": nodes.append(Node(name: "act", opType: "Relu", inputs: ["c"], outputs: ["y"]))
        case "Clip":
            nodes.append(Node(name: "act", opType: "Clip", inputs: ["c", "lo", "hi"], outputs: ["y"]))
            initializers["lo"] = Tensor(shape: [], floats: [-0.5])
            initializers["hi"] = Tensor(shape: [], floats: [0.75])
        default: break
        }
        return ModelGraph(name: "bf16-direct", nodes: nodes, inputs: [ValueInfo(name: "x", elementType: .float, shape: input)],
                          outputs: [ValueInfo(name: "y", elementType: .float, shape: nil)],
                          initializers: initializers, opsetVersion: 13)
    }
}
