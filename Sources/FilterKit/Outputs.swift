import Foundation
import ImageIO
#if canImport(Glibc)
import Glibc
#endif

/// Where encoded results go. `write` is called in stream order from one thread at a time.
public protocol OutputSink: AnyObject {
    /// The format a sink implies (from a file name's extension), if any.
    var impliedFormat: ImageFormat? { get }
    /// Writes one encoded image; returns the path written, if it is a file of its own.
    func write(_ bytes: [UInt8], format: ImageFormat, stem: String, subIndex: Int, index: Int) throws -> String?
    /// Called once after the last write (also after a stop on error: what was written is complete).
    func close() throws
}

public struct OutputError: Error, CustomStringConvertible {
    public let description: String
    /// The reader went away (e.g. `| head`): stop quietly.
    public var isBrokenPipe = false
}

/// Images back to back on a file descriptor (stdout).
public final class StreamSink: OutputSink {
    private let fd: Int32
    public init(fileDescriptor: Int32 = 1) { fd = fileDescriptor }
    public var impliedFormat: ImageFormat? { nil }

    public func write(_ bytes: [UInt8], format: ImageFormat, stem: String, subIndex: Int, index: Int) throws -> String? {
        try writeAll(fd, bytes, name: "stdout")
        return nil
    }

    public func close() throws {}
}

/// All images back to back in one file, which appears (atomically, by rename) when the run ends.
public final class FileSink: OutputSink {
    private let path: String
    private let temp: String
    private let fd: Int32
    private var count = 0
    public let impliedFormat: ImageFormat?

    public init(path: String) throws {
        self.path = path
        impliedFormat = ImageFormat(fileExtension: (path as NSString).pathExtension)
        (temp, fd) = try makeTempFile(beside: path)
    }

    public func write(_ bytes: [UInt8], format: ImageFormat, stem: String, subIndex: Int, index: Int) throws -> String? {
        try writeAll(fd, bytes, name: temp)
        count += 1
        return path
    }

    public func close() throws {
        Glibc.close(fd)
        if count == 0 { unlink(temp); return }
        guard rename(temp, path) == 0 else {
            unlink(temp)
            throw OutputError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
        }
    }
}

/// One file per image in a folder, named from a template; each file written atomically.
/// Template fields: {stem} the input's name without extension, {index} the 0-based image
/// number (zero-padded to 4 digits), {n} the frame number within one input, {ext} the format's extension.
public final class DirectorySink: OutputSink {
    private let directory: String
    private let template: String
    private var used = Set<String>()
    public var impliedFormat: ImageFormat? { nil }

    public init(directory: String, template: String = "{stem}.{ext}") throws {
        self.directory = directory
        self.template = template
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public func write(_ bytes: [UInt8], format: ImageFormat, stem: String, subIndex: Int, index: Int) throws -> String? {
        var name = template.replacingOccurrences(of: "{stem}", with: stem)
            .replacingOccurrences(of: "{index}", with: String(format: "%04d", index))
            .replacingOccurrences(of: "{n}", with: String(subIndex))
            .replacingOccurrences(of: "{ext}", with: format.fileExtension)
        if subIndex > 0 && !template.contains("{n}") {
            let ext = (name as NSString).pathExtension
            name = (name as NSString).deletingPathExtension + "-\(subIndex)" + (ext.isEmpty ? "" : "." + ext)
        }
        let path = (directory as NSString).appendingPathComponent(name)
        guard !used.contains(path) else {
            throw OutputError(description: "\(path): two images would get this name; use {index} in the -o template")
        }
        used.insert(path)
        let (temp, fd) = try makeTempFile(beside: path)
        do {
            try writeAll(fd, bytes, name: path)
            Glibc.close(fd)
        } catch {
            Glibc.close(fd)
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            unlink(temp)
            throw OutputError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
        }
        return path
    }

    public func close() throws {}
}

/// `-o` semantics: "-" stdout; an existing folder, a name ending in "/" or a template with "{": a folder of
/// files; anything else: one file holding every image.
public func makeSink(for output: String?) throws -> OutputSink {
    guard let output, output != "-" else { return StreamSink() }
    var isDir: ObjCBool = false
    if output.contains("{") {
        let dir = (output as NSString).deletingLastPathComponent
        return try DirectorySink(directory: dir.isEmpty ? "." : dir, template: (output as NSString).lastPathComponent)
    }
    if output.hasSuffix("/") || (FileManager.default.fileExists(atPath: output, isDirectory: &isDir) && isDir.boolValue) {
        return try DirectorySink(directory: output)
    }
    return try FileSink(path: output)
}

private func makeTempFile(beside path: String) throws -> (String, Int32) {
    let dir = (path as NSString).deletingLastPathComponent
    let base = (path as NSString).lastPathComponent
    var template = Array(((dir.isEmpty ? "." : dir) + "/.\(base).tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
        throw OutputError(description: "\(path): cannot create: \(String(cString: strerror(errno)))")
    }
    fchmod(fd, 0o644)
    return (String(cString: template), fd)
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8], name: String) throws {
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
