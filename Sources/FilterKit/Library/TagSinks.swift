import Foundation
import ImageIO
#if canImport(Glibc)
import Glibc
#endif

/// Rewrites each input file in place: the new bytes go to a temp file in the same folder, which
/// replaces the photo only when complete, with the photo's mode and owner. A file whose bytes would
/// not change is not touched. Options: keep the modification time; keep the original as
/// `photo.jpg_original` (exiftool's name) — an existing backup is never replaced.
public final class InPlaceSink: OutputSink {
    public var keepModificationTime = false
    public var backup = false
    public var impliedFormat: ImageFormat? { nil }

    public init() {}

    public func write(_ file: OutputFile) throws -> String? {
        guard !file.unchanged else { return file.inputPath }
        var st = stat()
        guard stat(file.inputPath, &st) == 0 else {
            throw OutputError(description: "\(file.inputPath): cannot rewrite: \(String(cString: strerror(errno)))")
        }
        let out = try SafeFile(path: file.inputPath, like: st)
        try out.write(file.bytes)
        if backup {
            let copy = file.inputPath + "_original"
            if !FileManager.default.fileExists(atPath: copy) && link(file.inputPath, copy) != 0 {
                out.discard()
                throw OutputError(description: "\(copy): cannot make the backup: \(String(cString: strerror(errno)))")
            }
        }
        try out.commit()
        if keepModificationTime {
            var times = [st.st_atim, st.st_mtim]
            utimensat(AT_FDCWD, file.inputPath, &times, 0)
        }
        return file.inputPath
    }

    public func close(complete: Bool) throws {}
}

/// Writes each input's XMP sidecar next to it (`photo.jpg.xmp` or `photo.xmp`); the photo itself is
/// never opened for writing. The bytes it gets are the whole sidecar packet (see `SidecarIO`).
public final class SidecarSink: OutputSink {
    public let naming: XMPFiles.SidecarNaming
    private var written = Set<String>()
    public var impliedFormat: ImageFormat? { nil }

    public init(naming: XMPFiles.SidecarNaming) { self.naming = naming }

    public func write(_ file: OutputFile) throws -> String? {
        let path = XMPFiles.sidecarPath(for: file.inputPath, naming: naming)
        guard written.insert(path).inserted else {
            throw OutputError(description: "\(path): another photo of this run has the same sidecar; use --sidecar-name full")
        }
        guard !file.bytes.isEmpty, !file.unchanged else { return nil }
        let out = try SafeFile(path: path)
        try out.write(file.bytes)
        try out.commit()
        return path
    }

    public func close(complete: Bool) throws {}
}

/// Writes nothing (a dry run).
public final class NullSink: OutputSink {
    public var impliedFormat: ImageFormat? { nil }
    public init() {}
    public func write(_ file: OutputFile) throws -> String? { nil }
    public func close(complete: Bool) throws {}
}
