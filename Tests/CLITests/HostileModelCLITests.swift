import Foundation
import FrameModel
import ImageIO
import XCTest
@testable import CNNRuntime

/// Hostile ONNX files through the commands a user runs (issue 15): exit 1 with one line naming
/// the model, never a signal.
final class HostileModelCLITests: XCTestCase {
    /// A model file: one input, the given nodes, output "y".
    static func writeModel(_ dir: String, _ name: String, inputShape: [Int64], nodes: [Onnx_NodeProto],
                           initializers: [Onnx_TensorProto] = []) throws -> String {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        model.graph.name = name
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        input.type.tensorType.elemType = 1
        input.type.tensorType.shape.dim = inputShape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = d
            return dim
        }
        var output = Onnx_ValueInfoProto()
        output.name = "y"
        model.graph.input = [input]
        model.graph.output = [output]
        model.graph.node = nodes
        model.graph.initializer = initializers
        let path = dir + "/" + name + ".onnx"
        try model.serializedData().write(to: URL(fileURLWithPath: path))
        return path
    }

    static func node(_ name: String, _ op: String, _ inputs: [String], _ outputs: [String] = ["y"]) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.name = name
        n.opType = op
        n.input = inputs
        n.output = outputs
        return n
    }

    private func assertOneLineError(_ r: ProcessResult, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(mentions), r.stderr, file: file, line: line)
    }

    func testGlobalAveragePoolOnARankOneInputInAChain() throws {
        let dir = try TestEnv.tempDir()
        // An image input flattened to rank 1, then pooled "globally".
        var flat = Onnx_TensorProto()
        flat.name = "flat"
        flat.dataType = 7
        flat.dims = [1]
        flat.int64Data = [-1]
        let model = try Self.writeModel(dir, "gap_rank1", inputShape: [1, 3, 8, 8],
                                        nodes: [Self.node("flatten", "Reshape", ["x", "flat"], ["v"]), Self.node("gap", "GlobalAveragePool", ["v"])],
                                        initializers: [flat])
        let image = Image(width: 8, height: 8, format: .rgb8, bytes: [UInt8](repeating: 128, count: 8 * 8 * 3))
        let r = try cnnpipe(["run", "-e", "visualize-activations model=\(model) layer=y", "--format", "png"],
                            stdin: Data(try Codec.encode(image, as: .png)))
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("gap_rank1") && r.stderr.contains("GlobalAveragePool"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    func testHugeAndNegativeInputDimensions() throws {
        let dir = try TestEnv.tempDir()
        let huge = try Self.writeModel(dir, "huge_input", inputShape: [1 << 40, 1 << 40], nodes: [Self.node("r", "Relu", ["x"])])
        assertOneLineError(try cnnpipe(["model", "inspect", huge]), mentions: "huge_input")
        let big = try Self.writeModel(dir, "big_input", inputShape: [1, 3, 1 << 20, 1 << 20], nodes: [Self.node("r", "Relu", ["x"])])
        assertOneLineError(try cnnpipe(["model", "inspect", big]), mentions: "tensor limit")
        let negative = try Self.writeModel(dir, "negative_input", inputShape: [-7], nodes: [Self.node("r", "Relu", ["x"])])
        assertOneLineError(try cnnpipe(["model", "inspect", negative]), mentions: "negative dimension")
    }
}
