/// The XMP of a coded image (JPEG, PNG, WebP) as one logical packet, read from and written into
/// the file's own bytes without touching anything else — the coded pixels, the other metadata
/// segments and chunks, trailing data — byte for byte.
///
/// JPEG holds at most 65,502 bytes of XMP in one APP1 segment; a larger packet is split as the
/// XMP specification (part 3, §1.1.3.1) says: the standard packet keeps what fits plus
/// `xmpNote:HasExtendedXMP` (the MD5 of the extended packet), the rest goes into an extended
/// packet carried in as many `http://ns.adobe.com/xmp/extension/` segments as it needs. On reading,
/// the extended packet's descriptions are merged back into the standard one.
public enum EmbeddedXMP {
    static let noteNamespace = "http://ns.adobe.com/xmp/note/"

    /// The file's XMP packet, or nil when it has none.
    public static func read(_ bytes: [UInt8], format: ImageFormat) throws -> [UInt8]? {
        switch format {
        case .png: return try PNGContainer(bytes).xmp
        case .webp: return try WebPContainer(bytes).xmp
        case .pnm, .pam: return nil
        case .jpeg:
            let jpeg = try JPEGContainer(bytes)
            guard let standard = jpeg.xmp else { return nil }
            guard let editor = XMPEditor(standard),
                  let guid = editor.simpleValue(noteNamespace, "HasExtendedXMP"),
                  let extended = jpeg.extendedXMP(guid: guid), let extendedEditor = XMPEditor(extended) else {
                return standard
            }
            var merged = editor
            merged.removeAttributes([(noteNamespace, "HasExtendedXMP")])
            merged.removeProperties([(noteNamespace, "HasExtendedXMP")])
            merged.removeEmptyDescriptions()
            for d in extendedEditor.topLevelDescriptions() {
                merged.appendDescription(String(decoding: d.text, as: UTF8.self) + "\n")
            }
            return merged.bytes
        }
    }

    /// The file with `packet` as its XMP; every other byte is kept.
    public static func write(_ packet: [UInt8], into bytes: [UInt8], format: ImageFormat) throws -> [UInt8] {
        switch format {
        case .png: return try PNGContainer(bytes).replacingXMP(packet)
        case .webp: return try WebPContainer(bytes).replacingXMP(packet)
        case .pnm, .pam: return bytes      // raw frames carry no metadata
        case .jpeg:
            let jpeg = try JPEGContainer(bytes)
            if packet.count <= JPEGContainer.maxStandardXMP {
                return try jpeg.replacingXMP(standard: packet, extended: nil)
            }
            let (standard, extended) = try split(packet)
            return try jpeg.replacingXMP(standard: standard, extended: (MD5.hex(extended), extended))
        }
    }

    /// A packet too large for one JPEG segment as a standard packet and an extended one: whole
    /// descriptions move to the extended packet, largest first, until the standard one fits.
    static func split(_ packet: [UInt8]) throws -> (standard: [UInt8], extended: [UInt8]) {
        guard var standard = XMPEditor(packet), var extended = XMPEditor(nil) else {
            throw ImageError("XMP: the packet is not well-formed XML")
        }
        // The note that will point at the extended packet: 32 hex digits of placeholder, same size.
        let note = { (guid: String) in
            "<rdf:Description rdf:about=\"\" xmlns:xmpNote=\"\(noteNamespace)\" xmpNote:HasExtendedXMP=\"\(guid)\"/>\n"
        }
        let placeholder = String(repeating: "0", count: 32)
        var moved: [Range<Int>] = []
        var size = packet.count + note(placeholder).utf8.count
        for d in standard.topLevelDescriptions().sorted(by: { $0.range.count > $1.range.count }) where size > JPEGContainer.maxStandardXMP {
            extended.appendDescription(String(decoding: d.text, as: UTF8.self) + "\n")
            moved.append(d.range)
            size -= d.range.count
        }
        standard.removeRanges(moved)
        guard standard.bytes.count + note(placeholder).utf8.count <= JPEGContainer.maxStandardXMP else {
            throw ImageError("XMP: the packet cannot be split into a standard packet of at most 65502 bytes")
        }
        standard.appendDescription(note(MD5.hex(extended.bytes)))
        return (standard.bytes, extended.bytes)
    }
}
