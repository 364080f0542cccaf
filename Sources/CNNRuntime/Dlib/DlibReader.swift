import Foundation

/// Reads the primitives of dlib's serialization format (see ../shared/docs/dlib-format.md §1):
/// compressed integers, portable floats, '0'/'1' booleans, length-prefixed strings, matrices,
/// DNN tensors (version 2, raw float32) and alias tensors (a shape only).
///
/// Every read checks the bytes left first, so a truncated or corrupted file is a `ModelError`
/// naming the byte offset and what was being read, never a crash or a huge allocation.
struct DlibReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    func error(_ message: String, at position: Int? = nil) -> ModelError {
        ModelError("byte \(position ?? offset): \(message)")
    }

    private mutating func take(_ n: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else {
            throw error("truncated: \(what()) needs \(n) bytes, \(remaining) left")
        }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    // MARK: integers

    /// A compressed integer: control byte (bit 7 = sign, bits 0–3 = byte count 1…8, bits 4–6 zero),
    /// then the magnitude, least-significant byte first.
    mutating func int(_ what: @autoclosure () -> String, maxBytes: Int = 8) throws -> Int {
        let start = offset
        guard start < bytes.count else { throw error("truncated: \(what()) needs 1 bytes, 0 left") }
        let control = bytes[start]
        let count = Int(control & 0x0F), negative = control & 0x80 != 0
        guard control & 0x70 == 0, count >= 1, count <= maxBytes else {
            throw error("bad integer control byte 0x\(hex(control)) for \(what())", at: start)
        }
        offset += 1
        guard count <= remaining else { throw error("truncated: \(what()) needs \(count) bytes, \(remaining) left") }
        var magnitude: UInt64 = 0
        for i in 0..<count { magnitude |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += count
        guard magnitude <= UInt64(Int.max) else { throw error("\(what()) does not fit a 64-bit integer", at: start) }
        return negative ? -Int(magnitude) : Int(magnitude)
    }

    /// A compressed integer that must not be negative (sizes, counts, C++ unsigned fields).
    mutating func count(_ what: @autoclosure () -> String) throws -> Int {
        let start = offset
        let v = try int(what())
        guard v >= 0 else { throw error("\(what()) is negative (\(v))", at: start) }
        return v
    }

    /// A compressed integer that must equal `expected` (version numbers).
    mutating func expectInt(_ expected: Int, _ what: @autoclosure () -> String) throws {
        let start = offset
        let v = try int(what())
        guard v == expected else { throw error("\(what()) is \(v), expected \(expected)", at: start) }
    }

    // MARK: scalars

    /// A portable float: mantissa (signed, up to 8 bytes) then exponent (signed 16-bit);
    /// exponents 32000/32001/32002 mean +∞/−∞/NaN.
    mutating func double(_ what: @autoclosure () -> String) throws -> Double {
        let mantissa = try int(what() + " (mantissa)")
        let exponentStart = offset
        let exponent = try int(what() + " (exponent)", maxBytes: 2)
        switch exponent {
        case 32000: return .infinity
        case 32001: return -.infinity
        case 32002: return .nan
        case Int(Int16.min)...Int(Int16.max): return scalbn(Double(mantissa), exponent)
        default: throw error("\(what()) has exponent \(exponent), outside 16 bits", at: exponentStart)
        }
    }

    mutating func float(_ what: @autoclosure () -> String) throws -> Float { Float(try double(what())) }

    /// '1' = true, '0' = false; anything else is an error.
    mutating func bool(_ what: @autoclosure () -> String) throws -> Bool {
        let start = offset
        switch try take(1, what()).first! {
        case 0x31: return true
        case 0x30: return false
        case let b: throw error("\(what()) is byte 0x\(hex(b)), not a boolean ('0' or '1')", at: start)
        }
    }

    mutating func byte(_ what: @autoclosure () -> String) throws -> UInt8 { try take(1, what()).first! }

    /// A length-prefixed string (no terminator).
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let n = try count(what() + " length")
        return String(decoding: try take(n, what()), as: UTF8.self)
    }

    /// The string at the current position if it starts with `prefix`, without moving; nil otherwise
    /// (including when the bytes here are not a string at all).
    func peekString(prefix: String) -> String? {
        var probe = self
        guard let s = try? probe.string("probe"), s.hasPrefix(prefix) else { return nil }
        return s
    }

    // MARK: containers

    /// An element count for a container whose elements take at least `minimumElementBytes` each:
    /// a count the remaining bytes cannot hold is refused before anything is allocated.
    mutating func elementCount(_ what: @autoclosure () -> String, minimumElementBytes: Int) throws -> Int {
        let start = offset
        let n = try count(what() + " count")
        guard n <= remaining / max(1, minimumElementBytes) else {
            throw error("truncated: \(what()) claims \(n) elements, \(remaining) bytes left", at: start)
        }
        return n
    }

    /// `dlib::matrix<float>`: negated rows, negated columns, then elements row-major as portable floats.
    mutating func floatMatrix(_ what: @autoclosure () -> String) throws -> (rows: Int, columns: Int, values: [Float]) {
        let start = offset
        let rows = abs(try int(what() + " rows")), columns = abs(try int(what() + " columns"))
        let (n, overflow) = rows.multipliedReportingOverflow(by: columns)
        // A portable float takes at least 4 bytes (two compressed integers).
        guard !overflow, n <= remaining / 4 else {
            throw error("truncated: \(what()) claims \(rows)×\(columns) values, \(remaining) bytes left", at: start)
        }
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = try float(what()) }
        return (rows, columns, values)
    }

    /// A DNN tensor (version 2): num_samples, k, nr, nc, then raw little-endian float32 values.
    mutating func tensor(_ what: @autoclosure () -> String) throws -> (shape: [Int], values: [Float]) {
        let start = offset
        try expectInt(2, what() + " version")
        let shape = try (0..<4).map { _ in try count(what() + " dimension") }
        let n = try elementCount(shape, what(), bytesPerElement: 4, start: start)
        let raw = try take(n * 4, what() + " data")
        var values = [Float](repeating: 0, count: n)
        raw.withUnsafeBytes { src in
            values.withUnsafeMutableBytes { dst in dst.copyMemory(from: src) }   // little-endian host, as the file
        }
        return (shape, values)
    }

    /// An alias tensor (version 1): only a shape (num_samples, k, nr, nc).
    mutating func aliasTensorShape(_ what: @autoclosure () -> String) throws -> [Int] {
        try expectInt(1, what() + " version")
        return try (0..<4).map { _ in try count(what() + " dimension") }
    }

    /// The element count of a shape, refused when it overflows or cannot fit the remaining bytes.
    private func elementCount(_ shape: [Int], _ what: @autoclosure () -> String, bytesPerElement: Int, start: Int) throws -> Int {
        guard let n = product(shape) else { throw error("\(what()) has an impossible shape \(shape)", at: start) }
        guard n <= remaining / bytesPerElement else {
            throw error("truncated: \(what()) of shape \(shape) needs \(n) float32 values, \(remaining) bytes left", at: start)
        }
        return n
    }
}

/// Two upper-case hex digits.
func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
