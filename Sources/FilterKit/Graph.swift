/// A validated filter graph: nodes in an order where every node comes after its inputs.
public struct Graph: @unchecked Sendable {
    public struct Connection: Sendable, Equatable {
        /// nil = the input image stream
        public let node: Int?
        public let pad: Int
    }

    public struct Node: @unchecked Sendable {
        public let id: String
        public let definition: StageDefinition
        /// Normalised values in the order of definition.params.
        public let values: [String]
        public let inputs: [Connection]
    }

    public let nodes: [Node]
    public let output: Connection
    public let description: String?

    /// Checks everything that can be checked before an image is read: stages, parameters,
    /// inputs, pads and cycles. Every error names the file, line and column.
    public static func build(_ preset: Preset, stages: [String: StageDefinition]) throws -> Graph {
        var specs = preset.nodes
        // Fill in default inputs: the previous node, or the stream for the first.
        for i in specs.indices where specs[i].inputs == nil {
            let at = specs[i].location
            specs[i].inputs = [InputRef(node: i == 0 ? "input" : specs[i - 1].id, pad: nil, location: at)]
        }
        let ids = specs.map(\.id)
        var definitions: [StageDefinition] = []
        var values: [[String]] = []
        for spec in specs {
            guard let def = stages[spec.stage.value] else {
                throw PresetError(location: spec.stage.location,
                                  message: "unknown stage '\(spec.stage.value)'\(suggestion(spec.stage.value, among: Array(stages.keys)))")
            }
            definitions.append(def)
            values.append(try validateParams(spec, def))
            let count = spec.inputs!.count
            if def.hasVariadicInputs ? count < 1 : count != def.inputs.count {
                let want = def.hasVariadicInputs ? "one or more inputs" :
                    "\(def.inputs.count) input\(def.inputs.count == 1 ? "" : "s") (\(def.inputs.joined(separator: ", ")))"
                throw PresetError(location: spec.location, message: "node '\(spec.id)': stage \(def.name) takes \(want), got \(count)")
            }
        }
        // Resolve connections by id.
        func connection(_ ref: InputRef) throws -> (Int?, Int) {
            if ref.node == "input" {
                guard ref.pad == nil else { throw PresetError(location: ref.location, message: "'input' has no pads") }
                return (nil, 0)
            }
            guard let n = ids.firstIndex(of: ref.node) else {
                throw PresetError(location: ref.location,
                                  message: "no node '\(ref.node)'\(suggestion(ref.node, among: ids + ["input"]))")
            }
            let outs = definitions[n].outputs
            guard let padName = ref.pad else {
                guard !outs.isEmpty else { throw PresetError(location: ref.location, message: "node '\(ref.node)' has no output pads") }
                return (n, 0)
            }
            guard let pad = outs.firstIndex(of: padName) else {
                throw PresetError(location: ref.location,
                                  message: "node '\(ref.node)' (\(definitions[n].name)) has no output pad '\(padName)' (pads: \(outs.joined(separator: ", ")))")
            }
            return (n, pad)
        }
        let edges = try specs.map { try $0.inputs!.map(connection) }
        let order = try topologicalOrder(edges: edges, specs: specs)
        var position = [Int: Int]()
        for (p, n) in order.enumerated() { position[n] = p }
        let nodes = order.map { n in
            Node(id: specs[n].id, definition: definitions[n], values: values[n],
                 inputs: edges[n].map { Connection(node: $0.0.map { position[$0]! }, pad: $0.1) })
        }
        // The output: as written, or the one node nobody consumes.
        let output: Connection
        if let ref = preset.output {
            let (n, pad) = try connection(ref)
            output = Connection(node: n.map { position[$0]! }, pad: pad)
        } else {
            let consumed = Set(edges.flatMap { $0.compactMap(\.0) })
            let sinks = specs.indices.filter { !consumed.contains($0) }
            guard sinks.count == 1 else {
                throw PresetError(location: SourceLocation(file: preset.file, line: 1, column: 1),
                                  message: "several nodes end the graph (\(sinks.map { ids[$0] }.joined(separator: ", "))); say which with 'output:'")
            }
            output = Connection(node: position[sinks[0]]!, pad: 0)
        }
        return Graph(nodes: nodes, output: output, description: preset.description)
    }

    private static func validateParams(_ spec: NodeSpec, _ def: StageDefinition) throws -> [String] {
        var given: [String: String] = [:]
        for (name, value) in spec.params {
            guard let param = def.param(name.value) else {
                throw PresetError(location: name.location,
                                  message: "stage \(def.name) has no parameter '\(name.value)'\(suggestion(name.value, among: def.params.map(\.name)))")
            }
            let text = param.isFilePath ? resolvingFilePaths(value) : value.value
            switch param.normalise(text) {
            case .success(let v): given[param.name] = v
            case .failure(let e): throw PresetError(location: value.location, message: "\(def.name): \(e)")
            }
        }
        return try def.params.map { p in
            if let v = given[p.name] { return v }
            guard let d = p.defaultValue else {
                throw PresetError(location: spec.location, message: "node '\(spec.id)': \(def.name) needs parameter '\(p.name)' (\(p.doc))")
            }
            return d
        }
    }

    /// A file-path value written in a preset file: each comma-separated item with a folder part
    /// that is not absolute is taken relative to the preset's folder. Values from --set, -e and bare
    /// names (a model name, a file in the current folder) are left as they are.
    static func resolvingFilePaths(_ value: Located<String>) -> String {
        guard value.location.line > 0, value.location.file.hasSuffix(".yaml") || value.location.file.hasSuffix(".yml") else {
            return value.value
        }
        let file = value.location.file
        let folder = file.lastIndex(of: "/").map { String(file[..<$0]) } ?? "."
        return value.value.split(separator: ",", omittingEmptySubsequences: false).map { item -> String in
            let path = String(item).trimmingWhitespace()
            guard path.contains("/"), !path.hasPrefix("/"), !path.hasPrefix("~") else { return String(item) }
            return (folder.isEmpty ? "/" : folder + "/") + path
        }.joined(separator: ",")
    }

    private static func topologicalOrder(edges: [[(Int?, Int)]], specs: [NodeSpec]) throws -> [Int] {
        var state = [Int](repeating: 0, count: specs.count)    // 0 new, 1 visiting, 2 done
        var order: [Int] = []
        func visit(_ n: Int) throws {
            if state[n] == 2 { return }
            if state[n] == 1 { throw PresetError(location: specs[n].location, message: "cycle: node '\(specs[n].id)' depends on itself") }
            state[n] = 1
            for (m, _) in edges[n] { if let m { try visit(m) } }
            state[n] = 2
            order.append(n)
        }
        for n in specs.indices { try visit(n) }
        return order
    }

    static func suggestion(_ word: String, among names: [String]) -> String {
        let best = names.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= max(2, word.count / 3) }.min { $0.1 < $1.1 }
        return best.map { " (did you mean '\($0.0)'?)" } ?? ""
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
