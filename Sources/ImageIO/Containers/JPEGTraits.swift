/// How a JPEG was encoded, so a re-encode can match it: the IJG quality its quantisation tables
/// correspond to, its chroma subsampling, whether it is progressive, its JFIF density, and the
/// segments an encoder does not make itself (IPTC in APP13, Adobe APP14, comments, APP3–APP15).
public struct JPEGTraits: Sendable, Equatable {
    public enum Subsampling: Int32, Sendable { case s444 = 0, s420 = 1, s422 = 2, s440 = 3 }

    public var quality: Int?
    public var subsampling: Subsampling?
    public var progressive = false
    /// JFIF density unit (0 none, 1 dpi, 2 dpcm) and values.
    public var density: (unit: UInt8, x: UInt16, y: UInt16)?
    /// Whole segments (marker, length, payload) to copy into a new encoding.
    public var keptSegments: [UInt8] = []

    public static func == (a: JPEGTraits, b: JPEGTraits) -> Bool {
        a.quality == b.quality && a.subsampling == b.subsampling && a.progressive == b.progressive
            && a.density?.unit == b.density?.unit && a.density?.x == b.density?.x && a.density?.y == b.density?.y
            && a.keptSegments == b.keptSegments
    }

    /// The traits of a JPEG file; nil when its header cannot be parsed.
    public init?(_ bytes: [UInt8]) {
        guard let jpeg = try? JPEGContainer(bytes) else { return nil }
        var tables: [Int: [Int]] = [:]
        var components = 0
        for s in jpeg.segments {
            let b = Array(jpeg.payload(s))
            switch s.marker {
            case 0xDB:
                tables.merge(Self.quantisationTables(b)) { _, new in new }
            case 0xC0...0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF:
                progressive = [0xC2, 0xC6, 0xCA, 0xCE].contains(s.marker)
                guard b.count >= 6 else { break }
                components = Int(b[5])
                if components == 3, b.count >= 15, b[10] == 0x11, b[13] == 0x11 {
                    subsampling = [0x22: .s420, 0x21: .s422, 0x12: .s440, 0x11: .s444][b[7]]
                }
            default:
                break
            }
        }
        for s in jpeg.segments {
            let b = Array(jpeg.payload(s))
            switch s.marker {
            case 0xE0 where b.starts(with: Array("JFIF\u{0}".utf8)) && b.count >= 12:
                density = (b[7], UInt16(b[8]) << 8 | UInt16(b[9]), UInt16(b[10]) << 8 | UInt16(b[11]))
            case 0xEE where b.starts(with: Array("Adobe".utf8)) && b.count >= 12:
                // The colour transform it declares must be the new file's: YCbCr (1) for colour, none (0)
                // for grey. CMYK/YCCK sources are written as RGB, so their APP14 would lie.
                if (components == 3 && b[11] == 1) || (components == 1 && b[11] == 0) { keptSegments += jpeg.bytes[s.range] }
            case 0xE3...0xED, 0xEF, 0xFE:
                // APP3–APP13 (IPTC/Photoshop in APP13), APP15, comments. APP0-2 are JFIF, EXIF, XMP, ICC
                // and MPF: the encoder writes the first ones itself, MPF offsets would be wrong.
                keptSegments += jpeg.bytes[s.range]
            default:
                break
            }
        }
        quality = tables[0].map { Self.estimateQuality(luma: $0, chroma: tables[1]) }
    }

    /// Tables of a DQT payload by id, in natural (row-major) order.
    static func quantisationTables(_ b: [UInt8]) -> [Int: [Int]] {
        var out: [Int: [Int]] = [:]
        var i = 0
        while i < b.count {
            let precision16 = b[i] >> 4 != 0, id = Int(b[i] & 0x0F)
            let size = precision16 ? 128 : 64
            guard i + 1 + size <= b.count else { break }
            var table = [Int](repeating: 0, count: 64)
            for k in 0..<64 {
                let v = precision16 ? Int(b[i + 1 + 2 * k]) << 8 | Int(b[i + 2 + 2 * k]) : Int(b[i + 1 + k])
                table[zigzag[k]] = v
            }
            out[id] = table
            i += 1 + size
        }
        return out
    }

    /// The IJG quality (1...100) whose scaled standard tables are closest to the file's.
    static func estimateQuality(luma: [Int], chroma: [Int]?) -> Int {
        var best = 90, bestError = Int.max
        for q in 1...100 {
            let scale = q < 50 ? 5000 / q : 200 - 2 * q
            func error(_ table: [Int], _ base: [Int]) -> Int {
                zip(table, base).reduce(0) { sum, pair in
                    sum + abs(pair.0 - min(max((pair.1 * scale + 50) / 100, 1), 255))
                }
            }
            let e = error(luma, standardLuminance) + (chroma.map { error($0, standardChrominance) } ?? 0)
            if e < bestError { bestError = e; best = q }
        }
        return best
    }

    /// Position in natural order of the k-th coefficient in zig-zag order (ISO 10918-1 Figure A.6).
    static let zigzag = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13,
                         6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45,
                         38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63]

    /// The example tables of ISO 10918-1 Annex K (K.1, K.2), natural order: what libjpeg scales.
    static let standardLuminance = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                                    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                                    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
    static let standardChrominance = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
                                      47, 66, 99, 99, 99, 99, 99, 99] + [Int](repeating: 99, count: 32)
}
