import CodecShims

/// A PNG file's chunks (PNG spec §5.3). XMP lives in an `iTXt` chunk with the keyword
/// `XML:com.adobe.xmp` (XMP spec part 3, §1.1.5), stored uncompressed so it can be edited in place.
struct PNGContainer {
    struct Chunk {
        var type: String
        var range: Range<Int>
        var data: Range<Int>
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let xmpKeyword = Array("XML:com.adobe.xmp".utf8)

    let bytes: [UInt8]
    let chunks: [Chunk]

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 8, bytes[0..<8].elementsEqual(Self.signature) else { throw ImageError("PNG: no signature") }
        self.bytes = bytes
        var chunks: [Chunk] = []
        var i = 8
        while i < bytes.count {
            guard i + 12 <= bytes.count else { throw ImageError("PNG: truncated chunk at byte \(i)") }
            let length = bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard length <= 0x7FFF_FFFF, i + 12 + length <= bytes.count else {
                throw ImageError("PNG: bad chunk length at byte \(i)")
            }
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            chunks.append(Chunk(type: type, range: i..<(i + 12 + length), data: (i + 8)..<(i + 8 + length)))
            i += 12 + length
            if type == "IEND" { break }
        }
        guard chunks.first?.type == "IHDR", chunks.contains(where: { $0.type == "IDAT" }) else {
            throw ImageError("PNG: no IHDR or IDAT chunk")
        }
        self.chunks = chunks
    }

    func isXMP(_ c: Chunk) -> Bool {
        c.type == "iTXt" && c.data.count > Self.xmpKeyword.count
            && bytes[c.data.prefix(Self.xmpKeyword.count + 1)].elementsEqual(Self.xmpKeyword + [0])
    }

    /// The XMP packet (an uncompressed or zlib-compressed iTXt).
    var xmp: [UInt8]? { chunks.first(where: isXMP).flatMap { Self.itxtText(Array(bytes[$0.data])) } }

    /// The text of an iTXt chunk's data: keyword NUL, compression flag, method, language tag NUL,
    /// translated keyword NUL, text (zlib-compressed when the flag is 1).
    static func itxtText(_ data: [UInt8]) -> [UInt8]? {
        guard var p = data.firstIndex(of: 0).map({ $0 + 1 }), p + 2 <= data.count else { return nil }
        let compressed = data[p] == 1
        p += 2
        for _ in 0..<2 {
            guard let nul = data[p...].firstIndex(of: 0) else { return nil }
            p = nul + 1
        }
        let text = Array(data[p...])
        return compressed ? Zlib.inflate(text) : text
    }

    /// The file with its XMP chunk replaced by `packet` (inserted before the first IDAT when there was none).
    func replacingXMP(_ packet: [UInt8]) -> [UInt8] {
        let data = Self.xmpKeyword + [0, 0, 0, 0, 0] + packet
        let type = Array("iTXt".utf8)
        let length = data.count
        var chunk = (0..<4).map { UInt8(truncatingIfNeeded: length >> (24 - 8 * $0)) } + type + data
        let crc = CRC32.checksum(chunk[4...])
        chunk += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32($0))) }

        let old = chunks.firstIndex(where: isXMP)
        let insertAt = old ?? chunks.firstIndex { $0.type == "IDAT" }!
        var out = Self.signature
        out.reserveCapacity(bytes.count + chunk.count)
        for (k, c) in chunks.enumerated() {
            if k == insertAt { out += chunk }
            if isXMP(c) { continue }
            out += bytes[c.range]
        }
        if let last = chunks.last { out += bytes[last.range.upperBound...] }
        return out
    }
}

/// CRC-32 as PNG uses it (ISO 3309, polynomial 0xEDB88320, reflected).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// zlib inflate through the C shims (zlib comes with libpng).
enum Zlib {
    static func inflate(_ data: [UInt8], limit: Int = 16 << 20) -> [UInt8]? {
        var out = cs_blob()
        let status = data.withUnsafeBufferPointer { cs_inflate($0.baseAddress, $0.count, limit, &out) }
        guard status == 0 else { return nil }
        defer { cs_free(out.data) }
        return out.array ?? []
    }
}
