import Foundation
import SwiftProtobuf

/// Reads `.onnx` files (protobuf, SwiftProtobuf decoder) into the runtime's ModelGraph.
public enum ONNXImporter {
    public static func load(path: String) throws -> ModelGraph {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError("\(path): cannot read file") }
        do { return try load(data: data, name: (path as NSString).lastPathComponent) } catch let e as ModelError {
            throw ModelError("\(path): \(e.description)")
        }
    }

    /// A serialized TensorProto (the ONNX test data's .pb files) as a Tensor.
    public static func tensor(serialized data: Data) throws -> (name: String, tensor: Tensor) {
        let proto: Onnx_TensorProto
        do { proto = try Onnx_TensorProto(serializedBytes: data) } catch {
            throw ModelError("not a valid TensorProto (\(error))")
        }
        return (proto.name, try tensor(from: proto))
    }

    public static func load(data: Data, name: String = "model") throws -> ModelGraph {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ModelError("not a valid ONNX model (protobuf decoding failed: \(error))")
        }
        guard model.hasGraph else { throw ModelError("not an ONNX model (no graph)") }
        let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 1
        let g = model.graph
        var initializers: [String: Tensor] = [:]
        for t in g.initializer { initializers[t.name] = try tensor(from: t) }
        let inputs = try g.input.filter { initializers[$0.name] == nil }.map(valueInfo)
        let outputs = try g.output.map(valueInfo)
        let nodes = try g.node.enumerated().map { i, n in
            Node(name: n.name.isEmpty ? "\(n.opType)_\(i)" : n.name, opType: n.opType, domain: n.domain,
                 inputs: n.input, outputs: n.output,
                 attributes: try Dictionary(n.attribute.map { ($0.name, try attribute($0)) }, uniquingKeysWith: { a, _ in a }))
        }
        guard !outputs.isEmpty else { throw ModelError("the graph has no outputs") }
        return ModelGraph(name: g.name.isEmpty ? name : g.name, nodes: nodes, inputs: inputs, outputs: outputs,
                          initializers: initializers, opsetVersion: opset)
    }

    /// A TensorProto as a Tensor (data raw or in the typed fields).
    static func tensor(from t: Onnx_TensorProto) throws -> Tensor {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw ModelError("tensor '\(t.name)' uses external data, which is not supported")
        }
        let shape = t.dims.map { Int($0) }
        guard let type = ElementType(rawValue: Int(t.dataType)) else {
            throw ModelError("tensor '\(t.name)' has element type \(dataTypeName(t.dataType)), which is not supported")
        }
        let count = try TensorLimits.elementCount(shape, elementSize: type.storageSize, "tensor '\(t.name)'")
        let raw = t.rawData
        func check(_ n: Int) throws {
            guard n == count else { throw ModelError("tensor '\(t.name)' has \(n) values for shape \(shape)") }
        }
        func fromRaw<T>(_: T.Type) throws -> [T] {
            guard raw.count == count * MemoryLayout<T>.size else {
                throw ModelError("tensor '\(t.name)' has \(raw.count) bytes of data for shape \(shape)")
            }
            return raw.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }   // little-endian host, as the format
        }
        switch type {
        case .float:
            let v = raw.isEmpty ? t.floatData : try fromRaw(Float.self)
            try check(v.count)
            return Tensor(shape: shape, floats: v)
        case .int64:
            let v = raw.isEmpty ? t.int64Data : try fromRaw(Int64.self)
            try check(v.count)
            return Tensor(shape: shape, storage: .int64(v))
        case .int32:
            let v = raw.isEmpty ? t.int32Data : try fromRaw(Int32.self)
            try check(v.count)
            return Tensor(shape: shape, storage: .int32(v))
        case .int8:
            let v = raw.isEmpty ? t.int32Data.map { Int8(truncatingIfNeeded: $0) } : try fromRaw(Int8.self)
            try check(v.count)
            return Tensor(shape: shape, storage: .int8(v))
        case .uint8:
            let v = raw.isEmpty ? t.int32Data.map { UInt8(truncatingIfNeeded: $0) } : try fromRaw(UInt8.self)
            try check(v.count)
            return Tensor(shape: shape, storage: .uint8(v))
        case .bool:
            let v = raw.isEmpty ? t.int32Data.map { $0 != 0 } : try fromRaw(UInt8.self).map { $0 != 0 }
            try check(v.count)
            return Tensor(shape: shape, storage: .bool(v))
        }
    }

    static func dataTypeName(_ code: Int32) -> String {
        let names: [Int32: String] = [4: "uint16", 5: "int16", 8: "string", 10: "float16", 11: "double", 12: "uint32",
                                      13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16"]
        return names[code] ?? "code \(code)"
    }

    private static func valueInfo(_ v: Onnx_ValueInfoProto) throws -> ValueInfo {
        guard v.type.tensorType.hasElemType || !v.hasType else {
            return ValueInfo(name: v.name, elementType: nil, shape: nil)
        }
        let t = v.type.tensorType
        let dims = t.hasShape ? t.shape.dim : nil
        for d in dims ?? [] {
            if case .dimValue(let n)? = d.value, n < 0 { throw ModelError("'\(v.name)' has a negative dimension \(n)") }
        }
        return ValueInfo(name: v.name, elementType: ElementType(rawValue: Int(t.elemType)),
                         shape: dims?.map { if case .dimValue(let v)? = $0.value { return Int(v) }; return nil },
                         symbolicNames: dims?.map { if case .dimParam(let p)? = $0.value { return p }; return nil } ?? [])
    }

    private static func attribute(_ a: Onnx_AttributeProto) throws -> Attribute {
        switch a.type {
        case .float: return .float(a.f)
        case .int: return .int(Int(a.i))
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .tensor: return .tensor(try tensor(from: a.t))
        case .floats: return .floats(a.floats)
        case .ints: return .ints(a.ints.map { Int($0) })
        case .strings: return .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
        default:
            // Older files may leave `type` unset; infer from the filled field.
            if a.hasF { return .float(a.f) }
            if a.hasI { return .int(Int(a.i)) }
            if a.hasS { return .string(String(decoding: a.s, as: UTF8.self)) }
            if a.hasT { return .tensor(try tensor(from: a.t)) }
            if !a.ints.isEmpty { return .ints(a.ints.map { Int($0) }) }
            if !a.floats.isEmpty { return .floats(a.floats) }
            return .unsupported("\(a.type)")
        }
    }
}
