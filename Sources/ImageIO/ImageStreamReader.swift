#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream holding images back to back (any mix of JPEG, PNG, WebP, PGM/PPM and PAM)
/// into one image at a time. Each image's end is found from its format's own structure — JPEG marker
/// segments and entropy-coded data up to EOI, PNG chunks up to IEND, the WebP RIFF length, the
/// raster size a PNM/PAM header declares — never by searching for magic bytes. Only the current image is held in memory.
public final class ImageStreamReader {
    public struct Chunk: Sendable {
        public let format: ImageFormat
        public let bytes: [UInt8]
    }

    private let fd: Int32
    private let closeOnDeinit: Bool
    private var buffer = [UInt8]()
    private var position = 0          // read position in buffer
    private var atEOF = false
    /// The largest single image accepted, so garbage cannot make us buffer without end.
    public var maxImageBytes = 1 << 30

    /// Reads from an open file descriptor (e.g. 0 for stdin).
    public init(fileDescriptor: Int32, closeOnDeinit: Bool = false) {
        self.fd = fileDescriptor
        self.closeOnDeinit = closeOnDeinit
    }

    /// Opens a file for reading.
    public convenience init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError("cannot open: \(String(cString: strerror(errno)))") }
        self.init(fileDescriptor: fd, closeOnDeinit: true)
    }

    /// Reads from bytes already in memory.
    public init(bytes: [UInt8]) {
        self.fd = -1
        self.closeOnDeinit = false
        self.buffer = bytes
        self.atEOF = true
    }

    deinit { if closeOnDeinit { close(fd) } }

    /// The next image, or nil at a clean end of stream. Throws on garbage or a truncated image;
    /// the stream cannot continue after an error because the next image's start is unknown.
    public func next() throws -> Chunk? {
        compact()
        guard try ensure(1) else { return nil }
        _ = try ensure(12)
        let head = buffer[position..<min(position + 12, buffer.count)]
        guard let format = ImageFormat.sniff(head) else {
            let hex = head.prefix(4).map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            throw ImageError("not a JPEG, PNG, WebP, PNM or PAM image (starts with bytes \(hex))")
        }
        let length: Int
        switch format {
        case .jpeg: length = try jpegLength()
        case .png: length = try pngLength()
        case .webp: length = try webpLength()
        case .pnm, .pam: length = try pnmLength()
        }
        let bytes = Array(buffer[position..<position + length])
        position += length
        return Chunk(format: format, bytes: bytes)
    }

    // MARK: format structure

    private func jpegLength() throws -> Int {
        var i = 2                                   // after SOI
        func truncated() -> ImageError { ImageError("JPEG: truncated (no EOI marker)") }
        while true {
            // Markers may be preceded by any number of 0xFF fill bytes.
            guard try ensure(i + 2) else { throw truncated() }
            guard byte(i) == 0xFF else { throw ImageError("JPEG: corrupt marker structure at byte \(i)") }
            var m = byte(i + 1)
            while m == 0xFF {
                i += 1
                guard try ensure(i + 2) else { throw truncated() }
                m = byte(i + 1)
            }
            i += 2
            switch m {
            case 0xD9: return i                      // EOI
            case 0x01, 0xD0...0xD7: continue         // standalone markers
            default: break
            }
            guard try ensure(i + 2) else { throw truncated() }
            let segment = Int(byte(i)) << 8 | Int(byte(i + 1))
            guard segment >= 2 else { throw ImageError("JPEG: bad segment length at byte \(i)") }
            i += segment
            if m == 0xDA { i = try skipEntropyCoded(from: i) }
            try checkSize(i, "JPEG: \(i) bytes without an EOI marker")
        }
    }

    /// Scan data ends at the first marker that is not a stuffed 0xFF00 or a restart marker.
    private func skipEntropyCoded(from start: Int) throws -> Int {
        var i = start
        while true {
            guard try ensure(i + 2) else { throw ImageError("JPEG: truncated inside scan data (no EOI marker)") }
            let available = buffer.count - position - 1
            let found: Int? = buffer.withUnsafeBufferPointer { p in
                var j = i
                while j < available {
                    if p[position + j] == 0xFF {
                        let n = p[position + j + 1]
                        if n != 0x00 && !(0xD0...0xD7).contains(n) && n != 0xFF { return j }
                        j += (n == 0xFF) ? 1 : 2
                    } else {
                        j += 1
                    }
                }
                return nil
            }
            if let found { return found }
            i = max(i, available)
            try checkSize(i, "JPEG: \(i) bytes without an EOI marker")
            guard try ensure(i + 2) else { throw ImageError("JPEG: truncated inside scan data (no EOI marker)") }
        }
    }

    private func pngLength() throws -> Int {
        var i = 8
        while true {
            guard try ensure(i + 8) else { throw ImageError("PNG: truncated (no IEND chunk)") }
            let length = Int(byte(i)) << 24 | Int(byte(i + 1)) << 16 | Int(byte(i + 2)) << 8 | Int(byte(i + 3))
            guard length <= 0x7FFF_FFFF else { throw ImageError("PNG: bad chunk length at byte \(i)") }
            let isEnd = byte(i + 4) == 0x49 && byte(i + 5) == 0x45 && byte(i + 6) == 0x4E && byte(i + 7) == 0x44
            try checkSize(i + 12 + length, "PNG: chunk at byte \(i) declares \(length) bytes")
            i += 12 + length
            guard try ensure(i) else { throw ImageError("PNG: truncated (no IEND chunk)") }
            if isEnd { return i }
        }
    }

    private func webpLength() throws -> Int {
        let size = Int(byte(4)) | Int(byte(5)) << 8 | Int(byte(6)) << 16 | Int(byte(7)) << 24
        let total = 8 + size + (size & 1)
        try checkSize(total, "WebP: RIFF header declares \(size) bytes")
        guard try ensure(8 + size) else { throw ImageError("WebP: truncated (RIFF size says \(total) bytes)") }
        // A missing odd-size pad byte at the very end of the stream is tolerated.
        return try ensure(total) ? total : 8 + size
    }

    private func pnmLength() throws -> Int {
        var header: PNMHeader?
        while header == nil {
            header = try PNMHeader.parse(buffer[position...])
            if header == nil, !(try ensure(buffer.count - position + 1)) { throw ImageError("PNM: truncated header") }
        }
        let h = header!
        try checkSize(h.length, "PNM: header declares \(h.width)x\(h.height)x\(h.channels) (\(h.length) bytes)")
        guard try ensure(h.length) else {
            throw ImageError("PNM: truncated (header declares \(h.length) bytes, the input ends after \(buffer.count - position))")
        }
        return h.length
    }

    // MARK: buffering

    private func byte(_ offset: Int) -> UInt8 { buffer[position + offset] }

    /// A declared length beyond the limit: either a corrupt length field or a huge image. If the
    /// input ends first, it is the first (the usual case: a bad byte in a small file).
    private func checkSize(_ n: Int, _ claim: @autoclosure () -> String) throws {
        guard n > maxImageBytes else { return }
        // Look ahead a little (64 MiB at most) to tell the two apart.
        var available = buffer.count - position
        while !atEOF && available <= 64 << 20, try ensure(available + 1) { available = buffer.count - position }
        if atEOF && available < n {
            throw ImageError("\(claim()), but the input ends after \(available) (corrupt length)")
        }
        throw ImageError("\(claim()): an image larger than \(maxImageBytes >> 20) MiB in the stream")
    }

    /// Makes at least `n` bytes available from the current position; false at end of stream.
    private func ensure(_ n: Int) throws -> Bool {
        while buffer.count - position < n {
            if atEOF { return false }
            let want = max(1 << 16, min(n - (buffer.count - position), 1 << 24))
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: want))
            let got = buffer.withUnsafeMutableBufferPointer { p -> Int in
                var r: Int
                repeat { r = read(fd, p.baseAddress! + old, want) } while r < 0 && errno == EINTR
                return r
            }
            if got < 0 {
                buffer.removeLast(want)
                throw ImageError("read error: \(String(cString: strerror(errno)))")
            }
            buffer.removeLast(want - got)
            if got == 0 { atEOF = true }
        }
        return true
    }

    private func compact() {
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
    }
}
