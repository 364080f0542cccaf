import FrameModel

/// Netpbm's raw formats, the cheap way to pipe video frames (`ffmpeg -f image2pipe -c:v ppm`):
/// PGM (P5) and PPM (P6) — magic, width, height, maxval as whitespace-separated decimal tokens
/// (`#` comments to end of line), then exactly one whitespace byte — and PAM (P7) — `KEY value`
/// lines up to `ENDHDR`. Samples follow row by row, one byte each for MAXVAL 255, two big-endian
/// bytes for 65535. There is no end marker: the header says how long the raster is.
struct PNMHeader: Equatable {
    var width: Int
    var height: Int
    var channels: Int
    var maxval: Int
    var headerLength: Int

    var bytesPerSample: Int { maxval > 255 ? 2 : 1 }
    var length: Int { headerLength + width * height * channels * bytesPerSample }

    static let maxHeaderLength = 16 << 10
    static let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C]

    /// The header at the start of `b`; nil when `b` ends inside it (more bytes are needed).
    static func parse(_ b: ArraySlice<UInt8>) throws -> PNMHeader? {
        guard b.count >= 2 else { return nil }
        let start = b.startIndex
        guard b[start] == UInt8(ascii: "P") else { throw ImageError("PNM: bad magic number") }
        switch b[start + 1] {
        case UInt8(ascii: "5"), UInt8(ascii: "6"): return try parseNetpbm(b, channels: b[start + 1] == UInt8(ascii: "5") ? 1 : 3)
        case UInt8(ascii: "7"): return try parsePAM(b)
        default: throw ImageError("PNM: magic P\(Character(Unicode.Scalar(b[start + 1]))) is not a raw PGM, PPM or PAM")
        }
    }

    private static func parseNetpbm(_ b: ArraySlice<UInt8>, channels: Int) throws -> PNMHeader? {
        var i = b.startIndex + 2
        var values: [Int] = []
        let names = ["width", "height", "maxval"]
        while values.count < 3 {
            while i < b.endIndex, whitespace.contains(b[i]) || b[i] == UInt8(ascii: "#") {
                if b[i] == UInt8(ascii: "#") {
                    while i < b.endIndex, b[i] != 0x0A, b[i] != 0x0D { i += 1 }
                } else {
                    i += 1
                }
            }
            let tokenStart = i
            while i < b.endIndex, !whitespace.contains(b[i]), b[i] != UInt8(ascii: "#") { i += 1 }
            guard i < b.endIndex else { return try needMore(i - b.startIndex) }
            values.append(try number(b[tokenStart..<i], names[values.count]))
        }
        guard whitespace.contains(b[i]) else { throw ImageError("PNM: no whitespace after the maxval") }
        return try checked(PNMHeader(width: values[0], height: values[1], channels: channels, maxval: values[2],
                                     headerLength: i + 1 - b.startIndex))
    }

    private static func parsePAM(_ b: ArraySlice<UInt8>) throws -> PNMHeader? {
        var i = b.startIndex + 2
        var fields: [String: Int] = [:]
        var tupleType: [String] = []
        while true {
            guard let lineEnd = b[i...].firstIndex(of: 0x0A) else { return try needMore(b.count) }
            let words = b[i..<lineEnd].split(whereSeparator: { whitespace.contains($0) })
                .map { String(decoding: $0, as: UTF8.self) }
            i = lineEnd + 1
            guard let key = words.first, !key.hasPrefix("#") else { continue }
            switch key {
            case "ENDHDR":
                guard let w = fields["WIDTH"], let h = fields["HEIGHT"], let d = fields["DEPTH"], let m = fields["MAXVAL"] else {
                    throw ImageError("PAM: header lacks one of WIDTH, HEIGHT, DEPTH, MAXVAL")
                }
                let expected = ["GRAYSCALE": 1, "GRAYSCALE_ALPHA": 2, "RGB": 3, "RGB_ALPHA": 4]
                let type = tupleType.joined(separator: " ")
                if !type.isEmpty {
                    guard let c = expected[type] else { throw ImageError("PAM: TUPLTYPE \(type) not supported") }
                    guard c == d else { throw ImageError("PAM: TUPLTYPE \(type) with DEPTH \(d)") }
                }
                guard (1...4).contains(d) else { throw ImageError("PAM: DEPTH \(d) not supported (1 to 4)") }
                return try checked(PNMHeader(width: w, height: h, channels: d, maxval: m, headerLength: i - b.startIndex))
            case "TUPLTYPE":
                tupleType += words.dropFirst()
            case "WIDTH", "HEIGHT", "DEPTH", "MAXVAL":
                guard words.count == 2 else { throw ImageError("PAM: bad \(key) line") }
                fields[key] = try number(Array(words[1].utf8)[...], key.lowercased())
            default:
                throw ImageError("PAM: unknown header line \(key.prefix(20))")
            }
        }
    }

    private static func needMore(_ consumed: Int) throws -> PNMHeader? {
        guard consumed < maxHeaderLength else { throw ImageError("PNM: header longer than \(maxHeaderLength >> 10) KiB") }
        return nil
    }

    private static func number(_ token: ArraySlice<UInt8>, _ name: String) throws -> Int {
        guard !token.isEmpty, token.count <= 9, token.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw ImageError("PNM: bad \(name) '\(String(decoding: token.prefix(12), as: UTF8.self))'")
        }
        return token.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    private static func checked(_ h: PNMHeader) throws -> PNMHeader {
        guard h.width > 0, h.height > 0 else { throw ImageError("PNM: image has no pixels (\(h.width)x\(h.height))") }
        guard h.maxval == 255 || h.maxval == 65535 else {
            throw ImageError("PNM: maxval \(h.maxval) not supported (255 or 65535)")
        }
        return h
    }
}

enum PNM {
    static func decode(_ data: [UInt8], format: ImageFormat, limits: DecodeLimits) throws -> DecodedImage {
        guard let h = try PNMHeader.parse(data[...]) else { throw ImageError("PNM: truncated header") }
        guard h.width * h.height <= limits.maxPixels else {
            throw ImageError("\(h.width)x\(h.height) is \(h.width * h.height) pixels, above the limit of \(limits.maxPixels) pixels "
                + "(raise it with --max-megapixels)")
        }
        guard data.count >= h.length else {
            throw ImageError("PNM: truncated (\(data.count) of \(h.length) bytes)")
        }
        var bytes = Array(data[h.headerLength..<h.length])
        if h.bytesPerSample == 2 { swapBytes(&bytes) }
        let pixelFormat = PixelFormat.integer(channels: h.channels, bitDepth: 8 * h.bytesPerSample)!
        return DecodedImage(image: Image(width: h.width, height: h.height, format: pixelFormat, bytes: bytes),
                            metadata: FrameMetadata(source: CodedSource(bytes: data, format: format.rawValue, orientation: .upright)),
                            format: format)
    }

    /// `.pnm` writes P5 (gray) or P6 (colour) without alpha; `.pam` writes P7 with the frame's channels.
    static func encode(_ image: Image, as format: ImageFormat, options: EncodeOptions) -> [UInt8] {
        let ready = image.converted(to: Codec.encodableFormat(for: image.format, in: format, options: options))
        let maxval = ready.format.bytesPerSample == 2 ? 65535 : 255
        let header: String
        if format == .pam {
            let type = ["GRAYSCALE", "GRAYSCALE_ALPHA", "RGB", "RGB_ALPHA"][ready.format.channels - 1]
            header = "P7\nWIDTH \(ready.width)\nHEIGHT \(ready.height)\nDEPTH \(ready.format.channels)\n"
                + "MAXVAL \(maxval)\nTUPLTYPE \(type)\nENDHDR\n"
        } else {
            header = "P\(ready.format.channels == 1 ? 5 : 6)\n\(ready.width) \(ready.height)\n\(maxval)\n"
        }
        var raster = ready.bytes
        if maxval == 65535 { swapBytes(&raster) }
        return Array(header.utf8) + raster
    }

    /// Big-endian samples ↔ the host's (little-endian) order.
    private static func swapBytes(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { raw in
            let p = raw.bindMemory(to: UInt16.self)
            for i in p.indices { p[i] = p[i].byteSwapped }
        }
    }
}
