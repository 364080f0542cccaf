import Foundation
import XCTest
@testable import CNNRuntime

/// Models built to break the runtime (issue 15): every one must be a ModelError naming the node,
/// never an overflow, an out-of-bounds read, a huge allocation or a hang.
final class HostileModelTests: XCTestCase {
    private var savedLimit = 0

    override func setUp() {
        savedLimit = TensorLimits.maximumBytes
        TensorLimits.maximumBytes = 1 << 30      // the same limit on every machine
    }

    override func tearDown() { TensorLimits.maximumBytes = savedLimit }

    private func graph(_ nodes: [Node], input: ValueInfo = ValueInfo(name: "x", elementType: .float, shape: [1, 1, 4, 4]),
                       output: String = "y", initializers: [String: Tensor] = [:]) -> ModelGraph {
        ModelGraph(name: "hostile", nodes: nodes, inputs: [input],
                   outputs: [ValueInfo(name: output, elementType: nil, shape: nil)], initializers: initializers, opsetVersion: 17)
    }

    private func assertRefused(_ g: ModelGraph, feed: Tensor? = nil, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let session = try Session(g, threads: 1)
            let x = feed ?? Tensor(shape: [1, 1, 4, 4], floats: Array(repeating: 1, count: 16))
            _ = try session.run(["x": x])
            XCTFail("model was accepted", file: file, line: line)
        } catch {
            XCTAssertTrue("\(error)".contains(mentions), "\(error)", file: file, line: line)
            XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)", file: file, line: line)
        }
    }

    private func int64s(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }

    func testConstantOfShapeWhoseSizeWrapsIsRefused() {
        // 2^62 · 4 wraps to 0 in Int64 arithmetic.
        let g = graph([Node(name: "wrap", opType: "ConstantOfShape", inputs: ["s"], outputs: ["y"])],
                      initializers: ["s": int64s([1 << 62, 4])])
        assertRefused(g, mentions: "node 'wrap' (ConstantOfShape)")
    }

    func testConstantOfShapeBeyondTheTensorLimitIsRefused() {
        for shape: [Int64] in [[64, 1 << 30], [Int64.max], [1 << 20, 1 << 20, 1 << 20]] {
            let g = graph([Node(name: "big", opType: "ConstantOfShape", inputs: ["s"], outputs: ["y"])],
                          initializers: ["s": int64s(shape)])
            assertRefused(g, mentions: "node 'big' (ConstantOfShape)")
        }
        let negative = graph([Node(name: "neg", opType: "ConstantOfShape", inputs: ["s"], outputs: ["y"])],
                             initializers: ["s": int64s([2, -3])])
        assertRefused(negative, mentions: "negative dimension")
    }

    func testGlobalAveragePoolOnARankOneTensorIsAnError() {
        let g = graph([Node(name: "gap", opType: "GlobalAveragePool", inputs: ["x"], outputs: ["y"])],
                      input: ValueInfo(name: "x", elementType: .float, shape: [16]))
        assertRefused(g, feed: Tensor(shape: [16], floats: Array(repeating: 1, count: 16)), mentions: "no spatial dimensions")
        let max = graph([Node(name: "gmp", opType: "GlobalMaxPool", inputs: ["x"], outputs: ["y"])],
                        input: ValueInfo(name: "x", elementType: .float, shape: [16]))
        assertRefused(max, feed: Tensor(shape: [16], floats: Array(repeating: 1, count: 16)), mentions: "GlobalMaxPool")
    }

    func testConvPadsThatOverflowOrExceedTheLimitAreRefused() {
        let w = Tensor(shape: [1, 1, 1, 1], floats: [1])
        let wrap = graph([Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                               attributes: ["pads": .ints([1 << 62, 1 << 62, 1 << 62, 1 << 62])])], initializers: ["w": w])
        assertRefused(wrap, mentions: "node 'c' (Conv)")
        // Pads in range, but an output of 57 TB.
        let huge = graph([Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                               attributes: ["pads": .ints([1 << 22, 1 << 22, 1 << 22, 1 << 22])])], initializers: ["w": w])
        assertRefused(huge, mentions: "tensor limit")
        let group = graph([Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                                attributes: ["group": .int(1 << 62)])], initializers: ["w": w])
        assertRefused(group, mentions: "group")
    }

    func testPadResizeAndGatherBeyondTheLimitAreRefused() {
        let pad = graph([Node(name: "p", opType: "Pad", inputs: ["x", "pads"], outputs: ["y"])],
                        initializers: ["pads": int64s([0, 0, 0, 0, 0, 0, 70_000, 70_000])])
        assertRefused(pad, mentions: "node 'p' (Pad)")
        let padWrap = graph([Node(name: "p", opType: "Pad", inputs: ["x", "pads"], outputs: ["y"])],
                            initializers: ["pads": int64s([0, 0, 0, Int64.max, 0, 0, 0, Int64.max])])
        assertRefused(padWrap, mentions: "node 'p' (Pad)")
        let padAxes = graph([Node(name: "p", opType: "Pad", inputs: ["x", "pads", "", "axes"], outputs: ["y"])],
                            initializers: ["pads": int64s([1]), "axes": int64s([2, 3])])
        assertRefused(padAxes, mentions: "node 'p' (Pad)")
        for scale: Float in [1e9, .infinity, .nan, -2, 0] {
            let resize = graph([Node(name: "r", opType: "Resize", inputs: ["x", "", "scales"], outputs: ["y"])],
                               initializers: ["scales": Tensor(shape: [4], floats: [1, 1, scale, scale])])
            assertRefused(resize, mentions: "node 'r' (Resize)")
        }
        let sizes = graph([Node(name: "r", opType: "Resize", inputs: ["x", "", "", "sizes"], outputs: ["y"])],
                          initializers: ["sizes": int64s([1, 1, 1 << 40, 1 << 40])])
        assertRefused(sizes, mentions: "node 'r' (Resize)")
        TensorLimits.maximumBytes = 1 << 20
        let gather = graph([Node(name: "g", opType: "Gather", inputs: ["x", "i"], outputs: ["y"])],
                           initializers: ["i": Tensor(shape: [1 << 15], storage: .int64(Array(repeating: 0, count: 1 << 15)))])
        assertRefused(gather, mentions: "node 'g' (Gather)")
    }

    func testReshapeSliceAndUnsqueezeWithHostileShapes() {
        let reshape = graph([Node(name: "r", opType: "Reshape", inputs: ["x", "s"], outputs: ["y"])],
                            initializers: ["s": int64s([1 << 62, 4, 0, 0])])
        assertRefused(reshape, mentions: "node 'r' (Reshape)")
        let slice = graph([Node(name: "s", opType: "Slice", inputs: ["x", "b", "e", "a", "st"], outputs: ["y"])],
                          initializers: ["b": int64s([0]), "e": int64s([4]), "a": int64s([2]), "st": int64s([Int64.min])])
        XCTAssertNoThrow(try Session(slice, threads: 1).run(["x": Tensor(shape: [1, 1, 4, 4], floats: Array(repeating: 1, count: 16))]))
        let mismatched = graph([Node(name: "s", opType: "Slice", inputs: ["x", "b", "e", "a"], outputs: ["y"])],
                               initializers: ["b": int64s([0, 0]), "e": int64s([4]), "a": int64s([2, 3])])
        assertRefused(mismatched, mentions: "node 's' (Slice)")
        let unsqueeze = graph([Node(name: "u", opType: "Unsqueeze", inputs: ["x", "a"], outputs: ["y"])],
                              initializers: ["a": int64s([0, 0])])
        assertRefused(unsqueeze, mentions: "node 'u' (Unsqueeze)")
    }

    func testHugeOrNegativeDimensionsInAFileAreImportErrors() throws {
        var model = Onnx_ModelProto()
        model.graph.name = "dims"
        var tensor = Onnx_TensorProto()
        tensor.name = "w"
        tensor.dataType = 1
        tensor.dims = [1 << 62, 4]
        model.graph.initializer = [tensor]
        var output = Onnx_ValueInfoProto()
        output.name = "w"
        model.graph.output = [output]
        XCTAssertThrowsError(try ONNXImporter.load(data: try model.serializedData())) {
            XCTAssertTrue("\($0)".contains("tensor 'w'"), "\($0)")
        }
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        input.type.tensorType.elemType = 1
        var dim = Onnx_TensorShapeProto.Dimension()
        dim.dimValue = -5
        input.type.tensorType.shape.dim = [dim]
        model.graph.initializer = []
        model.graph.input = [input]
        XCTAssertThrowsError(try ONNXImporter.load(data: try model.serializedData())) {
            XCTAssertTrue("\($0)".contains("'x' has a negative dimension"), "\($0)")
        }
    }

    /// Preparation is linear in the number of nodes: 100,000 Relus took minutes when it was quadratic.
    /// (Relus and Adds of a constant alternate: the elementwise chain they become takes each operand once.)
    func testALongChainPreparesInLinearTime() throws {
        let n = 100_000
        let nodes = (0..<n).map { i in
            Node(name: "op\(i)", opType: i % 2 == 0 ? "Relu" : "Add", inputs: [i == 0 ? "x" : "v\(i - 1)"] + (i % 2 == 0 ? [] : ["c"]),
                 outputs: [i == n - 1 ? "y" : "v\(i)"])
        }
        let g = graph(nodes, initializers: ["c": .scalar(0.25)])
        let done = expectation(description: "prepared")
        DispatchQueue.global().async {
            let session = try? Session(g, threads: 1)
            XCTAssertEqual(session?.plannedNodes.count, 1, "one elementwise chain")
            XCTAssertEqual(session?.report.fusedElementwiseOps, n)
            let x = Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map { Float($0) - 8 })
            let y = try? session?.run(["x": x])["y"]
            XCTAssertEqual(y?.floats, x.floats.map { max($0, 0) + Float(n / 2) * 0.25 })
            done.fulfill()
        }
        wait(for: [done], timeout: 30)
    }

    func testConvReluChainsStillFuseAfterTheLinearRewrite() throws {
        let w = Tensor(shape: [1, 1, 1, 1], floats: [2])
        let g = graph([Node(name: "c1", opType: "Conv", inputs: ["x", "w"], outputs: ["a"]),
                       Node(name: "r1", opType: "Relu", inputs: ["a"], outputs: ["b"]),
                       Node(name: "c2", opType: "Conv", inputs: ["b", "w"], outputs: ["c"]),
                       Node(name: "r2", opType: "Relu", inputs: ["c"], outputs: ["y"])], initializers: ["w": w])
        let session = try Session(g, threads: 1)
        XCTAssertEqual(session.report.fusedActivations, 2)
        XCTAssertEqual(session.plannedNodes.map(\.name), ["c1", "c2"])
        let y = try session.run(["x": Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map { Float($0) - 8 })])["y"]!
        XCTAssertEqual(y.floats, (0..<16).map { max(0, (Float($0) - 8) * 4) })
    }

    func testExportedModelsImportToTheSameGraph() throws {
        let w = Tensor(shape: [1, 1, 3, 3], floats: (0..<9).map { Float($0) / 9 })
        let g = graph([Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["a"], attributes: ["pads": .ints([1, 1, 1, 1])]),
                       Node(name: "r", opType: "Resize", inputs: ["a", "", "s"], outputs: ["y"], attributes: ["mode": .string("linear")])],
                      initializers: ["w": w, "s": Tensor(shape: [4], floats: [1, 1, 2, 2])])
        let back = try ONNXImporter.load(data: try ONNXExporter.serialize(g))
        XCTAssertEqual(back.nodes.map(\.opType), ["Conv", "Resize"])
        XCTAssertEqual(back.inputs.first?.shape, [1, 1, 4, 4])
        let x = Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map { Float($0) })
        XCTAssertEqual(try Session(back, threads: 1).run(["x": x])["y"]?.floats, try Session(g, threads: 1).run(["x": x])["y"]?.floats)
    }

    /// Found by the onnx fuzzer: an axis of a scalar indexed its empty shape.
    func testAxisOpsOnAScalarAreErrors() {
        for op in ["Gather", "Concat", "Softmax", "ReduceSum"] {
            let inputs = op == "Gather" ? ["s", "i"] : (op == "Concat" ? ["s", "s"] : ["s"])
            let attributes: [String: Attribute] = op == "ReduceSum" ? ["axes": .ints([0])] : ["axis": .int(0)]
            let g = graph([Node(name: "n", opType: op, inputs: inputs, outputs: ["y0"], attributes: attributes),
                           Node(name: "a", opType: "Add", inputs: ["x", "y0"], outputs: ["y"])],
                          initializers: ["s": .scalar(1), "i": Tensor(shape: [1], int64s: [0])])
            assertRefused(g, mentions: "node 'n' (\(op))")
        }
    }
}
