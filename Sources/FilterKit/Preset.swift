import Foundation
import Yams

/// A place in a preset file (or in an inline chain / the command line) for error messages.
public struct SourceLocation: Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }

    init(_ file: String, _ mark: Mark?) {
        self.file = file
        line = mark?.line ?? 0
        column = mark?.column ?? 0
    }

    init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
}

/// A preset or graph problem, reported as "file:line:column: message".
public struct PresetError: Error, CustomStringConvertible, Sendable {
    public let location: SourceLocation
    public let message: String
    public var description: String { "\(location): \(message)" }
}

/// A value with the place it was written.
public struct Located<T: Sendable>: Sendable {
    public var value: T
    public var location: SourceLocation
}

/// An input connection as written: `node`, `node.pad`, or `input` (the image stream).
public struct InputRef: Sendable {
    public var node: String
    public var pad: String?
    public var location: SourceLocation

    static func parse(_ text: String, at location: SourceLocation) -> InputRef {
        if let dot = text.firstIndex(of: ".") {
            return InputRef(node: String(text[..<dot]), pad: String(text[text.index(after: dot)...]), location: location)
        }
        return InputRef(node: text, pad: nil, location: location)
    }
}

public struct NodeSpec: Sendable {
    public var id: String
    public var stage: Located<String>
    /// Parameter name (with its location) -> value (with its location), in written order.
    public var params: [(name: Located<String>, value: Located<String>)]
    /// nil = not written: the previous node, or the stream for the first node.
    public var inputs: [InputRef]?
    public var location: SourceLocation

    mutating func setParam(_ name: Located<String>, _ value: Located<String>) {
        if let i = params.firstIndex(where: { $0.name.value == name.value }) {
            params[i].value = value
        } else {
            params.append((name, value))
        }
    }
}

/// A parsed (not yet validated) preset.
public struct Preset: Sendable {
    public var file: String
    public var description: String?
    public var nodes: [NodeSpec]
    public var output: InputRef?
    /// True when written as a `stages:` list: a later `extends` appends to the chain.
    public var isLinear: Bool

    public init(file: String, description: String? = nil, nodes: [NodeSpec] = [], output: InputRef? = nil,
                isLinear: Bool = true) {
        self.file = file
        self.description = description
        self.nodes = nodes
        self.output = output
        self.isLinear = isLinear
    }

    /// Applies `node.param=value` (e.g. from --set). The node is an id, or a stage name when unique.
    public mutating func override(_ assignment: String, source: String = "--set") throws {
        let here = SourceLocation(file: source, line: 0, column: 0)
        guard let eq = assignment.firstIndex(of: "="), let dot = assignment[..<eq].lastIndex(of: ".") else {
            throw PresetError(location: here, message: "'\(assignment)' is not of the form node.param=value")
        }
        let nodeName = String(assignment[..<dot])
        let param = String(assignment[assignment.index(after: dot)..<eq])
        let value = String(assignment[assignment.index(after: eq)...])
        var index = nodes.firstIndex { $0.id == nodeName }
        if index == nil {
            let byStage = nodes.indices.filter { nodes[$0].stage.value == nodeName }
            if byStage.count == 1 { index = byStage[0] }
        }
        guard let index else {
            throw PresetError(location: here, message: "no node '\(nodeName)' in \(file) (nodes: \(nodes.map(\.id).joined(separator: ", ")))")
        }
        nodes[index].setParam(Located(value: param, location: here), Located(value: value, location: here))
    }
}

/// Reads preset YAML files, following `extends`.
public enum PresetParser {
    public static func load(path: String, searchPath: [String] = [], depth: Int = 0) throws -> Preset {
        guard depth < 16 else {
            throw PresetError(location: SourceLocation(file: path, line: 0, column: 0), message: "extends nests too deeply (a loop?)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw PresetError(location: SourceLocation(file: path, line: 0, column: 0), message: "cannot read preset file")
        }
        return try parse(text, file: path, searchPath: searchPath, depth: depth)
    }

    public static func parse(_ text: String, file: String, searchPath: [String] = [], depth: Int = 0) throws -> Preset {
        let root: Node
        if let exceeded = YAMLBudget.check(text) {
            throw PresetError(location: SourceLocation(file: file, line: exceeded.line, column: exceeded.column), message: exceeded.message)
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PresetError(location: SourceLocation(file: file, line: 1, column: 1), message: "preset is empty")
            }
            root = node
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        }
        guard let top = root.mapping else {
            throw PresetError(location: SourceLocation(file, root.mark), message: "a preset is a mapping with 'stages:' or 'nodes:'")
        }
        var preset = Preset(file: file)
        var base: Preset?
        var nodes: [NodeSpec] = []
        var sets: [(String, SourceLocation)] = []
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            let at = SourceLocation(file, keyNode.mark)
            switch key {
            case "description":
                preset.description = value.string
            case "extends":
                guard let name = value.string else { throw PresetError(location: at, message: "extends takes a preset file name") }
                let dir = (file as NSString).deletingLastPathComponent
                guard let path = resolve(name, relativeTo: dir, searchPath: searchPath) else {
                    throw PresetError(location: SourceLocation(file, value.mark), message: "extends: no preset '\(name)'")
                }
                base = try load(path: path, searchPath: searchPath, depth: depth + 1)
            case "stages":
                nodes = try parseStages(value, file: file)
            case "nodes":
                nodes = try parseNodes(value, file: file)
                preset.isLinear = false
            case "output":
                guard let s = value.string else { throw PresetError(location: at, message: "output takes a node name") }
                preset.output = InputRef.parse(s, at: SourceLocation(file, value.mark))
            case "set":
                guard let m = value.mapping else { throw PresetError(location: at, message: "set takes a mapping of node.param: value") }
                for (k, v) in m { sets.append(("\(k.string ?? "")=\(scalarText(v) ?? "")", SourceLocation(file, k.mark))) }
            default:
                throw PresetError(location: at, message: "unknown key '\(key)' (expected description, extends, stages, nodes, output, set)")
            }
        }
        if let base {
            preset = merge(base: base, child: preset, childNodes: nodes)
        } else {
            preset.nodes = nodes
        }
        for (assignment, at) in sets { try preset.override(assignment, source: at.description) }
        if preset.nodes.isEmpty {
            throw PresetError(location: SourceLocation(file, root.mark), message: "preset has no stages (add 'stages:' or 'nodes:')")
        }
        return preset
    }

    /// A child's nodes with a base's ids update those nodes (params overlaid); others are added.
    /// A linear child of a linear base appends its stages to the chain.
    static func merge(base: Preset, child: Preset, childNodes: [NodeSpec]) -> Preset {
        var merged = base
        merged.file = child.file
        merged.description = child.description ?? base.description
        merged.output = child.output ?? base.output
        for var node in childNodes {
            if let i = merged.nodes.firstIndex(where: { $0.id == node.id }), !child.isLinear {
                for p in node.params { merged.nodes[i].setParam(p.name, p.value) }
                if node.inputs != nil { merged.nodes[i].inputs = node.inputs }
                continue
            }
            if child.isLinear, node.inputs == nil, let last = merged.nodes.last {
                node.inputs = [InputRef(node: last.id, pad: nil, location: node.location)]
            }
            while merged.nodes.contains(where: { $0.id == node.id }) { node.id += "'" }
            merged.nodes.append(node)
        }
        merged.isLinear = base.isLinear && child.isLinear
        return merged
    }

    static func resolve(_ name: String, relativeTo dir: String, searchPath: [String]) -> String? {
        // Relative to the preset's own folder: the current directory when its path has none.
        let base = dir.isEmpty ? "." : dir
        let candidates = name.hasPrefix("/") ? [name] : [base + "/" + name] + searchPath.map { $0 + "/" + name }
        for c in candidates {
            for path in [c, c + ".yaml"] where FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    private static func parseStages(_ node: Node, file: String) throws -> [NodeSpec] {
        guard let list = node.sequence else {
            throw PresetError(location: SourceLocation(file, node.mark), message: "stages is a list, e.g. '- resize: {width: 512}'")
        }
        var nodes: [NodeSpec] = []
        var counts: [String: Int] = [:]
        for item in list {
            let at = SourceLocation(file, item.mark)
            let stage: Located<String>
            var params: [(Located<String>, Located<String>)] = []
            if let name = item.string {
                stage = Located(value: name, location: at)
            } else if let m = item.mapping, m.count == 1, let (k, v) = m.first, let name = k.string {
                stage = Located(value: name, location: SourceLocation(file, k.mark))
                if v.null == nil { params = try parseParams(v, file: file) }
            } else {
                throw PresetError(location: at, message: "a stage is 'name' or 'name: {param: value, ...}'")
            }
            counts[stage.value, default: 0] += 1
            let n = counts[stage.value]!
            let id = n == 1 ? stage.value : "\(stage.value)-\(n)"
            nodes.append(NodeSpec(id: id, stage: stage, params: params, inputs: nil, location: at))
        }
        return nodes
    }

    private static func parseNodes(_ node: Node, file: String) throws -> [NodeSpec] {
        guard let list = node.sequence else {
            throw PresetError(location: SourceLocation(file, node.mark), message: "nodes is a list of {id, stage, params, inputs}")
        }
        var nodes: [NodeSpec] = []
        for item in list {
            let at = SourceLocation(file, item.mark)
            guard let m = item.mapping else { throw PresetError(location: at, message: "a node is a mapping with id and stage") }
            var id: String?
            var stage: Located<String>?
            var params: [(Located<String>, Located<String>)] = []
            var inputs: [InputRef]?
            for (k, v) in m {
                let kAt = SourceLocation(file, k.mark), vAt = SourceLocation(file, v.mark)
                switch k.string ?? "" {
                case "id": id = v.string
                case "stage": stage = v.string.map { Located(value: $0, location: vAt) }
                case "params": params = try parseParams(v, file: file)
                case "inputs", "input": inputs = try parseInputs(v, file: file)
                default:
                    throw PresetError(location: kAt, message: "unknown node key '\(k.string ?? "")' (expected id, stage, params, inputs)")
                }
            }
            guard let stage else { throw PresetError(location: at, message: "node has no 'stage'") }
            let nodeID = id ?? stage.value
            if nodes.contains(where: { $0.id == nodeID }) {
                throw PresetError(location: at, message: "duplicate node id '\(nodeID)'")
            }
            nodes.append(NodeSpec(id: nodeID, stage: stage, params: params, inputs: inputs, location: at))
        }
        return nodes
    }

    private static func parseParams(_ node: Node, file: String) throws -> [(Located<String>, Located<String>)] {
        guard let m = node.mapping else {
            throw PresetError(location: SourceLocation(file, node.mark), message: "params is a mapping of name: value")
        }
        return try m.map { k, v in
            guard let name = k.string, let text = scalarText(v) else {
                throw PresetError(location: SourceLocation(file, v.mark), message: "parameter values are single values, not lists or mappings")
            }
            return (Located(value: name, location: SourceLocation(file, k.mark)), Located(value: text, location: SourceLocation(file, v.mark)))
        }
    }

    private static func parseInputs(_ node: Node, file: String) throws -> [InputRef] {
        if let s = node.string { return [InputRef.parse(s, at: SourceLocation(file, node.mark))] }
        if let list = node.sequence {
            return try list.map { item in
                guard let s = item.string else {
                    throw PresetError(location: SourceLocation(file, item.mark), message: "an input is 'node' or 'node.pad'")
                }
                return InputRef.parse(s, at: SourceLocation(file, item.mark))
            }
        }
        throw PresetError(location: SourceLocation(file, node.mark), message: "inputs is a node name or a list of them")
    }

    private static func scalarText(_ node: Node) -> String? {
        if case let .scalar(s) = node { return s.string }
        return nil
    }

    private static func yamlError(_ error: YamlError, file: String) -> PresetError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return PresetError(location: SourceLocation(file, mark), message: "YAML: \(problem)")
        default:
            return PresetError(location: SourceLocation(file: file, line: 0, column: 0), message: "YAML: \(error)")
        }
    }
}
