/// The inline chain syntax for one-liners, equivalent to a linear preset:
///
///     resize width=512 mode=fit | rotate angle=90 | annotate
///
/// Stages are separated by '|' (quote the whole expression in the shell); parameters are
/// name=value; a value with spaces is quoted: caption text='hello world'.
public enum ChainExpression {
    public static func parse(_ text: String, file: String = "-e") throws -> Preset {
        var preset = Preset(file: file)
        var counts: [String: Int] = [:]
        for segment in try split(text) {
            guard let first = segment.first else {
                throw PresetError(location: SourceLocation(file: file, line: 1, column: 1), message: "empty stage in chain (two '|' in a row?)")
            }
            let stage = Located(value: first.text, location: first.location(file))
            var params: [(name: Located<String>, value: Located<String>)] = []
            for token in segment.dropFirst() {
                guard let eq = token.text.firstIndex(of: "=") else {
                    throw PresetError(location: token.location(file), message: "'\(token.text)' is not name=value")
                }
                params.append((Located(value: String(token.text[..<eq]), location: token.location(file)),
                               Located(value: String(token.text[token.text.index(after: eq)...]), location: token.location(file))))
            }
            counts[stage.value, default: 0] += 1
            let n = counts[stage.value]!
            preset.nodes.append(NodeSpec(id: n == 1 ? stage.value : "\(stage.value)-\(n)", stage: stage, params: params,
                                         inputs: nil, location: stage.location))
        }
        if preset.nodes.isEmpty {
            throw PresetError(location: SourceLocation(file: file, line: 1, column: 1), message: "empty chain")
        }
        return preset
    }

    struct Token {
        var text: String
        var column: Int
        func location(_ file: String) -> SourceLocation { SourceLocation(file: file, line: 1, column: column) }
    }

    /// Splits into stages of tokens, honouring single and double quotes.
    static func split(_ text: String) throws -> [[Token]] {
        var stages: [[Token]] = [[]]
        var current: Token?
        var quote: Character?
        for (offset, ch) in text.enumerated() {
            let column = offset + 1
            if let q = quote {
                if ch == q { quote = nil } else { current!.text.append(ch) }
                continue
            }
            switch ch {
            case "'", "\"":
                quote = ch
                if current == nil { current = Token(text: "", column: column) }
            case "|":
                if let c = current { stages[stages.count - 1].append(c); current = nil }
                stages.append([])
            case _ where ch.isWhitespace:
                if let c = current { stages[stages.count - 1].append(c); current = nil }
            default:
                if current == nil { current = Token(text: "", column: column) }
                current!.text.append(ch)
            }
        }
        if quote != nil {
            throw PresetError(location: SourceLocation(file: "-e", line: 1, column: text.count), message: "unterminated quote")
        }
        if let c = current { stages[stages.count - 1].append(c) }
        if stages.count == 1 && stages[0].isEmpty { return [] }
        return stages
    }
}

extension Preset {
    /// A linear preset built in code: stage names with their parameters, in order.
    public static func linear(_ stages: [(stage: String, params: [(String, String)])], file: String = "(built in)") -> Preset {
        var preset = Preset(file: file)
        let here = SourceLocation(file: file, line: 0, column: 0)
        for (stage, params) in stages {
            preset.nodes.append(NodeSpec(id: stage, stage: Located(value: stage, location: here),
                                         params: params.map { (Located(value: $0.0, location: here), Located(value: $0.1, location: here)) },
                                         inputs: nil, location: here))
        }
        return preset
    }
}
