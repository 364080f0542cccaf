import Foundation

/// Finds runs of elementwise steps where each result is read only by the next step of the run
/// (and is no graph output) and makes each run of two or more one `ElementwiseChainKernel`, placed
/// where its last step ran (every operand exists by then).
extension Session {
    /// On unless CNNPIPE_CHAINS=0 (to measure against the unfused ops; tests flip it).
    nonisolated(unsafe) static var elementwiseChains = ProcessInfo.processInfo.environment["CNNPIPE_CHAINS"] != "0"

    func fuseElementwiseChains(_ input: [Step], keep: Set<Int>) -> [Step] {
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

        /// The step as a link of a chain whose running value is `value`, its other inputs appended to `inputs`.
        func link(_ s: Step, _ kernel: ChainableKernel, value: Int, inputs: inout [Int?]) -> ElementwiseChainKernel.Link? {
            let positions = s.inputs.indices.filter { s.inputs[$0] == value }
            guard !positions.isEmpty, s.inputs.count <= 2 else { return nil }
            let link = ElementwiseChainKernel.Link(
                kernel: s.kernel,
                inputs: s.inputs.map { slot in
                    guard slot != value else { return nil }
                    inputs.append(slot)
                    return inputs.count - 1
                },
                valueFirst: kernel.chainLink(valueAt: 0), valueSecond: kernel.chainLink(valueAt: 1),
                valueBoth: kernel.chainLink(valueAt: nil))
            switch (s.inputs.count, positions.count) {
            case (1, 1): return link.valueFirst == nil ? nil : link
            case (2, 1): return link.valueFirst == nil || link.valueSecond == nil ? nil : link
            case (2, 2): return link.valueBoth == nil ? nil : link
            default: return nil
            }
        }

        for i in steps.indices {
            guard let start = steps[i], let kernel = chainable(start), let x = start.inputs.first ?? nil else { continue }
            var inputs: [Int?] = [x]
            guard let first = link(start, kernel, value: x, inputs: &inputs) else { continue }
            var links = [first], members = [i], value = start.outputs[0]
            while let j = soleReader(value), let next = steps[j], let k = chainable(next) {
                var extended = inputs
                guard let l = link(next, k, value: value, inputs: &extended) else { break }
                (inputs, value) = (extended, next.outputs[0])
                links.append(l)
                members.append(j)
            }
            guard links.count >= 2, let last = members.last, let end = steps[last] else { continue }
            for m in members { steps[m] = nil }
            steps[last] = Step(node: end.node, kernel: ElementwiseChainKernel(links: links), inputs: inputs, outputs: end.outputs)
            report.fusedElementwiseOps += members.count
        }
        return steps.compactMap { $0 }
    }
}
