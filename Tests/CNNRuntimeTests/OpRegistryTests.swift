@testable import CNNRuntime
import XCTest

/// The registry is a list of kernel types: the op table, the supported sets, the attribute checks and
/// the derivatives all come from the kernels themselves.
final class OpRegistryTests: XCTestCase {
    func testSupportedOpsAreTheRegisteredKernelsOps() {
        XCTAssertEqual(OpRegistry.supported, [
            "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
            "Relu", "PRelu", "LeakyRelu", "HardSigmoid", "Clip", "Sigmoid", "Tanh", "Softmax", "Exp", "Neg", "Abs",
            "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "MatMul", "Gemm",
            "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Slice", "Pad", "Resize",
            "Cast", "Constant", "ConstantOfShape", "Shape", "Gather", "Identity", "ReduceMean", "ReduceSum",
            "InstanceNormalization", "BatchNormalization", "QuantizeLinear", "DequantizeLinear", "Upsample",
        ])
        XCTAssertEqual(OpRegistry.supportedCustom, ["ZeroPaddedAdd"])
    }

    /// Every op name builds its own kernel type; kernels serving several ops tell them apart.
    func testEveryOpBuildsItsKernelType() throws {
        let required: [String: [String: Attribute]] = [
            "MaxPool": ["kernel_shape": .ints([2, 2])], "AveragePool": ["kernel_shape": .ints([2, 2])],
            "Constant": ["value": .tensor(.scalar(1))],
        ]
        for type in OpRegistry.kernels {
            for op in type.opTypes {
                let node = Node(name: "n", opType: op, domain: type.domain, inputs: ["x"], outputs: ["y"],
                                attributes: required[op] ?? [:])
                let kernel = try OpRegistry.kernel(for: node, opset: 17)
                XCTAssertTrue(Swift.type(of: kernel) == type, "\(op) made a \(Swift.type(of: kernel)), not a \(type)")
            }
        }
        func make(_ op: String, _ attributes: [String: Attribute] = [:]) throws -> Kernel {
            try OpRegistry.kernel(for: Node(name: "n", opType: op, inputs: ["x"], outputs: ["y"], attributes: attributes), opset: 17)
        }
        XCTAssertEqual(try XCTUnwrap(make("MaxPool", required["MaxPool"]!) as? PoolKernel).isMax, true)
        XCTAssertEqual(try XCTUnwrap(make("AveragePool", required["AveragePool"]!) as? PoolKernel).isMax, false)
        XCTAssertEqual(try XCTUnwrap(make("GlobalMaxPool") as? GlobalPoolKernel).isMax, true)
        XCTAssertEqual(try XCTUnwrap(make("GlobalAveragePool") as? GlobalPoolKernel).isMax, false)
        XCTAssertEqual(try XCTUnwrap(make("Unsqueeze") as? SqueezeKernel).unsqueeze, true)
        XCTAssertEqual(try XCTUnwrap(make("Squeeze") as? SqueezeKernel).unsqueeze, false)
        XCTAssertEqual(try XCTUnwrap(make("ReduceMean") as? ReduceKernel).mean, true)
        XCTAssertEqual(try XCTUnwrap(make("ReduceSum") as? ReduceKernel).mean, false)
        // Upsample is Resize with the opset 10 defaults whatever the model's opset.
        XCTAssertEqual(try XCTUnwrap(make("Upsample") as? ResizeKernel).coordinateMode, "asymmetric")
        XCTAssertEqual(try XCTUnwrap(make("Resize") as? ResizeKernel).coordinateMode, "half_pixel")
        XCTAssertEqual(try XCTUnwrap(make("Add", ["axis": .int(1), "broadcast": .int(1)]) as? BinaryKernel<AddOp>).legacyAxis, 1)
    }

    func testUnknownOpsAndAttributesAreErrorsNamingTheNode() throws {
        func make(_ op: String, domain: String = "", _ attributes: [String: Attribute] = [:]) throws -> Kernel {
            try OpRegistry.kernel(for: Node(name: "n", opType: op, domain: domain, inputs: ["x"], outputs: ["y"],
                                            attributes: attributes), opset: 17)
        }
        XCTAssertTrue(try make("Relu", domain: "ai.onnx") is UnaryKernel<ReluOp>)
        XCTAssertThrowsError(try make("Einsum", domain: "ai.onnx")) { XCTAssertEqual("\($0)", "node 'n': op Einsum is not supported") }
        XCTAssertThrowsError(try make("Relu", domain: "org.other")) { XCTAssertEqual("\($0)", "node 'n': op org.other.Relu is not supported") }
        // cnnpipe's ops are not ONNX ops, nor the other way round.
        XCTAssertThrowsError(try make("ZeroPaddedAdd")) { XCTAssertEqual("\($0)", "node 'n': op ZeroPaddedAdd is not supported") }
        XCTAssertThrowsError(try make("Relu", domain: OpRegistry.customDomain))
        // Attributes a kernel does not read, including the legacy broadcast ones on PRelu (which never had them).
        XCTAssertThrowsError(try make("Relu", ["alpha": .float(1)])) {
            XCTAssertEqual("\($0)", "node 'n' (Relu): attribute 'alpha' is not supported")
        }
        XCTAssertNoThrow(try make("Mul", ["broadcast": .int(1)]))
        XCTAssertThrowsError(try make("PRelu", ["broadcast": .int(1)])) {
            XCTAssertEqual("\($0)", "node 'n' (PRelu): attribute 'broadcast' is not supported")
        }
    }

    /// The ops with a derivative: all but the ones producing constants and ConvTranspose.
    func testDifferentiableOps() {
        var differentiable = Set<String>(), not = Set<String>()
        for type in OpRegistry.kernels {
            if type is any DifferentiableKernel.Type { differentiable.formUnion(type.opTypes) } else { not.formUnion(type.opTypes) }
        }
        XCTAssertEqual(not, ["ConvTranspose", "Shape", "Constant", "ConstantOfShape"])
        XCTAssertEqual(differentiable.count, OpRegistry.supported.count + OpRegistry.supportedCustom.count - not.count)
    }

    /// HardSigmoid against the ONNX definition, y = max(0, min(1, alpha·x + beta)), defaults 0.2 and 0.5.
    func testHardSigmoidFollowsTheONNXFormula() throws {
        let x: [Float] = [-4, -2.5, -1, -0.3, 0, 0.7, 1.9, 2.5, 6]
        let ctx = ExecutionContext(threads: 2)
        for (attributes, alpha, beta) in [([String: Attribute](), Float(0.2), Float(0.5)),
                                          (["alpha": .float(0.5), "beta": .float(0.6)], 0.5, 0.6)] {
            let node = Node(name: "h", opType: "HardSigmoid", inputs: ["x"], outputs: ["y"], attributes: attributes)
            let y = try OpRegistry.kernel(for: node, opset: 17).run([Tensor(shape: [3, 3], floats: x)], ctx)[0]
            XCTAssertEqual(y.shape, [3, 3])
            XCTAssertEqual(y.floats, x.map { max(0, min(1, alpha * $0 + beta)) })
        }
        XCTAssertEqual(try OpRegistry.kernel(for: Node(name: "h", opType: "HardSigmoid", inputs: ["x"], outputs: ["y"]), opset: 17)
                        .run([Tensor(shape: [3], floats: [-2.5, 0, 2.5])], ctx)[0].floats, [0, 0.5, 1])
    }
}
