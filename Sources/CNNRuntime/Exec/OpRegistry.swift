/// A kernel the registry can build: the op names it implements and how it is made from a node's
/// attributes (`a.node.opType` tells a kernel serving several ops which one it is).
protocol RegisteredKernel: Kernel {
    static var opTypes: [String] { get }
    /// "" for ONNX ops, `OpRegistry.customDomain` for cnnpipe's own.
    static var domain: String { get }
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel
}

extension RegisteredKernel {
    static var domain: String { "" }
}

/// Maps op types to kernels. An op not listed here, or an attribute a kernel does not read,
/// is an import error naming the node — never a silent wrong answer.
/// cnnpipe's own ops live in the domain `com.cnnpipe` (used by importers of other formats).
enum OpRegistry {
    static let customDomain = "com.cnnpipe"

    /// Every kernel type the runtime builds from a graph node; adding an op is adding its line here.
    static let kernels: [any RegisteredKernel.Type] = [
        ConvKernel.self, ConvTransposeKernel.self, PoolKernel.self, GlobalPoolKernel.self,
        UnaryKernel<ReluOp>.self, UnaryKernel<SigmoidOp>.self, UnaryKernel<TanhOp>.self, UnaryKernel<SqrtOp>.self,
        UnaryKernel<ReciprocalOp>.self, UnaryKernel<ExpOp>.self, UnaryKernel<NegOp>.self, UnaryKernel<AbsOp>.self,
        ClipKernel.self, LeakyReluKernel.self, HardSigmoidKernel.self, SoftmaxKernel.self,
        BinaryKernel<AddOp>.self, BinaryKernel<SubOp>.self, BinaryKernel<MulOp>.self, BinaryKernel<DivOp>.self,
        BinaryKernel<PowOp>.self, BinaryKernel<PReluOp>.self,
        MatMulKernel.self, GemmKernel.self,
        TransposeKernel.self, ReshapeKernel.self, FlattenKernel.self, SqueezeKernel.self, ConcatKernel.self,
        SliceKernel.self, PadKernel.self, ResizeKernel.self, CastKernel.self, ConstantKernel.self,
        ConstantOfShapeKernel.self, ShapeKernel.self, GatherKernel.self, IdentityKernel.self,
        ReduceKernel.self, InstanceNormKernel.self, BatchNormKernel.self, QuantizeKernel.self, DequantizeKernel.self,
        ZeroPaddedAddKernel.self,
    ]

    /// domain → op type → kernel type.
    private static let table: [String: [String: any RegisteredKernel.Type]] = {
        var table: [String: [String: any RegisteredKernel.Type]] = [:]
        for kernel in kernels {
            for op in kernel.opTypes {
                precondition(table[kernel.domain]?[op] == nil, "op \(op) is registered twice")
                table[kernel.domain, default: [:]][op] = kernel
            }
        }
        return table
    }()

    /// The ONNX ops the runtime runs.
    static var supported: Set<String> { Set((table[""] ?? [:]).keys) }
    /// cnnpipe's own ops (domain `com.cnnpipe`).
    static var supportedCustom: Set<String> { Set((table[customDomain] ?? [:]).keys) }

    static func kernel(for node: Node, opset: Int) throws -> Kernel {
        let isONNX = node.domain.isEmpty || node.domain == "ai.onnx"
        guard let type = table[isONNX ? "" : node.domain]?[node.opType] else {
            let op = isONNX ? node.opType : "\(node.domain).\(node.opType)"
            throw ModelError("node '\(node.name)': op \(op) is not supported")
        }
        let a = AttributeReader(node)
        let k = try type.make(a, opset: opset)
        try a.finish()
        return k
    }
}
