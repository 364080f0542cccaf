import Foundation
import SwiftProtobuf

/// Writes a ModelGraph as an .onnx file (the importer's inverse): for models built in code, such as
/// the fuzzers' seeds and the hostile-model tests.
public enum ONNXExporter {
    public static func serialize(_ graph: ModelGraph) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = Int64(graph.opsetVersion)
        model.opsetImport = [opset]
        model.graph.name = graph.name
        model.graph.node = graph.nodes.map(node)
        model.graph.input = graph.inputs.map(valueInfo)
        model.graph.output = graph.outputs.map(valueInfo)
        model.graph.initializer = graph.initializers.sorted { $0.key < $1.key }.map { tensor($1, name: $0) }
        return try model.serializedData()
    }

    private static func node(_ n: Node) -> Onnx_NodeProto {
        var p = Onnx_NodeProto()
        p.name = n.name
        p.opType = n.opType
        p.domain = n.domain
        p.input = n.inputs
        p.output = n.outputs
        p.attribute = n.attributes.sorted { $0.key < $1.key }.compactMap { attribute($1, name: $0) }
        return p
    }

    private static func attribute(_ a: Attribute, name: String) -> Onnx_AttributeProto? {
        var p = Onnx_AttributeProto()
        p.name = name
        switch a {
        case .int(let v): p.type = .int; p.i = Int64(v)
        case .float(let v): p.type = .float; p.f = v
        case .string(let v): p.type = .string; p.s = Data(v.utf8)
        case .ints(let v): p.type = .ints; p.ints = v.map(Int64.init)
        case .floats(let v): p.type = .floats; p.floats = v
        case .strings(let v): p.type = .strings; p.strings = v.map { Data($0.utf8) }
        case .tensor(let t): p.type = .tensor; p.t = tensor(t, name: name)
        case .unsupported: return nil
        }
        return p
    }

    private static func tensor(_ t: Tensor, name: String) -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        p.name = name
        p.dims = t.shape.map(Int64.init)
        p.dataType = Int32(t.elementType.rawValue)
        switch t.storage {
        case .float: p.floatData = t.floats
        case .int64(let v): p.int64Data = v
        case .int32(let v): p.int32Data = v
        case .int8(let v): p.int32Data = v.map(Int32.init)
        case .uint8(let v): p.int32Data = v.map(Int32.init)
        case .bool(let v): p.int32Data = v.map { $0 ? 1 : 0 }
        }
        return p
    }

    private static func valueInfo(_ v: ValueInfo) -> Onnx_ValueInfoProto {
        var p = Onnx_ValueInfoProto()
        p.name = v.name
        if let type = v.elementType { p.type.tensorType.elemType = Int32(type.rawValue) }
        if let shape = v.shape {
            p.type.tensorType.shape.dim = shape.enumerated().map { i, d in
                var dim = Onnx_TensorShapeProto.Dimension()
                if let d { dim.dimValue = Int64(d) } else { dim.dimParam = i < v.symbolicNames.count ? v.symbolicNames[i] ?? "d\(i)" : "d\(i)" }
                return dim
            }
        }
        return p
    }
}
