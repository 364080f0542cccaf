import CYaml
import Foundation

/// Bounds the work a YAML text can ask for before it is composed: the size of the text, and the
/// number of nodes once every alias is expanded (an anchor "bomb" of 1 KB grows eightfold per level,
/// and a composer that hashes aliased mapping keys would walk every copy).
enum YAMLBudget {
    static let maximumBytes = 1 << 20
    static let maximumNodes = 100_000

    /// nil when within budget, else what was exceeded (one line) and where.
    static func check(_ text: String) -> (message: String, line: Int, column: Int)? {
        guard text.utf8.count <= maximumBytes else { return ("preset is larger than \(maximumBytes >> 10) KiB", 0, 0) }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> (String, Int, Int)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var sizes: [String: Int] = [:]          // anchor → expanded node count
            var open: [(count: Int, anchor: String?)] = [(0, nil)]
            var total = 0
            func name(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
            func add(_ n: Int) { open[open.count - 1].count += n; total += n }
            while true {
                var event = yaml_event_t()
                // Syntax errors are left to the composer, which reports them with their place.
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let mark = event.start_mark
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SCALAR_EVENT:
                    add(1)
                    if let a = name(event.data.scalar.anchor) { sizes[a] = 1 }
                case YAML_ALIAS_EVENT:
                    add(name(event.data.alias.anchor).flatMap { sizes[$0] } ?? 1)
                case YAML_SEQUENCE_START_EVENT:
                    open.append((1, name(event.data.sequence_start.anchor)))
                case YAML_MAPPING_START_EVENT:
                    open.append((1, name(event.data.mapping_start.anchor)))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    let done = open.removeLast()
                    if let a = done.anchor { sizes[a] = done.count }
                    total += 1
                    open[open.count - 1].count += done.count
                default:
                    break
                }
                if total > maximumNodes {
                    return ("aliases expand to more than \(maximumNodes) nodes (an anchor bomb?)", Int(mark.line) + 1, Int(mark.column) + 1)
                }
            }
        }
    }
}
