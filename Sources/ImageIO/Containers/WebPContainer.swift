/// A WebP file's RIFF chunks (Google's "WebP Container Specification"). Metadata needs the
/// extended format: a `VP8X` chunk first, whose flags say which of ICC, alpha, EXIF, XMP and
/// animation are present; `XMP ` comes after the image data and `EXIF`.
struct WebPContainer {
    struct Chunk {
        var fourCC: String
        /// Header, data and the pad byte of an odd size.
        var range: Range<Int>
        var data: Range<Int>
    }

    static let xmpFlag: UInt8 = 0x04
    static let alphaFlag: UInt8 = 0x10

    let bytes: [UInt8]
    let chunks: [Chunk]

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 20, bytes[0..<4].elementsEqual(Array("RIFF".utf8)), bytes[8..<12].elementsEqual(Array("WEBP".utf8)) else {
            throw ImageError("WebP: no RIFF/WEBP header")
        }
        self.bytes = bytes
        let riffEnd = min(bytes.count, 8 + Self.le32(bytes, 4))
        var chunks: [Chunk] = []
        var i = 12
        while i + 8 <= riffEnd {
            let size = Self.le32(bytes, i + 4)
            guard i + 8 + size <= riffEnd else { throw ImageError("WebP: chunk at byte \(i) runs past the file") }
            let end = min(i + 8 + size + (size & 1), riffEnd)
            chunks.append(Chunk(fourCC: String(decoding: bytes[i..<(i + 4)], as: UTF8.self), range: i..<end, data: (i + 8)..<(i + 8 + size)))
            i = end
        }
        guard let first = chunks.first, ["VP8 ", "VP8L", "VP8X"].contains(first.fourCC) else {
            throw ImageError("WebP: no image chunk")
        }
        self.chunks = chunks
    }

    var xmp: [UInt8]? { chunks.first { $0.fourCC == "XMP " }.map { Array(bytes[$0.data]) } }

    /// The file with its XMP chunk replaced by `packet`; a simple (VP8/VP8L) file becomes an extended one.
    func replacingXMP(_ packet: [UInt8]) throws -> [UInt8] {
        var body: [UInt8] = []
        var vp8x: [UInt8]
        if chunks[0].fourCC == "VP8X" {
            vp8x = Array(bytes[chunks[0].data])
            guard vp8x.count >= 10 else { throw ImageError("WebP: short VP8X chunk") }
        } else {
            let (w, h, alpha) = try canvas(of: chunks[0])
            vp8x = [alpha ? Self.alphaFlag : 0, 0, 0, 0] + Self.le24(w - 1) + Self.le24(h - 1)
        }
        vp8x[0] |= Self.xmpFlag
        body += Self.chunk("VP8X", vp8x)
        let rest = chunks.dropFirst(chunks[0].fourCC == "VP8X" ? 1 : 0).filter { $0.fourCC != "XMP " }
        // XMP goes after the image data and EXIF, before chunks the format does not know.
        let known: Set<String> = ["ICCP", "ANIM", "ANMF", "ALPH", "VP8 ", "VP8L", "EXIF"]
        let insertAt = (rest.lastIndex { known.contains($0.fourCC) }.map { $0 + 1 }) ?? rest.count
        for (k, c) in rest.enumerated() {
            if k == insertAt { body += Self.chunk("XMP ", packet) }
            body += bytes[c.range]
            if c.data.count & 1 == 1 && c.range.count == c.data.count + 8 { body.append(0) }   // missing pad at EOF
        }
        if insertAt >= rest.count { body += Self.chunk("XMP ", packet) }
        return Array("RIFF".utf8) + Self.le32bytes(body.count + 4) + Array("WEBP".utf8) + body
    }

    /// Canvas size and alpha of a simple file, from the VP8 frame header or the VP8L header.
    private func canvas(of c: Chunk) throws -> (Int, Int, Bool) {
        let d = c.data.lowerBound
        if c.fourCC == "VP8 " {
            guard c.data.count >= 10, bytes[d + 3] == 0x9D, bytes[d + 4] == 0x01, bytes[d + 5] == 0x2A else {
                throw ImageError("WebP: bad VP8 frame header")
            }
            let w = (Int(bytes[d + 6]) | Int(bytes[d + 7]) << 8) & 0x3FFF
            let h = (Int(bytes[d + 8]) | Int(bytes[d + 9]) << 8) & 0x3FFF
            return (w, h, false)
        }
        guard c.data.count >= 5, bytes[d] == 0x2F else { throw ImageError("WebP: bad VP8L header") }
        let bits = Self.le32(bytes, d + 1)
        return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, (bits >> 28) & 1 == 1)
    }

    private static func chunk(_ fourCC: String, _ data: [UInt8]) -> [UInt8] {
        Array(fourCC.utf8) + le32bytes(data.count) + data + (data.count & 1 == 1 ? [0] : [])
    }

    static func le32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24
    }
    private static func le32bytes(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    private static func le24(_ v: Int) -> [UInt8] { (0..<3).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}
