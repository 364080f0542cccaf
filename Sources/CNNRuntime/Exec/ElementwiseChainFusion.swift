import Foundation

/// Finds runs of elementwise steps where each result is read only by the next step of the run
/// (and is no graph output) and makes each run of two or more one `ElementwiseChainKernel`, placed
/// where its last step ran (every operand exists by then).
extension Session {
    /// On unless CNNPIPE_CHAINS=0 (to measure against the unfused ops; tests flip it).
    nonisolated(unsafe) static var elementwiseChains = ProcessInfo.processInfo.environment["CNNPIPE_CHAINS"] != "0"

    func fuseElementwiseChains(_ input: [Step], constants: [Int: Tensor], keep: Set<Int>) -> [Step] {
        guard Self.elementwiseChains else { return input }
        var steps: [Step?] = input
        let readers = Self.readers(input).mapValues { Array(Set($0)) }
        func soleReader(_ v: Int) -> Int? {
            guard !keep.contains(v), let r = readers[v], r.count == 1 else { return nil }
            return r[0]
        }
        func chainable(_ s: Step) -> ChainableKernel? {
            guard s.outputs.count == 1, s.inputs.allSatisfy({ $0 != nil }) else { return nil }
            return s.kernel as? ChainableKernel
        }

        /// The step as a link of a chain whose running value is `value`; its other inputs join `inputs`
        /// (each slot once, found through `index`).
        func link(_ s: Step, _ kernel: ChainableKernel, value: Int, inputs: inout [Int?],
                  index: inout [Int: Int]) -> ElementwiseChainKernel.Link? {
            let positions = s.inputs.indices.filter { s.inputs[$0] == value }
            let (first, second, both) = (kernel.chainLink(valueAt: 0), kernel.chainLink(valueAt: 1), kernel.chainLink(valueAt: nil))
            switch (s.inputs.count, positions.count) {
            case (1, 1): guard first != nil else { return nil }
            case (2, 1): guard first != nil, second != nil else { return nil }
            case (2, 2): guard both != nil else { return nil }
            default: return nil
            }
            let mapped: [Int?] = s.inputs.map { slot in
                guard let slot, slot != value else { return nil }
                if let k = index[slot] { return k }
                inputs.append(slot)
                index[slot] = inputs.count - 1
                return inputs.count - 1
            }
            return .init(kernel: s.kernel, inputs: mapped, valueFirst: first, valueSecond: second, valueBoth: both)
        }

        for i in steps.indices {
            guard let start = steps[i], let kernel = chainable(start), let x = start.inputs.first ?? nil else { continue }
            var inputs: [Int?] = [x], index: [Int: Int] = [:]
            guard let first = link(start, kernel, value: x, inputs: &inputs, index: &index) else { continue }
            var links = [first], members = [i], value = start.outputs[0]
            while let j = soleReader(value), let next = steps[j], let k = chainable(next),
                  let l = link(next, k, value: value, inputs: &inputs, index: &index) {
                value = next.outputs[0]
                links.append(l)
                members.append(j)
            }
            // A QuantizeLinear after the last op: the chain writes its 8-bit result.
            var quantization: ElementwiseChainKernel.OutputQuantization?
            if let j = soleReader(value), let q = steps[j], let (scale, zeroPoint) = perTensorQuantization(q, constants),
               q.inputs.first == value {
                quantization = .init(kernel: q.kernel, scale: scale, zeroPoint: zeroPoint)
                members.append(j)
            }
            guard links.count >= 2 || quantization != nil, let last = members.last, let end = steps[last] else { continue }
            for m in members { steps[m] = nil }
            let chain = ElementwiseChainKernel(links: links, quantization: quantization)
            steps[last] = Step(node: end.node, kernel: chain, inputs: inputs, outputs: end.outputs)
            report.fusedElementwiseOps += members.count
        }
        return steps.compactMap { $0 }
    }

    /// A reflect or edge Pad whose only reader is a per-tensor QuantizeLinear feeding int8 convolutions
    /// becomes the QuantizeLinear, then the Pad on the 8-bit values: the same bytes (padding copies
    /// values, and quantising is per element), with the border work on a quarter of the memory. The
    /// QuantizeLinear can then join the elementwise chain before it.
    func quantizeBeforePads(_ input: [Step], constants: [Int: Tensor], keep: Set<Int>) -> [Step] {
        guard Self.elementwiseChains else { return input }
        var steps = input
        let readers = Self.readers(input)
        // The DequantizeLinear a fused convolution read from is still here (dead steps go later).
        func isDead(_ s: Step) -> Bool { s.outputs.allSatisfy { readers[$0] == nil && !keep.contains($0) } }
        for (i, pad) in input.enumerated() {
            guard let padKernel = pad.kernel as? PadKernel, padKernel.mode != "constant", let padded = pad.outputs.first,
                  pad.outputs.count == 1, !keep.contains(padded), let r = readers[padded], r.count == 1, let j = r.first,
                  perTensorQuantization(steps[j], constants) != nil, steps[j].inputs.first == padded,
                  let users = readers[steps[j].outputs[0]],
                  users.allSatisfy({ steps[$0].kernel is QuantizedConvKernel || isDead(steps[$0]) }) else { continue }
            let q = steps[j], unpadded = slot(q.node.outputs[0] + "#before-pad")
            steps[i] = Step(node: q.node, kernel: q.kernel, inputs: [pad.inputs[0]] + q.inputs.dropFirst(), outputs: [unpadded])
            steps[j] = Step(node: pad.node, kernel: pad.kernel, inputs: [unpadded] + pad.inputs.dropFirst(), outputs: q.outputs)
            report.quantizedBeforePads += 1
        }
        return steps
    }

    /// The scale and zero point of a QuantizeLinear step with one of each, both constant.
    func perTensorQuantization(_ step: Step, _ constants: [Int: Tensor]) -> (scale: Tensor, zeroPoint: Tensor)? {
        guard step.kernel is QuantizeKernel, step.inputs.count == 3, let s = step.inputs[1], let z = step.inputs[2],
              let scale = constants[s], let zeroPoint = constants[z], scale.count == 1, zeroPoint.count == 1,
              scale.elementType == .float, zeroPoint.elementType == .int8 || zeroPoint.elementType == .uint8 else { return nil }
        return (scale, zeroPoint)
    }
}
