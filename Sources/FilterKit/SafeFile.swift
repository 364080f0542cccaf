import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing a file so that whatever was there before survives anything short of success:
/// the bytes go to a temp file beside the target (`.NAME.cnnpipe-PID-XXXXXX`), which is renamed
/// over the target only when complete. Special targets are never replaced: a character device
/// or a FIFO (`-o /dev/null`, a named pipe) is written through directly; a symbolic link is
/// followed, so its target is replaced and the link kept. Temp files are registered so that a
/// signal that ends the process removes them (`TempFiles.removeAll`).
public final class SafeFile {
    public let path: String
    /// Where the bytes finally land (the link's target for a symbolic link).
    let destination: String
    let temp: String?
    let fd: Int32
    private var finished = false

    /// Opens `path` for writing; throws OutputError with a one-line message. `like` gives the mode
    /// and owner to keep (rewriting a file in place).
    public init(path: String, mode: mode_t = 0o644, like: stat? = nil) throws {
        self.path = path
        var st = stat()
        var target = path
        if lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                throw OutputError(description: "\(path): a symbolic link to nothing (\(String(cString: strerror(errno))))")
            }
            target = String(cString: resolved)
            free(resolved)
        }
        destination = target
        if stat(target, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                break
            case S_IFCHR, S_IFIFO:
                let fd = open(target, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw OutputError(description: "\(path): cannot open: \(String(cString: strerror(errno)))") }
                self.fd = fd
                temp = nil
                return
            case S_IFDIR:
                throw OutputError(description: "\(path): is a folder")
            default:
                throw OutputError(description: "\(path): not a regular file, a character device or a FIFO; not writing over it")
            }
        }
        let dir = (target as NSString).deletingLastPathComponent
        let base = (target as NSString).lastPathComponent
        var template = Array(((dir.isEmpty ? "." : dir) + "/.\(base)\(TempFiles.marker)\(getpid())-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw OutputError(description: "\(path): cannot create: \(String(cString: strerror(errno)))") }
        if let like {
            fchmod(fd, like.st_mode & 0o7777)
            _ = fchown(fd, like.st_uid, like.st_gid)      // only root may give a file away; keep ours otherwise
        } else {
            fchmod(fd, mode)
        }
        self.fd = fd
        temp = String(cString: template)
        TempFiles.register(temp!)
    }

    deinit { if !finished { discard() } }

    public func write(_ bytes: [UInt8]) throws { try writeAll(fd, bytes, name: path) }

    /// Makes the written bytes the file (rename over the target); the temp file is gone either way.
    public func commit() throws {
        guard !finished else { return }
        finished = true
        defer { if let temp { TempFiles.unregister(temp) } }
        guard let temp else { close(fd); return }
        guard fsync(fd) == 0 || errno == EINVAL, close(fd) == 0 else {
            unlink(temp)
            throw OutputError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
        }
        guard rename(temp, destination) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temp)
            throw OutputError(description: "\(path): cannot write: \(message)")
        }
    }

    /// Drops what was written; the earlier file (if any) is untouched.
    public func discard() {
        guard !finished else { return }
        finished = true
        close(fd)
        if let temp { unlink(temp); TempFiles.unregister(temp) }
    }
}

/// The temp files the process has open, removed by `removeAll` from a signal handler (only
/// async-signal-safe calls there: the paths are kept as C strings in a fixed table).
public enum TempFiles {
    static let marker = ".cnnpipe-"
    private static let capacity = 256
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    private static let lock = Lock()

    static func register(_ path: String) {
        lock.locked {
            for i in 0..<capacity where slots[i] == nil { slots[i] = strdup(path); return }
        }
    }

    static func unregister(_ path: String) {
        lock.locked {
            for i in 0..<capacity where slots[i].map({ String(cString: $0) == path }) == true {
                let p = slots[i]
                slots[i] = nil
                free(p)
                return
            }
        }
    }

    /// From a signal handler: unlink every registered temp file.
    public static func removeAll() {
        for i in 0..<capacity { if let p = slots[i] { unlink(p) } }
    }

    /// Removes temp files a killed cnnpipe (kill -9, power loss) left in `folder`: names with the
    /// marker whose process is gone.
    public static func sweep(folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(".") && name.contains(marker) {
            let tail = name[name.range(of: marker, options: .backwards)!.upperBound...]
            guard let dash = tail.firstIndex(of: "-"), let pid = Int32(tail[..<dash]), tail[tail.index(after: dash)...].count == 6 else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }   // still running
            unlink((folder as NSString).appendingPathComponent(name))
        }
    }
}

func writeAll(_ fd: Int32, _ bytes: [UInt8], name: String) throws {
    try bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                var e = OutputError(description: "\(name): write failed: \(String(cString: strerror(errno)))")
                e.isBrokenPipe = errno == EPIPE
                throw e
            }
            offset += n
        }
    }
}
