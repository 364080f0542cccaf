import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// XMP in files: the packet embedded in an image, read from its headers only (a library re-run
/// must not read every photo whole), and XMP sidecar files next to images.
public enum XMPFiles {
    /// How a sidecar is named next to `photo.jpg`: `photo.jpg.xmp` (darktable, digiKam's default)
    /// or `photo.xmp` (Lightroom, RawTherapee, exiftool's examples, digiKam's "commercial" option).
    public enum SidecarNaming: String, CaseIterable, Sendable {
        case full, short
    }

    public static func sidecarPath(for image: String, naming: SidecarNaming) -> String {
        switch naming {
        case .full: image + ".xmp"
        case .short: (image as NSString).deletingPathExtension + ".xmp"
        }
    }

    /// A sidecar's packet; nil when there is no such file.
    public static func readSidecar(_ path: String) throws -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw ImageError("\(path): cannot read") }
        guard data.count <= XMLDocument.maxBytes else { throw ImageError("\(path): larger than \(XMLDocument.maxBytes >> 20) MiB") }
        return [UInt8](data)
    }

    /// The image's XMP packet (JPEG's extended part merged), reading as little of the file as its
    /// structure allows: a JPEG's segments up to the first scan, PNG and WebP chunk headers.
    public static func embeddedXMP(path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let head = try pread(fd, 0, 12)
        switch ImageFormat.sniff(head) {
        case .jpeg:
            var size = 1 << 17
            while true {
                let bytes = try pread(fd, 0, size)
                if let jpeg = try? JPEGContainer(bytes) {
                    return try EmbeddedXMP.read(Array(bytes[..<jpeg.scanStart]) + [0xFF, 0xDA], format: .jpeg)
                }
                guard bytes.count == size else { return try EmbeddedXMP.read(bytes, format: .jpeg) }   // throws the parse error
                size *= 2
            }
        case .png:
            return try chunkXMP(fd, start: 8, header: { h in (Int(h[0]) << 24 | Int(h[1]) << 16 | Int(h[2]) << 8 | Int(h[3]),
                                                              String(decoding: h[4..<8], as: UTF8.self), 4) },
                                wanted: "iTXt") { data in
                data.starts(with: PNGContainer.xmpKeyword + [0]) ? PNGContainer.itxtText(data) : nil
            }
        case .webp:
            return try chunkXMP(fd, start: 12, header: { h in (WebPContainer.le32(h, 4), String(decoding: h[0..<4], as: UTF8.self), 0) },
                                wanted: "XMP ", pad: true) { $0 }
        case .pnm, .pam:
            return nil
        case nil:
            throw ImageError("\(path): not a JPEG, PNG or WebP image")
        }
    }

    /// Walks 8-byte chunk headers; reads only chunks of type `wanted` and returns the first one `extract` accepts.
    private static func chunkXMP(_ fd: Int32, start: Int, header: ([UInt8]) -> (length: Int, type: String, trailer: Int),
                                 wanted: String, pad: Bool = false, extract: ([UInt8]) -> [UInt8]?) throws -> [UInt8]? {
        var offset = start
        while true {
            let h = try pread(fd, offset, 8)
            guard h.count == 8 else { return nil }
            let (length, type, trailer) = header(h)
            guard length >= 0, length <= 1 << 31 else { throw ImageError("bad chunk length at byte \(offset)") }
            if type == wanted, length <= XMLDocument.maxBytes, let xmp = extract(try pread(fd, offset + 8, length)) { return xmp }
            if type == "IEND" { return nil }
            offset += 8 + length + trailer + (pad ? length & 1 : 0)
        }
    }

    private static func pread(_ fd: Int32, _ offset: Int, _ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + got, count - got, off_t(offset + got)) }
            if n < 0 { if errno == EINTR { continue }; throw ImageError("read error: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            got += n
        }
        return Array(out[..<got])
    }
}
