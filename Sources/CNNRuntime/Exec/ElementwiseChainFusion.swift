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
            return .init(node: s.node, kernel: s.kernel, inputs: mapped, valueFirst: first, valueSecond: second, valueBoth: both,
                         sameShapeOnly: kernel.chainsOnlySameShapes)
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
            // Or a GlobalAveragePool: the chain returns the means.
            var averages: Kernel?
            if quantization == nil, let j = soleReader(value), let pool = steps[j], let kernel = pool.kernel as? GlobalPoolKernel,
               !kernel.isMax, pool.inputs == [value] {
                averages = kernel
                members.append(j)
            }
            guard links.count >= 2 || quantization != nil || averages != nil, let last = members.last, let end = steps[last] else { continue }
            for m in members { steps[m] = nil }
            let chain = ElementwiseChainKernel(links: links, quantization: quantization, averages: averages)
            steps[last] = Step(node: end.node, kernel: chain, inputs: inputs, outputs: end.outputs)
            report.fusedElementwiseOps += members.count
        }
        return steps.compactMap { $0 }
    }

    /// A per-tensor QuantizeLinear feeding int8 convolutions is moved before the ops that only copy
    /// values into it (a reflect or edge Pad, a nearest Resize: the upsample-and-pad before each of the
    /// Magenta transformer's convolutions): the same bytes, since quantising is per element, with the
    /// copies moving a quarter of the memory and the QuantizeLinear reading the smaller map, where the
    /// elementwise chain before it can take it in.
    func quantizeBeforeCopies(_ input: [Step], constants: [Int: Tensor], keep: Set<Int>) -> [Step] {
        guard Self.elementwiseChains else { return input }
        var steps = input
        let readers = Self.readers(input), producer = Self.producers(input)
        // The DequantizeLinear a fused convolution read from is still here (dead steps go later).
        func isDead(_ s: Step) -> Bool { s.outputs.allSatisfy { readers[$0] == nil && !keep.contains($0) } }
        func copiesValues(_ s: Step) -> Bool {
            guard s.outputs.count == 1, s.inputs.dropFirst().allSatisfy({ $0 == nil || constants[$0!] != nil }) else { return false }
            if let pad = s.kernel as? PadKernel { return pad.mode != "constant" }
            if let resize = s.kernel as? ResizeKernel { return resize.mode == "nearest" }
            return false
        }
        for (j, q) in input.enumerated() {
            guard perTensorQuantization(q, constants) != nil, let v = q.inputs[0], let users = readers[q.outputs[0]],
                  users.allSatisfy({ steps[$0].kernel is QuantizedConvKernel || isDead(steps[$0]) }) else { continue }
            // The copies between the QuantizeLinear and the value it should quantise, nearest first.
            var copies: [Int] = [], value = v
            while !keep.contains(value), readers[value]?.count == 1, let p = producer[value], copiesValues(input[p]),
                  let before = input[p].inputs[0] {
                copies.append(p)
                value = before
            }
            guard !copies.isEmpty else { continue }
            // Quantise first (where the earliest copy ran), then each copy on the 8-bit values in the same order.
            var current = newSlot(q.node.outputs[0] + "#before-copies")
            steps[copies.last!] = Step(node: q.node, kernel: q.kernel, inputs: [value] + q.inputs.dropFirst(), outputs: [current])
            let order = Array(copies.reversed()), places = Array(copies.reversed().dropFirst()) + [j]
            for (k, (c, place)) in zip(order, places).enumerated() {
                let copy = input[c]
                let output = k == order.count - 1 ? q.outputs[0] : newSlot(copy.node.outputs[0] + "#8-bit")
                steps[place] = Step(node: copy.node, kernel: copy.kernel, inputs: [current] + copy.inputs.dropFirst(), outputs: [output])
                current = output
            }
            report.quantizedBeforeCopies += copies.count
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
