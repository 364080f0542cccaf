/// The runtime's format-independent model: what every importer (ONNX, dlib) produces.
public struct ModelGraph: Sendable {
    public var name: String
    public var nodes: [Node]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Constant tensors by value name (weights).
    public var initializers: [String: Tensor]
    public var opsetVersion: Int

    public init(name: String, nodes: [Node], inputs: [ValueInfo], outputs: [ValueInfo],
                initializers: [String: Tensor], opsetVersion: Int) {
        self.name = name
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.opsetVersion = opsetVersion
    }
}

/// A named value with its element type and shape; a nil dimension is symbolic (e.g. "h").
public struct ValueInfo: Sendable {
    public var name: String
    public var elementType: ElementType?
    public var shape: [Int?]?
    public var symbolicNames: [String?]

    public init(name: String, elementType: ElementType?, shape: [Int?]?, symbolicNames: [String?] = []) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.symbolicNames = symbolicNames
    }

    public var shapeDescription: String {
        guard let shape else { return "?" }
        return "[" + shape.enumerated().map { i, d in
            d.map(String.init) ?? (i < symbolicNames.count ? symbolicNames[i] ?? "?" : "?")
        }.joined(separator: ", ") + "]"
    }
}

public struct Node: Sendable {
    public var name: String
    public var opType: String
    public var domain: String
    /// Value names; "" marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

public enum Attribute: Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(Tensor)
    case unsupported(String)
}

/// A model problem found while importing or preparing it; names the node.
public struct ModelError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
