import Foundation

/// NumPy's .npy format (version 1/2, little-endian float32, int64, int32, uint8, int8; C order).
public enum NPY {
    public static func read(path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError("\(path): cannot read") }
        do { return try decode([UInt8](data)) } catch let e as ModelError { throw ModelError("\(path): \(e.description)") }
    }

    public static func decode(_ b: [UInt8]) throws -> Tensor {
        guard b.count >= 10, b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else { throw ModelError("not a .npy file") }
        let major = b[6]
        let headerLength = major == 1 ? Int(b[8]) | Int(b[9]) << 8
            : (b.count >= 12 ? Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24 : -1)
        let start = major == 1 ? 10 : 12
        guard headerLength >= 0, start + headerLength <= b.count else { throw ModelError("truncated .npy header") }
        let header = String(decoding: b[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), let shapeField = field("shape") else { throw ModelError("bad .npy header") }
        let descr = descrField.split(separator: "'").first.map(String.init) ?? ""
        if field("fortran_order")?.hasPrefix("True") == true { throw ModelError("Fortran-order .npy is not supported") }
        guard let open = shapeField.firstIndex(of: "("), let close = shapeField.firstIndex(of: ")") else { throw ModelError("bad .npy shape") }
        let shape = shapeField[shapeField.index(after: open)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = try TensorLimits.elementCount(shape, ".npy shape")
        let body = Array(b[(start + headerLength)...])
        func values<T>(_: T.Type) throws -> [T] {
            guard body.count / MemoryLayout<T>.size >= count else { throw ModelError("truncated .npy data") }
            return body.withUnsafeBytes { Array($0.bindMemory(to: T.self).prefix(count)) }
        }
        switch descr {
        case "<f4": return Tensor(shape: shape, floats: try values(Float.self))
        case "<f8": return Tensor(shape: shape, floats: try values(Double.self).map { Float($0) })
        case "<i8": return Tensor(shape: shape, storage: .int64(try values(Int64.self)))
        case "<i4": return Tensor(shape: shape, storage: .int32(try values(Int32.self)))
        case "|u1": return Tensor(shape: shape, storage: .uint8(try values(UInt8.self)))
        case "|i1": return Tensor(shape: shape, storage: .int8(try values(Int8.self)))
        default: throw ModelError(".npy element type \(descr) is not supported")
        }
    }

    public static func encode(_ t: Tensor) -> [UInt8] {
        let (descr, body): (String, [UInt8])
        switch t.storage {
        case .float: (descr, body) = ("<f4", t.floats.withUnsafeBytes { Array($0) })
        case .int64(let v): (descr, body) = ("<i8", v.withUnsafeBytes { Array($0) })
        case .int32(let v): (descr, body) = ("<i4", v.withUnsafeBytes { Array($0) })
        case .uint8(let v): (descr, body) = ("|u1", v)
        case .int8(let v): (descr, body) = ("|i1", v.map { UInt8(bitPattern: $0) })
        case .bool(let v): (descr, body) = ("|b1", v.map { $0 ? 1 : 0 })
        }
        let dims = t.shape.map(String.init).joined(separator: ", ") + (t.shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + body
    }
}
