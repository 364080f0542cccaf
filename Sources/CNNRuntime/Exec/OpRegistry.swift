/// Maps ONNX op types to kernels. An op not listed here, or an attribute a kernel does not read,
/// is an import error naming the node — never a silent wrong answer.
/// cnnpipe's own ops live in the domain `com.cnnpipe` (used by importers of other formats).
enum OpRegistry {
    static let customDomain = "com.cnnpipe"
    static let supportedCustom: Set<String> = ["ZeroPaddedAdd"]

    static let supported: Set<String> = [
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "Relu", "PRelu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "Softmax", "Exp", "Neg", "Abs",
        "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "MatMul", "Gemm",
        "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Slice", "Pad", "Resize",
        "Cast", "Constant", "ConstantOfShape", "Shape", "Gather", "Identity", "ReduceMean", "ReduceSum",
        "InstanceNormalization", "BatchNormalization", "QuantizeLinear", "DequantizeLinear", "Upsample",
    ]

    static func kernel(for node: Node, opset: Int) throws -> Kernel {
        if node.domain == customDomain { return try customKernel(for: node) }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw ModelError("node '\(node.name)': op \(node.domain).\(node.opType) is not supported")
        }
        let a = AttributeReader(node)
        let k: Kernel
        switch node.opType {
        case "Conv": k = try ConvKernel(a)
        case "ConvTranspose": k = try ConvTransposeKernel(a)
        case "MaxPool": k = try PoolKernel(a, max: true)
        case "AveragePool": k = try PoolKernel(a, max: false)
        case "GlobalAveragePool": k = GlobalPoolKernel(isMax: false)
        case "GlobalMaxPool": k = GlobalPoolKernel(isMax: true)
        case "Relu": k = UnaryKernel<ReluOp>(name: "Relu")
        case "Sigmoid": k = UnaryKernel<SigmoidOp>(name: "Sigmoid")
        case "Tanh": k = UnaryKernel<TanhOp>(name: "Tanh")
        case "Sqrt": k = UnaryKernel<SqrtOp>(name: "Sqrt")
        case "Reciprocal": k = UnaryKernel<ReciprocalOp>(name: "Reciprocal")
        case "Exp": k = UnaryKernel<ExpOp>(name: "Exp")
        case "Neg": k = UnaryKernel<NegOp>(name: "Neg")
        case "Abs": k = UnaryKernel<AbsOp>(name: "Abs")
        case "Clip": k = try ClipKernel(a)
        case "LeakyRelu": k = try LeakyReluKernel(a)
        case "PRelu": k = BinaryKernel<PReluOp>(name: "PRelu")
        case "Softmax": k = try SoftmaxKernel(a, opset: opset)
        case "Add": k = try BinaryKernel<AddOp>(name: "Add", a)
        case "Sub": k = try BinaryKernel<SubOp>(name: "Sub", a)
        case "Mul": k = try BinaryKernel<MulOp>(name: "Mul", a)
        case "Div": k = try BinaryKernel<DivOp>(name: "Div", a)
        case "Pow": k = try BinaryKernel<PowOp>(name: "Pow", a)
        case "MatMul": k = MatMulKernel()
        case "Gemm": k = try GemmKernel(a)
        case "Transpose": k = try TransposeKernel(a)
        case "Reshape": k = try ReshapeKernel(a)
        case "Flatten": k = try FlattenKernel(a)
        case "Squeeze": k = try SqueezeKernel(a, unsqueeze: false)
        case "Unsqueeze": k = try SqueezeKernel(a, unsqueeze: true)
        case "Concat": k = try ConcatKernel(a)
        case "Slice": k = try SliceKernel(a)
        case "Pad": k = try PadKernel(a)
        case "Resize", "Upsample": k = try ResizeKernel(a, opset: node.opType == "Upsample" ? 9 : opset)
        case "Cast": k = try CastKernel(a)
        case "Constant": k = try ConstantKernel(a)
        case "ConstantOfShape": k = try ConstantOfShapeKernel(a)
        case "Shape": k = try ShapeKernel(a)
        case "Gather": k = try GatherKernel(a)
        case "Identity": k = IdentityKernel()
        case "ReduceMean": k = try ReduceKernel(a, mean: true)
        case "ReduceSum": k = try ReduceKernel(a, mean: false)
        case "InstanceNormalization": k = try InstanceNormKernel(a)
        case "BatchNormalization": k = try BatchNormKernel(a)
        case "QuantizeLinear": k = try QuantizeKernel(a)
        case "DequantizeLinear": k = try DequantizeKernel(a)
        default: throw ModelError("node '\(node.name)': op \(node.opType) is not supported")
        }
        try a.finish()
        return k
    }

    private static func customKernel(for node: Node) throws -> Kernel {
        let a = AttributeReader(node)
        let k: Kernel
        switch node.opType {
        case "ZeroPaddedAdd": k = ZeroPaddedAddKernel()
        default: throw ModelError("node '\(node.name)': op \(node.domain).\(node.opType) is not supported")
        }
        try a.finish()
        return k
    }
}
