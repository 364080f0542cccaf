/// A JPEG file's marker segments up to the first scan, found from its structure (ISO 10918-1
/// B.1.1): everything from the first SOS on — entropy-coded data, restart markers, the later
/// scans of a progressive file, EOI and whatever follows it — is kept as one opaque tail.
struct JPEGContainer {
    struct Segment {
        var marker: UInt8
        /// From the 0xFF of the marker to the end of its payload.
        var range: Range<Int>
        /// The payload (after the two length bytes).
        var payload: Range<Int>
    }

    static let xmpSignature = Array("http://ns.adobe.com/xap/1.0/\u{0}".utf8)
    static let extendedXMPSignature = Array("http://ns.adobe.com/xmp/extension/\u{0}".utf8)
    static let exifSignature: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]
    static let mpfSignature: [UInt8] = [0x4D, 0x50, 0x46, 0]
    /// The most XMP one APP1 segment holds after its 29-byte signature.
    static let maxStandardXMP = 65502
    /// Extended XMP data per segment: 65533 − 35 (signature) − 32 (GUID) − 4 − 4.
    static let maxExtendedChunk = 65458

    let bytes: [UInt8]
    let segments: [Segment]
    /// Offset of the first SOS marker.
    let scanStart: Int

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw ImageError("JPEG: no SOI marker") }
        self.bytes = bytes
        var segments: [Segment] = []
        var i = 2
        while true {
            guard i + 1 < bytes.count, bytes[i] == 0xFF else {
                throw ImageError("JPEG: corrupt marker structure at byte \(i)")
            }
            var m = bytes[i + 1], start = i
            while m == 0xFF {                        // fill bytes before a marker
                i += 1
                guard i + 1 < bytes.count else { throw ImageError("JPEG: truncated before the first scan") }
                m = bytes[i + 1]
                start = i
            }
            if m == 0xDA { scanStart = start; break }
            if m == 0xD9 { throw ImageError("JPEG: no scan before EOI") }
            if m == 0x01 || (0xD0...0xD7).contains(m) {
                segments.append(Segment(marker: m, range: start..<(i + 2), payload: (i + 2)..<(i + 2)))
                i += 2
                continue
            }
            guard i + 3 < bytes.count else { throw ImageError("JPEG: truncated before the first scan") }
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length >= 2, i + 2 + length <= bytes.count else {
                throw ImageError("JPEG: bad segment length at byte \(i + 2)")
            }
            segments.append(Segment(marker: m, range: start..<(i + 2 + length), payload: (i + 4)..<(i + 2 + length)))
            i += 2 + length
        }
        self.segments = segments
    }

    func payload(_ s: Segment) -> ArraySlice<UInt8> { bytes[s.payload] }

    func starts(_ s: Segment, with signature: [UInt8]) -> Bool {
        s.payload.count >= signature.count && bytes[s.payload.prefix(signature.count)].elementsEqual(signature)
    }

    func isXMP(_ s: Segment) -> Bool { s.marker == 0xE1 && starts(s, with: Self.xmpSignature) }
    func isExtendedXMP(_ s: Segment) -> Bool { s.marker == 0xE1 && starts(s, with: Self.extendedXMPSignature) }
    func isExif(_ s: Segment) -> Bool { s.marker == 0xE1 && starts(s, with: Self.exifSignature) }
    func isMPF(_ s: Segment) -> Bool { s.marker == 0xE2 && starts(s, with: Self.mpfSignature) }

    /// The standard XMP packet, if any.
    var xmp: [UInt8]? {
        segments.first(where: isXMP).map { Array(bytes[($0.payload.lowerBound + Self.xmpSignature.count)..<$0.payload.upperBound]) }
    }

    /// The extended XMP packet whose GUID is `guid`, reassembled from its chunks; nil when incomplete.
    func extendedXMP(guid: String) -> [UInt8]? {
        let header = Self.extendedXMPSignature.count
        var packet: [UInt8]?
        var filled = 0
        for s in segments where isExtendedXMP(s) && s.payload.count > header + 40 {
            let p = s.payload.lowerBound + header
            guard String(decoding: bytes[p..<(p + 32)], as: UTF8.self) == guid else { continue }
            let total = bytes[(p + 32)..<(p + 36)].reduce(0) { $0 << 8 | Int($1) }
            let offset = bytes[(p + 36)..<(p + 40)].reduce(0) { $0 << 8 | Int($1) }
            let chunk = bytes[(p + 40)..<s.payload.upperBound]
            guard total <= 64 << 20, offset + chunk.count <= total else { return nil }
            if packet == nil { packet = [UInt8](repeating: 0, count: total) }
            guard packet!.count == total else { return nil }
            packet!.replaceSubrange(offset..<(offset + chunk.count), with: chunk)
            filled += chunk.count
        }
        guard let packet, filled == packet.count else { return nil }
        return packet
    }

    /// The file with its XMP segments (standard and extended) replaced by `standard` and the
    /// chunks of `extended`; every other byte is copied. The new XMP goes where the old one was,
    /// else after the APP0/EXIF segments — always before an MPF segment, whose image offsets
    /// count from its own position and must not move relative to the images after EOI.
    func replacingXMP(standard: [UInt8], extended: (guid: String, packet: [UInt8])?) throws -> [UInt8] {
        var newSegments: [UInt8] = []
        func appendSegment(_ payload: [UInt8]) {
            let length = payload.count + 2
            newSegments += [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        }
        guard standard.count <= Self.maxStandardXMP else { throw ImageError("JPEG: XMP packet too large for one segment") }
        appendSegment(Self.xmpSignature + standard)
        if let extended {
            let guid = Array(extended.guid.utf8)
            let total = extended.packet.count
            var offset = 0
            while offset < total {
                let chunk = extended.packet[offset..<min(offset + Self.maxExtendedChunk, total)]
                let lengths = [total, offset].flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
                appendSegment(Self.extendedXMPSignature + guid + lengths + chunk)
                offset += chunk.count
            }
        }
        let old = segments.indices.filter { isXMP(segments[$0]) || isExtendedXMP(segments[$0]) }
        let mpf = segments.firstIndex(where: isMPF)
        var insertAt = old.first ?? (segments.firstIndex { !($0.marker == 0xE0 || isExif($0)) } ?? segments.count)
        if let mpf {
            if old.contains(where: { $0 > mpf }) {
                throw ImageError("JPEG: XMP after the MPF segment; rewriting it would break the offsets of the embedded images")
            }
            insertAt = min(insertAt, mpf)
        }
        var out: [UInt8] = [0xFF, 0xD8]
        out.reserveCapacity(bytes.count + newSegments.count)
        for (k, s) in segments.enumerated() {
            if k == insertAt { out += newSegments }
            if old.contains(k) { continue }
            out += bytes[s.range]
        }
        if insertAt >= segments.count { out += newSegments }
        out += bytes[scanStart...]
        return out
    }
}
