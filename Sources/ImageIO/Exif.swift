/// Just enough of TIFF/EXIF to find and reset the orientation tag (0x0112) in IFD0.
public enum Exif {
    /// The orientation (1...8) stored in raw TIFF bytes, or nil when absent or malformed.
    public static func orientation(_ tiff: [UInt8]) -> Int? {
        guard let offset = orientationValueOffset(tiff) else { return nil }
        let value = Int(read16(tiff, offset, bigEndian: tiff[0] == 0x4D))
        return (1...8).contains(value) ? value : nil
    }

    /// A copy with the orientation set to `value`; unchanged when there is no orientation tag.
    public static func settingOrientation(_ tiff: [UInt8], to value: Int) -> [UInt8] {
        guard let offset = orientationValueOffset(tiff) else { return tiff }
        var out = tiff
        let v = UInt16(value)
        if tiff[0] == 0x4D {
            out[offset] = UInt8(v >> 8); out[offset + 1] = UInt8(v & 0xFF)
        } else {
            out[offset] = UInt8(v & 0xFF); out[offset + 1] = UInt8(v >> 8)
        }
        return out
    }

    private static func orientationValueOffset(_ t: [UInt8]) -> Int? {
        guard t.count >= 8 else { return nil }
        let big: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): big = false
        case (0x4D, 0x4D): big = true
        default: return nil
        }
        guard read16(t, 2, bigEndian: big) == 42 else { return nil }
        let ifd = Int(read32(t, 4, bigEndian: big))
        guard ifd >= 8, ifd + 2 <= t.count else { return nil }
        let count = Int(read16(t, ifd, bigEndian: big))
        for i in 0..<count {
            let entry = ifd + 2 + 12 * i
            guard entry + 12 <= t.count else { return nil }
            if read16(t, entry, bigEndian: big) == 0x0112, read16(t, entry + 2, bigEndian: big) == 3 {
                return entry + 8
            }
        }
        return nil
    }

    static func read16(_ b: [UInt8], _ i: Int, bigEndian: Bool) -> UInt16 {
        bigEndian ? UInt16(b[i]) << 8 | UInt16(b[i + 1]) : UInt16(b[i + 1]) << 8 | UInt16(b[i])
    }

    static func read32(_ b: [UInt8], _ i: Int, bigEndian: Bool) -> UInt32 {
        let v = (0..<4).map { UInt32(b[i + $0]) }
        return bigEndian ? v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3] : v[3] << 24 | v[2] << 16 | v[1] << 8 | v[0]
    }
}
