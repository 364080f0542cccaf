/// A stage parameter with its Swift type. One declaration gives the host its description (name,
/// kind, default, range or choices, doc) and the stage its value:
///
///     static let width = Param<Int>("width", default: 0, range: 0...65535, "target width in pixels")
///     static let mode = Param<Mode>("mode", default: .fit, "fit, fill or exact")    // enum Mode: String, CaseIterable
///     static let parameters = Parameter.list(width, mode)
///     init(_ p: ParameterValues, host: StageHost) throws { width = try p[Self.width]; mode = try p[Self.mode] }
public struct Param<Value>: ParameterDeclaration, Sendable {
    public private(set) var declaration: Parameter
    private let decode: @Sendable (String) throws -> Value

    /// A parameter read by `decode` from its validated text (`kind` says how the host validates it).
    public init(_ declaration: Parameter, decode: @escaping @Sendable (String) throws -> Value) {
        self.declaration = declaration
        self.decode = decode
    }

    /// A value other than the default makes the stage stateful (one instance, frames in stream order).
    public func statefulUnlessDefault() -> Param {
        var p = self
        p.declaration.statefulUnlessDefault = true
        return p
    }

    /// The value names a file or a list of files: see `Parameter.isFilePath`.
    public func filePath() -> Param {
        var p = self
        p.declaration.isFilePath = true
        return p
    }

    func value(from text: String) throws -> Value {
        do { return try decode(text) } catch {
            throw StageError("\(declaration.name): \(error)")
        }
    }
}

public protocol ParameterDeclaration {
    var declaration: Parameter { get }
}

extension Parameter {
    /// A stage's parameter table, in the order given.
    public static func list(_ params: any ParameterDeclaration...) -> [Parameter] { params.map(\.declaration) }
}

extension ParameterValues {
    /// The value of `param` (the host has validated its text; a missing one takes the default).
    public subscript<Value>(_ param: Param<Value>) -> Value {
        get throws { try param.value(from: values[param.declaration.name] ?? param.declaration.defaultValue ?? "") }
    }
}

private struct ParseError: Error, CustomStringConvertible {
    let description: String
}

extension Param where Value == Int {
    public init(_ name: String, default value: Int, range: ClosedRange<Int>? = nil, _ doc: String) {
        self.init(.int(name, default: value, range: range, doc)) { text in
            guard let v = Int(text) else { throw ParseError(description: "'\(text)' is not a whole number") }
            return v
        }
    }

    /// One of a few numbers (a quarter-turn angle, say).
    public init(_ name: String, choices: [Int], default value: Int, _ doc: String) {
        self.init(.choice(name, choices.map(String.init), default: String(value), doc)) { text in
            guard let v = Int(text) else { throw ParseError(description: "'\(text)' is not one of \(choices)") }
            return v
        }
    }
}

extension Param where Value == Float {
    public init(_ name: String, default value: Double, range: ClosedRange<Double>? = nil, _ doc: String) {
        self.init(.float(name, default: value, range: range, doc)) { text in
            guard let v = Float(text), v.isFinite else { throw ParseError(description: "'\(text)' is not a number") }
            return v
        }
    }
}

extension Param where Value == Double {
    public init(_ name: String, default value: Double, range: ClosedRange<Double>? = nil, _ doc: String) {
        self.init(.float(name, default: value, range: range, doc)) { text in
            guard let v = Double(text), v.isFinite else { throw ParseError(description: "'\(text)' is not a number") }
            return v
        }
    }
}

extension Param where Value == Bool {
    public init(_ name: String, default value: Bool, _ doc: String) {
        self.init(.bool(name, default: value, doc)) { $0 == "true" }
    }
}

extension Param where Value == String {
    public init(_ name: String, default value: String, _ doc: String) {
        self.init(.string(name, default: value, doc)) { $0 }
    }
}

extension Param where Value == String? {
    /// Text that may be left out: nil when empty.
    public init(_ name: String, _ doc: String) {
        self.init(.string(name, default: "", doc)) { $0.isEmpty ? nil : $0 }
    }

    /// Text the user must give (no default): the host refuses a chain without it.
    public init(required name: String, _ doc: String) {
        self.init(.string(name, default: nil, doc)) { $0.isEmpty ? nil : $0 }
    }
}

extension Param where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of an enum's cases, by raw value.
    public init(_ name: String, default value: Value, _ doc: String) {
        self.init(.choice(name, Value.allCases.map(\.rawValue), default: value.rawValue, doc)) { text in
            guard let v = Value(rawValue: text) else { throw ParseError(description: "'\(text)' is not a choice") }
            return v
        }
    }
}

/// Lists are written comma-separated ("3,7,12"); one parser for every stage.
public protocol ListElement: Sendable {
    /// What an item must look like, for the error message.
    static var itemDescription: String { get }
    static func parse(_ text: String) -> Self?
}

extension Int: ListElement {
    public static var itemDescription: String { "a whole number" }
    public static func parse(_ text: String) -> Int? { Int(text) }
}

extension Float: ListElement {
    public static var itemDescription: String { "a number" }
    public static func parse(_ text: String) -> Float? { Float(text).flatMap { $0.isFinite ? $0 : nil } }
}

extension String: ListElement {
    public static var itemDescription: String { "text" }
    public static func parse(_ text: String) -> String? { text }
}

/// A list item with a weight: "NAME" (weight 1) or "NAME:WEIGHT" (the number after the last colon, ≥ 0).
public struct Weighted: ListElement, Equatable {
    public let name: String
    public let weight: Float

    public init(_ name: String, weight: Float = 1) {
        self.name = name
        self.weight = weight
    }

    public static var itemDescription: String { "NAME or NAME:WEIGHT (a weight of 0 or more)" }

    public static func parse(_ text: String) -> Weighted? {
        if let colon = text.lastIndex(of: ":"), let w = Float(text[text.index(after: colon)...]) {
            guard w.isFinite, w >= 0, colon > text.startIndex else { return nil }
            return Weighted(String(text[..<colon]).trimmedSpaces, weight: w)
        }
        return text.isEmpty ? nil : Weighted(text)
    }
}

extension Param {
    /// A comma-separated list (empty text: the empty list); items are trimmed, `count` bounds how many.
    public init<Element: ListElement>(_ name: String, list doc: String, default text: String = "",
                                      count: ClosedRange<Int>? = nil) where Value == [Element] {
        self.init(.string(name, default: text, doc)) { text in try Self.parseList(text, count: count) }
    }

    /// Like the list above, but the user must give it (no default).
    public init<Element: ListElement>(required name: String, list doc: String, count: ClosedRange<Int>? = nil) where Value == [Element] {
        self.init(.string(name, default: nil, doc)) { text in try Self.parseList(text, count: count) }
    }

    static func parseList<Element: ListElement>(_ text: String, count: ClosedRange<Int>?) throws -> [Element] {
        let trimmed = text.trimmedSpaces
        let items = trimmed.isEmpty ? [] : trimmed.split(separator: ",", omittingEmptySubsequences: false)
        let values = try items.map { item -> Element in
            let t = String(item).trimmedSpaces
            guard let v = Element.parse(t) else { throw ParseError(description: "'\(t)' is not \(Element.itemDescription)") }
            return v
        }
        if let count, !count.contains(values.count) {
            let wanted = count.lowerBound == count.upperBound ? "\(count.lowerBound)" : "\(count.lowerBound)-\(count.upperBound)"
            throw ParseError(description: "needs \(wanted) comma-separated values, got \(values.count)")
        }
        return values
    }
}

extension String {
    var trimmedSpaces: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
