import Foundation
import XCTest
@testable import CNNRuntime

/// A residual Add and a Pad after an instance norm are done by the norm itself: the borders it
/// fills are the Pad op's, and multistyle26 computes the same numbers with and without the fusions.
final class PadFusionTests: XCTestCase {
    func testBordersMatchThePadOp() throws {
        let (h, w) = (5, 6)
        let x = Tensor.deterministic([1, 2, h, w], seed: 11)
        for mode in ["reflect", "edge", "constant"] {
            for (top, left, bottom, right) in [(1, 1, 1, 1), (2, 0, 4, 3), (0, 5, 3, 0), (0, 6, 0, 0)] {
                let pads = [0, 0, top, left, 0, 0, bottom, right]
                let node = Node(name: "pad", opType: "Pad", inputs: ["x", "pads", "value"], outputs: ["y"],
                                attributes: ["mode": .string(mode)])
                let kernel = try PadKernel(AttributeReader(node))
                let inputs = [x, Tensor(shape: [8], int64s: pads.map(Int64.init)), Tensor(shape: [], floats: [0.5])]
                let pad = SpatialPad(top: top, left: left, bottom: bottom, right: right,
                                     mode: try XCTUnwrap(SpatialPad.Mode(rawValue: mode)), value: 0.5)
                if mode == "reflect" && (max(top, bottom) >= h || max(left, right) >= w) {
                    XCTAssertThrowsError(try pad.check(height: h, width: w))
                    XCTAssertThrowsError(try kernel.run(inputs, ExecutionContext(threads: 1)))
                    continue
                }
                XCTAssertNoThrow(try pad.check(height: h, width: w))
                let expected = try kernel.run(inputs, ExecutionContext(threads: 1))[0]
                let (oh, ow) = (h + top + bottom, w + left + right)
                var got = [Float](repeating: .nan, count: 2 * oh * ow)
                let source = x.floats
                got.withUnsafeMutableBufferPointer { out in
                    for plane in 0..<2 {
                        let p = out.baseAddress! + plane * oh * ow
                        for y in 0..<h { for j in 0..<w { p[(y + top) * ow + left + j] = source[(plane * h + y) * w + j] } }
                        pad.fillBorders(p, height: h, width: w)
                    }
                }
                XCTAssertEqual(got, expected.floats, "\(mode) \(pads)")
            }
        }
    }

    func testMultistyle26IsUnchangedByTheFusions() throws {
        let model = ParityTests.models + "/multistyle26.onnx"
        guard FileManager.default.fileExists(atPath: model) else { throw XCTSkip("no \(model)") }
        let graph = try ONNXImporter.load(path: model)
        let fused = try Session(graph, threads: 2)
        let separate = try Session(graph, threads: 2, precision: .fp32, fusingAcrossOps: false)
        XCTAssertEqual(fused.report.fusedPads, 9, "the Pads after the 9 instance norms whose output only they read (the others pad a residual sum, an upsampled map or the photo)")
        XCTAssertEqual(separate.report.fusedPads, 0)
        XCTAssertEqual(fused.report.fusedResidualAdds, 6, "every Add: each sums a norm without Relu and a skip connection")
        XCTAssertEqual(fused.steps.count, separate.steps.count - fused.report.fusedPads - fused.report.fusedResidualAdds)
        let photo = Tensor.deterministic([1, 3, 96, 128], seed: 3).floats.map { $0 * 0.5 + 0.5 }
        let feeds = ["image": Tensor(shape: [1, 3, 96, 128], floats: photo),
                     "style_weights": Tensor(shape: [26], floats: (0..<26).map { $0 == 19 ? 1 : 0 })]
        let a = try XCTUnwrap(try fused.run(feeds).values.first), b = try XCTUnwrap(try separate.run(feeds).values.first)
        XCTAssertEqual(a.shape, [1, 3, 96, 128])
        XCTAssertEqual(a.floats, b.floats)
    }
}
