import CConvKernels

/// A run of elementwise ops where each result feeds only the next op (a decomposed norm's
/// x − mean, ·scale, +shift, fake quantisations and Relu between them), done in one pass: every op
/// runs on one block of the input while it is in cache, and only the last writes to the output,
/// instead of one full read and write per op. Every op computes exactly what
/// its own kernel computes (the same per-element functions), so the output is bit-identical.
///
/// The other operand of a binary op may be a scalar, one value per (batch, channel) plane, or a
/// tensor of the running value's shape. Where the operand is the larger one (a per-channel value
/// meeting the feature map), the operand becomes the running value from there on; any other
/// broadcast runs that op's own kernel; integer tensors run every op's own kernel.
struct ElementwiseChainKernel: Kernel {
    /// One op of the chain.
    struct Link {
        /// The op's node, named in its errors.
        let node: Node
        let kernel: Kernel
        /// For each of the op's inputs, the chain kernel's input holding it; nil = the running value.
        let inputs: [Int?]
        /// The op on a run of the running value at input 0, at input 1 (binary ops), or at both (op(v, v)).
        let valueFirst: ChainLinkFunction?, valueSecond: ChainLinkFunction?, valueBoth: ChainLinkFunction?
        /// The functions hold only where both operands have the same shape (else the op's own kernel runs).
        var sameShapeOnly = false
    }

    /// A per-tensor QuantizeLinear after the last op: the chain's result is its int8 / uint8 tensor
    /// (the constants are kept here, not as inputs, so the fused loop sees only float inputs).
    struct OutputQuantization {
        let kernel: Kernel
        let scale: Tensor, zeroPoint: Tensor
        var signed: Bool { zeroPoint.elementType == .int8 }
    }

    /// The running value starts as input 0; every other input is an operand of some link.
    let links: [Link]
    var quantization: OutputQuantization? = nil
    /// A GlobalAveragePool after the last op (a norm's variance): the chain returns the per-plane means
    /// and never writes the map.
    var averages: Kernel? = nil

    /// Elements of one block: small enough to stay in L1 across the chain.
    static let block = 4096

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        guard inputs.allSatisfy({ $0?.elementType == .float }) else { return [try runUnfused(inputs, ctx)] }
        var segment = Segment(start: try inputs.required(0, "elementwise chain"))
        for link in links {
            let operands = link.inputs.map { $0.map { inputs[$0]! } }
            switch (link.inputs.count, operands.first ?? nil, operands.last ?? nil) {
            case (1, nil, _): segment.links.append((link.valueFirst!, nil))
            case (2, nil, nil): segment.links.append((link.valueBoth!, nil))
            case (2, _, _):
                let position = operands[0] == nil ? 0 : 1, t = operands[1 - position]!
                let own = position == 0 ? link.valueFirst! : link.valueSecond!
                let swapped = position == 0 ? link.valueSecond! : link.valueFirst!
                let linkApplies = !link.sameShapeOnly || t.shape == segment.start.shape
                if linkApplies, let placement = Segment.placement(of: t.shape, in: segment.start.shape) {
                    segment.links.append((own, (t, placement)))
                } else if linkApplies, let placement = Segment.placement(of: segment.start.shape, in: t.shape) {
                    // The operand is the larger one (x − mean after the mean's own ops): it becomes the running value.
                    let value = try segment.result(ctx)
                    segment = Segment(start: t)
                    segment.links.append((swapped, (value, placement)))
                } else {
                    let value = try segment.result(ctx)
                    segment = Segment(start: try link.run(operands.map { $0 ?? value }, ctx))
                }
            default: throw ModelError("elementwise chain: a link with \(link.inputs.count) inputs")
            }
        }
        if let pool = averages { return [try segment.means(ctx, pool)] }
        return [try segment.result(ctx, quantization)]
    }

    /// The original kernels in order (integer tensors).
    private func runUnfused(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> Tensor {
        var value = try inputs.required(0, "elementwise chain")
        for link in links {
            value = try link.run(link.inputs.map { $0.map { inputs[$0] } ?? value }, ctx)
        }
        if let q = quantization { value = try q.kernel.run([value, q.scale, q.zeroPoint], ctx)[0] }
        if let pool = averages { value = try pool.run([value], ctx)[0] }
        return value
    }

    /// Where an operand's values are relative to the running value's planes (batch × channel).
    enum Placement: Equatable { case scalar, perPlane(batchStride: Int, channelStride: Int), full }

    /// A start tensor and the links applied to it in one blocked pass.
    private struct Segment {
        let start: Tensor
        var links: [(apply: ChainLinkFunction, operand: (tensor: Tensor, placement: Placement)?)] = []

        init(start: Tensor) { self.start = start }

        /// How `shape` broadcasts over `target` without changing it, or nil.
        static func placement(of shape: [Int], in target: [Int]) -> Placement? {
            guard broadcastShape(target, shape) == target else { return nil }
            if shape == target { return .full }
            let s = broadcastStrides(shape, to: target)
            if s.allSatisfy({ $0 == 0 }) { return .scalar }
            guard target.count >= 2, s[2...].allSatisfy({ $0 == 0 }) else { return nil }
            return .perPlane(batchStride: s[0], channelStride: s[1])
        }

        /// The links run over every block; the last one writes the output, or with `quantization`
        /// a scratch block that is then quantised into the 8-bit output.
        func result(_ ctx: ExecutionContext, _ quantization: OutputQuantization? = nil) throws -> Tensor {
            guard let q = quantization else {
                if links.isEmpty { return start }           // the result of an op run by its own kernel
                let out = try ctx.tensor(start.shape)
                try run(ctx, writing: out.buffer.pointer, finish: nil)
                return out
            }
            let scale = q.scale.floats[0], zeroPoint = Int32(q.zeroPoint.int64s.first ?? 0)
            func quantized<T: FixedWidthInteger>(_: T.Type) throws -> [T] {
                try [T](unsafeUninitializedCapacity: start.count) { o, initialized in
                    let o = o.baseAddress!
                    try run(ctx, writing: nil) { offset, n, values in
                        Quantization.quantize(values, o + offset, count: n, scale: scale, zeroPoint: zeroPoint)
                    }
                    initialized = start.count
                }
            }
            return Tensor(shape: start.shape, storage: q.signed ? .int8(try quantized(Int8.self)) : .uint8(try quantized(UInt8.self)))
        }

        /// GlobalAveragePool of the result without writing it: each plane's blocks in order on one thread,
        /// summed in Double lanes exactly as `accurateSum` does over the whole plane (blocks are multiples
        /// of 8 values, the leftover comes last), so the means are bit-identical to the pool's. Tiled
        /// inference (whole-image statistics) and unusual shapes go through the pool itself.
        func means(_ ctx: ExecutionContext, _ pool: Kernel) throws -> Tensor {
            let shape = start.shape
            guard ctx.statistics == nil, shape.count >= 3, start.count > 0 else { return try pool.run([try result(ctx)], ctx)[0] }
            let planes = shape[0] * shape[1], size = start.count / planes
            let out = try ctx.tensor(Array(shape[..<2]) + Array(repeating: 1, count: shape.count - 2))
            let o = out.buffer.pointer
            var lanes = [Double](repeating: 0, count: 8 * planes)
            try lanes.withUnsafeMutableBufferPointer { lanes in
                let lanes = lanes.baseAddress!
                try run(ctx, writing: nil, planeByPlane: true) { offset, n, p in
                    let plane = offset / size, planeLanes = lanes + 8 * plane
                    var i = cp_add_to_lanes(p, n, planeLanes, DirectConv.isa)
                    guard offset + n == (plane + 1) * size else { return }
                    var sum = -0.0
                    for k in 0..<8 { sum += planeLanes[k] }
                    while i < n { sum += Double(p[i]); i += 1 }
                    o[plane] = Float(sum / Double(size))
                }
            }
            return out
        }

        private func run(_ ctx: ExecutionContext, writing o: UnsafeMutablePointer<Float>?, planeByPlane: Bool = false,
                         finish: ((_ offset: Int, _ count: Int, _ values: UnsafePointer<Float>) -> Void)?) throws {
            let shape = start.shape
            if start.count == 0 { return }
            let planes = shape.count >= 2 ? shape[0] * shape[1] : 1, channels = shape.count >= 2 ? shape[1] : 1
            let planeSize = start.count / planes
            let source = try start.floatData()
            let operands = try links.map { try $0.operand.map { (try $0.tensor.floatData(), $0.placement) } }
            let block = min(ElementwiseChainKernel.block, planeSize), blocksPerPlane = (planeSize + block - 1) / block
            let links = self.links, last = links.count - 1
            // Plane by plane: a plane's blocks in order on one thread (for `means`); else any block anywhere.
            let (count, per) = planeByPlane ? (planes, blocksPerPlane) : (planes * blocksPerPlane, 1)
            ctx.parallel(count, minimumPerThread: max(1, 32_768 / (block * per))) { range in
                let items = range.lowerBound * per..<range.upperBound * per
                // Each op reads one buffer and writes another (in place, the compiler's overlap check
                // would send every loop down its scalar path): two scratch blocks, the last op writes the output.
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * block) { scratch in
                    let buffers = [scratch.baseAddress!, scratch.baseAddress! + block]
                    for item in items {
                        let plane = item / blocksPerPlane, begin = (item % blocksPerPlane) * block
                        let n = min(block, planeSize - begin), offset = plane * planeSize + begin
                        var input = UnsafePointer(source + offset)
                        for (l, link) in links.enumerated() {
                            let output = l == last && o != nil ? o! + offset : buffers[l % 2]
                            defer { input = UnsafePointer(output) }
                            guard let (p, placement) = operands[l] else { link.apply(input, output, n, nil, 0); continue }
                            switch placement {
                            case .scalar: link.apply(input, output, n, p, 0)
                            case .full: link.apply(input, output, n, p + offset, 1)
                            case .perPlane(let sb, let sc):
                                link.apply(input, output, n, p + (plane / channels) * sb + (plane % channels) * sc, 0)
                            }
                        }
                        finish?(offset, n, input)
                    }
                }
            }
        }
    }
}

/// An elementwise op on `count` values of the chain, from `value` to `result` (never the same
/// memory); `operand` (stride 0 or 1) is its other input, or nil.
typealias ChainLinkFunction = (_ value: UnsafePointer<Float>, _ result: UnsafeMutablePointer<Float>, _ count: Int,
                               _ operand: UnsafePointer<Float>?, _ operandStride: Int) -> Void

/// A kernel that can be one op of an elementwise chain.
protocol ChainableKernel: Kernel {
    /// The op as a function of the chain value at input `position` (nil: at every input,
    /// as in Mul(v, v)), or nil when it cannot be a link.
    func chainLink(valueAt position: Int?) -> ChainLinkFunction?
    /// Whether the link functions need both operands of the same shape (no broadcasting).
    var chainsOnlySameShapes: Bool { get }
}

extension ChainableKernel {
    var chainsOnlySameShapes: Bool { false }
}

// The link functions are made with the op type spelled out: from the generic kernel (called
// through the protocol) `Op.apply` would be a call per element instead of one vector instruction.

extension BinaryKernel: ChainableKernel {
    func chainLink(valueAt position: Int?) -> ChainLinkFunction? {
        guard legacyAxis == nil else { return nil }
        switch Op.self {
        case is AddOp.Type: return binaryLink(AddOp.self, position)
        case is SubOp.Type: return binaryLink(SubOp.self, position)
        case is MulOp.Type: return binaryLink(MulOp.self, position)
        case is DivOp.Type: return binaryLink(DivOp.self, position)
        default: return nil
        }
    }
}

private func binaryLink<Op: BinaryFloatOp>(_: Op.Type, _ position: Int?) -> ChainLinkFunction? {
    switch position {
    case nil: return { v, o, n, _, _ in BinaryKernel<Op>.loop(v, 1, v, 1, o, n) }
    case 0: return { v, o, n, b, sb in BinaryKernel<Op>.loop(v, 1, b!, sb, o, n) }
    case 1: return { v, o, n, a, sa in BinaryKernel<Op>.loop(a!, sa, v, 1, o, n) }
    default: return nil
    }
}

/// dlib's add_prev: a plain Add where the shapes agree (every residual block but the downsampling ones).
extension ZeroPaddedAddKernel: ChainableKernel {
    func chainLink(valueAt position: Int?) -> ChainLinkFunction? { binaryLink(AddOp.self, position) }
    var chainsOnlySameShapes: Bool { true }
}

extension UnaryKernel: ChainableKernel {
    func chainLink(valueAt position: Int?) -> ChainLinkFunction? {
        guard position == 0 else { return nil }
        switch Op.self {
        case is ReluOp.Type: return { v, o, n, _, _ in ReluOp.apply(v, o, count: n) }
        case is SqrtOp.Type: return unaryLink(SqrtOp.self)
        case is ReciprocalOp.Type: return unaryLink(ReciprocalOp.self)
        case is NegOp.Type: return unaryLink(NegOp.self)
        case is AbsOp.Type: return unaryLink(AbsOp.self)
        case is SigmoidOp.Type: return { v, o, n, _, _ in SigmoidOp.apply(v, o, count: n) }
        default: return nil
        }
    }
}

private func unaryLink<Op: UnaryFloatOp>(_: Op.Type) -> ChainLinkFunction {
    { v, o, n, _, _ in for i in 0..<n { o[i] = Op.apply(v[i]) } }
}

extension FakeQuantKernel: ChainableKernel {
    func chainLink(valueAt position: Int?) -> ChainLinkFunction? {
        guard position == 0 else { return nil }
        return { v, o, n, _, _ in apply(v, o, count: n) }
    }
}

extension ElementwiseChainKernel.Link {
    /// The op's own kernel; an error names the op within the chain.
    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> Tensor {
        do { return try kernel.run(inputs, ctx)[0] } catch {
            throw ModelError("op '\(node.name)' (\(node.opType)) of an elementwise chain: \(error)")
        }
    }
}
