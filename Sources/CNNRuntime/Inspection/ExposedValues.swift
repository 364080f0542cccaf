/// Running a model up to intermediate values: the graph's outputs replaced by any values its nodes
/// produce, so a `Session` computes exactly what they need (the rest is removed as dead nodes, and a
/// requested value is never fused away: a Conv's output stays its own value even when a Relu follows).
extension ModelGraph {
    /// Every value a node produces, in node order, with its producer.
    public var producedValues: [(value: String, node: Node)] {
        nodes.flatMap { n in n.outputs.filter { !$0.isEmpty }.map { ($0, n) } }
    }

    /// The value called `name`, or the first output of the node called `name`.
    public func resolveValue(_ name: String) throws -> String {
        if inputs.contains(where: { $0.name == name }) || initializers[name] != nil { return name }
        if nodes.contains(where: { $0.outputs.contains(name) }) { return name }
        if let node = nodes.first(where: { $0.name == name }), let first = node.outputs.first { return first }
        let similar = Self.similarNames(to: name, in: producedValues.map(\.value) + nodes.map(\.name))
        throw ModelError("no layer '\(name)' in \(self.name)"
            + (similar.isEmpty ? "; list them with: cnnpipe model layers MODEL" : "; similar: " + similar.joined(separator: ", ")))
    }

    /// The same model with `values` (value or node names) as its only outputs, in that order.
    public func exposing(_ values: [String]) throws -> ModelGraph {
        var copy = self
        copy.outputs = try values.map { ValueInfo(name: try resolveValue($0), elementType: nil, shape: nil) }
        return copy
    }

    /// Values computed from the graph inputs (not constants, not folded at load).
    public var inputDependentValues: Set<String> {
        var dependent = Set(inputs.map(\.name))
        for n in nodes where n.inputs.contains(where: dependent.contains) { dependent.formUnion(n.outputs) }
        return dependent
    }

    /// The values of constant subgraphs (weights dequantised at load, pads and scales computed by
    /// shape arithmetic), by name: a session folds them while preparing and runs nothing else.
    public func constantValues(_ names: [String]) throws -> [String: Tensor] {
        let dependent = inputDependentValues
        let wanted = Array(Set(names.filter { !$0.isEmpty && !dependent.contains($0) }))
        guard !wanted.isEmpty else { return [:] }
        var folding = self
        folding.outputs = wanted.map { ValueInfo(name: $0, elementType: nil, shape: nil) }
        let session = try Session(folding, threads: 1)
        session.acceptsAnyInputSize = true
        var feeds: [String: Tensor] = [:]
        for info in inputs {
            let dims = (info.shape ?? [1]).map { $0 ?? 1 }
            let n = dims.reduce(1, *)
            feeds[info.name] = info.elementType == .int64 ? Tensor(shape: dims, int64s: Array(repeating: 0, count: n))
                : Tensor(shape: dims, floats: Array(repeating: 0, count: n))
        }
        return try session.run(feeds)
    }

    /// Up to `limit` of `candidates` closest to `name`: those containing it (or contained in it)
    /// first, then by edit distance, case ignored.
    public static func similarNames(to name: String, in candidates: [String], limit: Int = 5) -> [String] {
        let key = name.lowercased()
        var seen = Set<String>()
        let unique = candidates.filter { seen.insert($0).inserted }
        let scored = unique.map { c -> (String, Int) in
            let l = c.lowercased()
            let contains = !key.isEmpty && (l.contains(key) || key.contains(l))
            return (c, contains ? min(0, editDistance(key, l) - 1000) : editDistance(key, l))
        }
        let threshold = max(3, key.count / 2)
        return scored.filter { $0.1 <= threshold }.sorted { $0.1 < $1.1 }.prefix(limit).map(\.0)
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
