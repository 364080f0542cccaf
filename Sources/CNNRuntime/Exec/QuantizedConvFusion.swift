import Foundation

/// Finds the QDQ convolution of quantised models:
///
///     x = DequantizeLinear(x_q, s_x, z_x)     w = DequantizeLinear(w_q, s_w, 0)   b = DequantizeLinear(b_q, s_b, 0)
///     y = Conv(x, w, b)  [Relu | Clip]        y_q = QuantizeLinear(y, s_y, z_y)
///
/// and runs it as one `QuantizedConvKernel` from x_q to y_q (integer arithmetic on oneDNN). The weight
/// and bias dequantisations were folded to constants already; their int8/int32 sources are read from
/// the graph. Anything that does not fit (asymmetric or uint8 weights, a
/// per-tensor/axis mix-up, more users of the float result) stays as it was. A bias quantised on its own
/// scale s_b ≠ s_x·s_w is rescaled to accumulator units in float.
extension Session {
    /// On unless CNNPIPE_INT8=0; needs oneDNN 2.x with an exact (VNNI or AMX) int8 convolution.
    nonisolated(unsafe) static var integerConvolutions: Bool = {
        let off = ProcessInfo.processInfo.environment["CNNPIPE_INT8"] == "0"
        return !off && DNNLQuantizedConvolution.exactOnThisCPU
    }()

    func fuseQuantizedConvolutions(_ input: [Step], constants: [Int: Tensor], keep: Set<Int>) -> [Step] {
        guard Self.integerConvolutions else { return input }
        var steps: [Step?] = input
        var consumers = Self.readers(input)
        let producer = Self.producers(input)
        // The graph's own node for each value, folded ones included (weight and bias dequantisations).
        var graphProducer: [Int: Node] = [:]
        for node in graph.nodes { for name in node.outputs { if let s = slots[name] { graphProducer[s] = node } } }
        func users(_ v: Int) -> [Int] { (consumers[v] ?? []).filter { steps[$0] != nil } }
        func only(_ v: Int) -> Int? {
            let u = users(v)
            return !keep.contains(v) && u.count == 1 ? u[0] : nil
        }
        func constant(_ name: String?) -> Tensor? { name.flatMap { slots[$0] }.flatMap { constants[$0] } }
        /// Scale and zero point tensors of a QuantizeLinear / DequantizeLinear node.
        func quantization(_ node: Node) -> (scale: Tensor, zeroPoint: Tensor?)? {
            guard node.inputs.count >= 2, let s = constant(node.inputs[1]), s.elementType == .float else { return nil }
            let z = node.inputs.count > 2 && !node.inputs[2].isEmpty ? constant(node.inputs[2]) : nil
            if node.inputs.count > 2, !node.inputs[2].isEmpty, z == nil { return nil }
            return (s, z)
        }
        func axis(_ node: Node) -> Int {
            if case .int(let a)? = node.attributes["axis"] { return a }
            return 1
        }

        for i in steps.indices {
            guard let step = steps[i], let conv = step.kernel as? ConvKernel,
                  case .none = conv.activation, step.inputs.count >= 2, let xf = step.inputs[0], let wf = step.inputs[1],
                  let floatWeights = constants[wf], !keep.contains(step.outputs[0]) else { continue }
            // Input: a DequantizeLinear step with one scale and zero point.
            guard let d = producer[xf], let dq = steps[d], dq.kernel is DequantizeKernel, let xq = dq.inputs[0],
                  let (sx, zx) = quantization(dq.node), sx.count == 1, (zx?.count ?? 1) == 1 else { continue }
            let inputSigned = zx?.elementType == .int8
            // Weights: int8, symmetric, one scale per output channel (or one for all).
            guard let wNode = graphProducer[wf], wNode.opType == "DequantizeLinear", let wq = constant(wNode.inputs.first),
                  case .int8(let weights) = wq.storage, wq.shape.count == 4,
                  let (sw, zw) = quantization(wNode), zw.map({ $0.int64s.allSatisfy { $0 == 0 } }) ?? true,
                  sw.count == 1 || (sw.count == wq.shape[0] && (axis(wNode) == 0 || axis(wNode) == -4)) else { continue }
            let m = wq.shape[0]
            let weightScales = sw.count == 1 ? Array(repeating: sw.floats[0], count: m) : sw.floats
            let inputScale = sx.floats[0]
            // Bias: int32 with zero point 0, brought to accumulator units (scale s_x·s_w[m]).
            var bias: [Float]?
            var floatBias: Tensor?
            if step.inputs.count > 2, let bf = step.inputs[2] {
                guard let bNode = graphProducer[bf], bNode.opType == "DequantizeLinear", let bq = constant(bNode.inputs.first),
                      case .int32(let b) = bq.storage, b.count == m, let (sb, zb) = quantization(bNode),
                      zb.map({ $0.int64s.allSatisfy { $0 == 0 } }) ?? true, sb.count == m || sb.count == 1 else { continue }
                let biasScales = sb.count == 1 ? Array(repeating: sb.floats[0], count: m) : sb.floats
                bias = (0..<m).map { c in
                    let accumulatorScale = inputScale * weightScales[c]
                    if biasScales[c] == accumulatorScale { return Float(b[c]) }
                    return Float(Double(b[c]) * Double(biasScales[c]) / Double(accumulatorScale))
                }
                floatBias = constants[bf]
            }
            // Output: [Relu | Clip] then a QuantizeLinear with one scale and zero point.
            guard var next = only(step.outputs[0]) else { continue }
            var activation = Activation.none
            var fusedAway = [i]
            let a = steps[next]!
            if a.kernel is UnaryKernel<ReluOp> || a.kernel is ClipKernel {
                if let k = a.kernel as? ClipKernel {
                    let bound: (Int) -> Float?? = { j in
                        guard a.inputs.count > j, let s = a.inputs[j] else { return .some(nil) }
                        return constants[s].map { $0.floats.first }
                    }
                    guard case .some(let lo) = bound(1), case .some(let hi) = bound(2) else { continue }
                    activation = .clip(lo ?? k.attributeMin, hi ?? k.attributeMax)
                } else {
                    activation = .relu
                }
                fusedAway.append(next)
                guard let after = only(a.outputs[0]) else { continue }
                next = after
            }
            guard let q = steps[next], q.kernel is QuantizeKernel, q.inputs.first == steps[fusedAway.last!]!.outputs[0],
                  let (sy, zy) = quantization(q.node), sy.count == 1, (zy?.count ?? 1) == 1 else { continue }
            let outputScale = sy.floats[0]
            let clamp: (low: Float, high: Float)?
            switch activation {
            case .none: clamp = nil
            case .relu: clamp = (0, .greatestFiniteMagnitude)
            case .clip(let lo, let hi): clamp = (lo / outputScale, hi / outputScale)
            }
            let parameters = QuantizedConvParameters(
                weights: weights, weightShape: wq.shape, bias: bias,
                outputScales: weightScales.map { inputScale * $0 / outputScale },
                inputZeroPoint: Int32(zx?.int64s[0] ?? 0), outputZeroPoint: Int32(zy?.int64s[0] ?? 0),
                inputSigned: inputSigned, outputSigned: zy?.elementType == .int8, group: conv.group, clamp: clamp)
            var floatConv = conv
            floatConv.activation = activation
            let kernel = QuantizedConvKernel(conv: floatConv, parameters: parameters, floatWeights: floatWeights, floatBias: floatBias,
                                             input: (inputScale, parameters.inputZeroPoint),
                                             output: (outputScale, parameters.outputZeroPoint))
            // The fused step runs where the QuantizeLinear ran; x_q exists before the Conv did.
            steps[next] = Step(node: step.node, kernel: kernel, inputs: [xq], outputs: q.outputs)
            consumers[xq, default: []].append(next)
            for j in fusedAway { steps[j] = nil }
            report.fusedQuantizedConvolutions += 1
        }
        return steps.compactMap { $0 }
    }

    /// A value that only fused convolutions read (and that is no graph output) stays in NHWC byte order
    /// from its producing fused convolution on: no reorder to NCHW and back between the two.
    func chainChannelsLast(_ input: [Step], keep: Set<Int>) -> [Step] {
        var steps = input
        let readers = Self.readers(steps)
        for i in steps.indices {
            guard var producer = steps[i].kernel as? QuantizedConvKernel, let v = steps[i].outputs.first, !keep.contains(v),
                  let users = readers[v], !users.isEmpty,
                  users.allSatisfy({ steps[$0].kernel is QuantizedConvKernel && steps[$0].inputs == [v] }) else { continue }
            producer.outputChannelsLast = true
            steps[i] = Step(node: steps[i].node, kernel: producer, inputs: steps[i].inputs, outputs: steps[i].outputs)
            for j in users {
                var reader = steps[j].kernel as! QuantizedConvKernel
                reader.inputChannelsLast = true
                steps[j] = Step(node: steps[j].node, kernel: reader, inputs: steps[j].inputs, outputs: steps[j].outputs)
            }
        }
        return steps
    }
}
