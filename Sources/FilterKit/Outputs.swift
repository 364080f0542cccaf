import Foundation
import ImageIO
#if canImport(Glibc)
import Glibc
#endif

/// One encoded result on its way out, with the input it came from.
public struct OutputFile: Sendable {
    public var bytes: [UInt8]
    public var format: ImageFormat
    /// The input's path ("-" for stdin), its stem and the folder it was found in below its argument.
    public var inputPath: String
    public var stem: String
    public var relativeDirectory: String
    /// Frame number within one input, and the running number of written images.
    public var subIndex: Int
    public var index: Int
    /// The bytes are the input file's own (nothing changed), so rewriting the input is pointless.
    public var unchanged = false

    /// The input's file name, extension included.
    public var inputName: String { (inputPath as NSString).lastPathComponent }
}

/// Where encoded results go. `write` is called in stream order from one thread at a time.
public protocol OutputSink: AnyObject {
    /// The format a sink implies (from a file name's extension), if any.
    var impliedFormat: ImageFormat? { get }
    /// Writes one encoded image; returns the path written, if it is a file of its own.
    func write(_ file: OutputFile) throws -> String?
    /// Called once after the last write. `complete` is false when the run failed or was
    /// interrupted: a sink holding everything in one file then keeps the earlier file.
    func close(complete: Bool) throws
}

public struct OutputError: Error, CustomStringConvertible {
    public let description: String
    /// The reader went away (e.g. `| head`): stop quietly.
    public var isBrokenPipe = false
    public init(description: String, isBrokenPipe: Bool = false) {
        self.description = description
        self.isBrokenPipe = isBrokenPipe
    }
}

/// Images back to back on a file descriptor (stdout).
public final class StreamSink: OutputSink {
    private let fd: Int32
    public init(fileDescriptor: Int32 = 1) { fd = fileDescriptor }
    public var impliedFormat: ImageFormat? { nil }

    public func write(_ file: OutputFile) throws -> String? {
        try writeAll(fd, file.bytes, name: "stdout")
        return nil
    }

    public func close(complete: Bool) throws {}
}

/// All images back to back in one file, which replaces an earlier file only when the run succeeds.
public final class FileSink: OutputSink {
    private let file: SafeFile
    private var count = 0
    private let inputs: InputIdentities
    public let impliedFormat: ImageFormat?

    public init(path: String, inputs: InputIdentities = InputIdentities()) throws {
        impliedFormat = ImageFormat(fileExtension: (path as NSString).pathExtension)
        try inputs.refuseOverwriting(path)
        self.inputs = inputs
        file = try SafeFile(path: path)
    }

    public func write(_ output: OutputFile) throws -> String? {
        try file.write(output.bytes)
        count += 1
        return file.path
    }

    public func close(complete: Bool) throws {
        if complete && count > 0 { try file.commit() } else { file.discard() }
    }
}

/// One file per image in a folder, named from a template; each file written atomically.
/// Template fields: {stem} the input's name without extension, {name} with it, {dir} the folder the
/// input was found in below the folder given (so `-o 'out/{dir}/{stem}.{ext}'` mirrors a tree),
/// {index} the 0-based image number (4 digits), {n} the frame number within one input, {ext} the
/// format's extension.
public final class DirectorySink: OutputSink {
    public static let fields = ["stem", "name", "dir", "index", "n", "ext"]
    private let directory: String
    private let template: String
    private let inputs: InputIdentities
    private var used = Set<String>()
    public var impliedFormat: ImageFormat? { nil }

    public init(directory: String, template: String = "{dir}/{stem}.{ext}", inputs: InputIdentities = InputIdentities()) throws {
        try Self.validate(template)
        self.directory = directory
        self.template = template
        self.inputs = inputs
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Every `{...}` must be a known field: an unknown one is an error, not a folder named `{dir}`.
    static func validate(_ template: String) throws {
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw OutputError(description: "-o \(template): '{' without '}'")
            }
            let key = String(rest[rest.index(after: open)..<close])
            guard fields.contains(key) else {
                throw OutputError(description: "-o \(template): unknown field {\(key)} (use \(fields.map { "{\($0)}" }.joined(separator: " ")))")
            }
            rest = rest[rest.index(after: close)...]
        }
    }

    public func write(_ file: OutputFile) throws -> String? {
        var name = template.replacingOccurrences(of: "{stem}", with: file.stem)
            .replacingOccurrences(of: "{name}", with: file.inputName)
            .replacingOccurrences(of: "{dir}", with: file.relativeDirectory)
            .replacingOccurrences(of: "{index}", with: String(format: "%04d", file.index))
            .replacingOccurrences(of: "{n}", with: String(file.subIndex))
            .replacingOccurrences(of: "{ext}", with: file.format.fileExtension)
        if file.subIndex > 0 && !template.contains("{n}") {
            let ext = (name as NSString).pathExtension
            name = (name as NSString).deletingPathExtension + "-\(file.subIndex)" + (ext.isEmpty ? "" : "." + ext)
        }
        let path = ((directory as NSString).appendingPathComponent(name) as NSString).standardizingPath
        guard !used.contains(path) else {
            throw OutputError(description: "\(path): two images would get this name; use {index} or {dir} in the -o template")
        }
        used.insert(path)
        try inputs.refuseOverwriting(path)
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let out = try SafeFile(path: path)
        try out.write(file.bytes)
        try out.commit()
        return path
    }

    public func close(complete: Bool) throws {}
}

/// The input files of a run (device and inode), so no output is ever written over one of them.
public struct InputIdentities: Sendable {
    private var identities = Set<[UInt64]>()

    public init(paths: [String] = []) {
        for p in paths where p != "-" {
            var st = stat()
            if stat(p, &st) == 0 { identities.insert([UInt64(st.st_dev), UInt64(st.st_ino)]) }
        }
    }

    public func refuseOverwriting(_ path: String) throws {
        var st = stat()
        guard !identities.isEmpty, stat(path, &st) == 0, identities.contains([UInt64(st.st_dev), UInt64(st.st_ino)]) else { return }
        throw OutputError(description: "\(path): is one of the inputs; refusing to write over it "
                          + "(cnnpipe faces tag --in-place rewrites photos losslessly, with --backup if wanted)")
    }
}

/// `-o` semantics: "-" stdout; an existing folder, a name ending in "/" or a template with "{": a folder of
/// files; anything else (a file, /dev/null, a FIFO): one file holding every image.
public func makeSink(for output: String?, inputs: InputIdentities = InputIdentities()) throws -> OutputSink {
    guard let output, output != "-" else { return StreamSink() }
    if let (dir, template) = outputFolder(for: output) {
        return try DirectorySink(directory: dir, template: template, inputs: inputs)
    }
    return try FileSink(path: output, inputs: inputs)
}

/// The folder and file-name template of a folder output (nil for stdout or a single file). A plain
/// folder mirrors the input tree: `{dir}/{stem}.{ext}`.
public func outputFolder(for output: String?) -> (folder: String, template: String)? {
    guard let output, output != "-" else { return nil }
    if output.contains("{") {
        // The folder part may hold fields too ({dir}): the fixed prefix is the folder, the rest the template.
        let fixed = output.prefix { $0 != "{" }
        let dir = fixed.contains("/") ? String(fixed[..<fixed.lastIndex(of: "/")!]) : ""
        return (dir.isEmpty ? "." : dir, String(output.dropFirst(dir.isEmpty ? 0 : dir.count + 1)))
    }
    var isDir: ObjCBool = false
    if output.hasSuffix("/") || (FileManager.default.fileExists(atPath: output, isDirectory: &isDir) && isDir.boolValue) {
        return (output, "{dir}/{stem}.{ext}")
    }
    return nil
}
