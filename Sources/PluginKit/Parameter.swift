/// A stage parameter as the host sees it (the C descriptor's fields). The host validates values
/// against it before a stage is created. Stages declare parameters as typed `Param`s, which make one.
public struct Parameter: Sendable {
    public enum Kind: Int32, Sendable { case int = 1, float, bool, string, choice }

    public let name: String
    public let kind: Kind
    public let defaultValue: String?
    public let range: ClosedRange<Double>?
    public let choices: [String]
    public let doc: String
    /// A value other than the default makes the stage stateful (one instance, frames in stream order).
    public var statefulUnlessDefault = false
    /// The value names files (one, or a comma-separated list): the host resolves a relative path
    /// written in a preset file against the preset's folder, so presets work from any folder.
    public var isFilePath = false

    public static func int(_ name: String, default value: Int?, range: ClosedRange<Int>? = nil, _ doc: String) -> Parameter {
        Parameter(name: name, kind: .int, defaultValue: value.map(String.init),
                  range: range.map { Double($0.lowerBound)...Double($0.upperBound) }, choices: [], doc: doc)
    }

    public static func float(_ name: String, default value: Double?, range: ClosedRange<Double>? = nil, _ doc: String) -> Parameter {
        Parameter(name: name, kind: .float, defaultValue: value.map { String($0) }, range: range, choices: [], doc: doc)
    }

    public static func bool(_ name: String, default value: Bool, _ doc: String) -> Parameter {
        Parameter(name: name, kind: .bool, defaultValue: String(value), range: nil, choices: [], doc: doc)
    }

    public static func string(_ name: String, default value: String?, _ doc: String) -> Parameter {
        Parameter(name: name, kind: .string, defaultValue: value, range: nil, choices: [], doc: doc)
    }

    public static func choice(_ name: String, _ choices: [String], default value: String, _ doc: String) -> Parameter {
        Parameter(name: name, kind: .choice, defaultValue: value, range: nil, choices: choices, doc: doc)
    }

    /// This parameter with `statefulUnlessDefault` set.
    public func statefulUnlessDefault(_ on: Bool = true) -> Parameter {
        var p = self
        p.statefulUnlessDefault = on
        return p
    }
}

/// Parameter values handed to a stage's initialiser, already validated by the host.
public struct ParameterValues: Sendable {
    let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }
    // Read with a typed declaration: `try p[Self.width]` (Param.swift).
}
