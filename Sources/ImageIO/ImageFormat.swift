/// The container formats cnnpipe reads and writes. `pnm` is netpbm's raw PGM/PPM (P5/P6, no alpha),
/// `pam` its P7 (any of gray, gray+alpha, RGB, RGBA): uncompressed frames for video pipes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg, png, webp, pnm, pam

    /// Recognises a format from the first bytes of an image (12 are enough).
    public static func sniff<C: Collection>(_ head: C) -> ImageFormat? where C.Element == UInt8 {
        let b = Array(head.prefix(12))
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 8, b[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.count >= 12, b[0..<4].elementsEqual(Array("RIFF".utf8)), b[8..<12].elementsEqual(Array("WEBP".utf8)) {
            return .webp
        }
        if b.count >= 3, b[0] == UInt8(ascii: "P"), PNMHeader.whitespace.contains(b[2]) {
            if b[1] == UInt8(ascii: "5") || b[1] == UInt8(ascii: "6") { return .pnm }
            if b[1] == UInt8(ascii: "7") { return .pam }
        }
        return nil
    }

    /// The formats read, as messages name them ("no … images in this folder").
    public static let readableNames = "JPEG, PNG, WebP, PPM, PGM or PAM"

    /// From a file name extension (case-insensitive): jpg, jpeg, png, webp, ppm, pgm, pnm, pam.
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case "jpg", "jpeg", "jpe": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        case "ppm", "pgm", "pnm": self = .pnm
        case "pam": self = .pam
        default: return nil
        }
    }

    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .webp: "webp"
        case .pnm: "ppm"
        case .pam: "pam"
        }
    }
}

/// An error about one image, with a one-line description.
public struct ImageError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
