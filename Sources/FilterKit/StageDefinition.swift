import CNNPipeABI
import FrameModel

/// A stage as a loaded plugin declares it (a Swift copy of cp_stage_desc).
public struct StageDefinition: @unchecked Sendable {
    public struct Param: Sendable {
        public enum Kind: String, Sendable { case int, float, bool, string, choice }
        public let name: String
        public let kind: Kind
        public let defaultValue: String?
        public let range: ClosedRange<Double>?
        public let choices: [String]
        public let doc: String
        /// A value other than the default makes the stage stateful.
        public var statefulUnlessDefault = false
        /// The value names files; relative ones in a preset file resolve against its folder.
        public var isFilePath = false
    }

    public let name: String
    public let summary: String
    public let params: [Param]
    public let inputs: [String]
    public let outputs: [String]
    public let isStateless: Bool
    public let hasVariadicInputs: Bool
    public let isAggregator: Bool
    /// When stateful, process() of later images may start before earlier ones return.
    public let isOverlapping: Bool
    /// Formats process() takes; empty = any.
    public let acceptedFormats: [PixelFormat]
    public let pluginName: String
    public let pluginFile: String
    let desc: UnsafePointer<cp_stage_desc>

    public func param(_ name: String) -> Param? { params.first { $0.name == name } }

    /// Whether instances may run in parallel with these (normalised, in `params` order) values.
    public func isStateless(with values: [String]) -> Bool {
        isStateless && !zip(params, values).contains { $0.statefulUnlessDefault && $1 != $0.defaultValue }
    }
}

extension StageDefinition.Param {
    /// The canonical text of a valid value, or a message saying what is wrong with it.
    public func normalise(_ raw: String) -> Result<String, ValueError> {
        let text = raw.trimmingWhitespace()
        switch kind {
        case .int:
            guard let v = Int(text) else { return .failure(ValueError("\(name) must be a whole number, got '\(raw)'")) }
            return checkRange(Double(v), text: String(v))
        case .float:
            guard let v = Double(text), v.isFinite else { return .failure(ValueError("\(name) must be a number, got '\(raw)'")) }
            return checkRange(v, text: String(v))
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "on", "1": return .success("true")
            case "false", "no", "off", "0": return .success("false")
            default: return .failure(ValueError("\(name) must be true or false, got '\(raw)'"))
            }
        case .string:
            return .success(raw)
        case .choice:
            guard choices.contains(text) else {
                return .failure(ValueError("\(name) must be one of \(choices.joined(separator: ", ")), got '\(raw)'"))
            }
            return .success(text)
        }
    }

    private func checkRange(_ v: Double, text: String) -> Result<String, ValueError> {
        if let range, !range.contains(v) {
            let lo = kind == .int ? String(Int(range.lowerBound)) : String(range.lowerBound)
            let hi = kind == .int ? String(Int(range.upperBound)) : String(range.upperBound)
            return .failure(ValueError("\(name) must be between \(lo) and \(hi), got \(text)"))
        }
        return .success(text)
    }

    /// "int 0..65535 = 0", "choice fit|fill|exact = fit", for `cnnpipe inspect`.
    public var signature: String {
        var s = kind.rawValue
        if let range {
            s += kind == .int ? " \(Int(range.lowerBound))..\(Int(range.upperBound))" : " \(range.lowerBound)..\(range.upperBound)"
        }
        if kind == .choice { s += " " + choices.joined(separator: "|") }
        s += defaultValue.map { " = \($0.isEmpty ? "\"\"" : $0)" } ?? " (required)"
        return s
    }
}

public struct ValueError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
