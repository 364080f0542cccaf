import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ImageIO

/// One encoded image taken from the inputs, with where it came from.
public struct InputItem: Sendable {
    /// File path, or "-" for stdin.
    public let path: String
    /// Position of the image inside its file or stream (0-based).
    public let position: Int
    /// Base name for output files: the file's name without extension ("stdin-0003" for stdin).
    public let stem: String
    public let format: ImageFormat
    public let bytes: [UInt8]
    /// The folder it was found in, below the folder given on the command line ("" for a file argument).
    public var relativeDirectory: String = ""

    /// "photo.jpg", "photo.jpg image 2", "stdin image 4": how errors name this image.
    public var label: String {
        path == "-" ? "stdin image \(position + 1)" : (position == 0 ? path : "\(path) image \(position + 1)")
    }
}

/// An input that could not be read: the error and the place, for the one-line message.
public struct InputFailure: Error, CustomStringConvertible, Sendable {
    public let label: String
    public let message: String
    public var description: String { "\(label): \(message)" }
}

/// Walks the command line's inputs in order: files, folders (their images, see `InputWalk`), and
/// "-" for stdin; no inputs means stdin. Each file or stream may hold several images. Or, for
/// batch workers (`--paths-from`), paths read one per line as they arrive.
public final class InputSource {
    private var nextEntry: () -> Result<InputWalk.Entry, InputFailure>?
    private var reader: ImageStreamReader?
    private var readerPath = ""
    private var readerDirectory = ""
    private var position = 0
    /// Input files (not images: a file may hold several), when known and stdin is not among them.
    public let fileCount: Int?
    /// Entries for which this says true are passed over (`onSkip` is told); e.g. photos already tagged.
    public var skip: ((InputWalk.Entry) -> Bool)?
    public var onSkip: ((InputWalk.Entry) -> Void)?

    public convenience init(arguments: [String], recursive: Bool = true) throws {
        self.init(entries: try InputWalk(arguments: arguments, recursive: recursive).entries)
    }

    public init(entries: [InputWalk.Entry]) {
        var pending = entries[...]
        nextEntry = { pending.popFirst().map { .success($0) } }
        fileCount = entries.contains { $0.path == "-" } ? nil : entries.count
    }

    /// Paths one per line from `lines` (a folder is walked; empty lines are ignored), each read
    /// only when the previous input has been taken, so a worker starts on the first at once.
    public init(lines: LineReader, recursive: Bool = true) {
        var queued: [InputWalk.Entry] = []
        nextEntry = {
            while queued.isEmpty {
                guard let line = lines.next() else { return nil }
                let path = line.trimmingCharacters(in: .whitespaces)
                guard !path.isEmpty else { continue }
                if path == "-" { return .failure(InputFailure(label: path, message: "not a file: - (stdin) cannot be named in a path list")) }
                do {
                    queued = try InputWalk(arguments: [path], recursive: recursive).entries
                    if queued.isEmpty { return .failure(InputFailure(label: path, message: "no \(ImageFormat.readableNames) images in this folder")) }
                } catch let failure as InputFailure {
                    return .failure(failure)
                } catch {
                    return .failure(InputFailure(label: path, message: "\(error)"))
                }
            }
            return .success(queued.removeFirst())
        }
        fileCount = nil
    }

    /// The next image; nil when every input is exhausted. A failure ends the current file
    /// (its remaining bytes cannot be resynchronised) but not the inputs after it.
    public func next() -> Result<InputItem, InputFailure>? {
        while true {
            if reader == nil {
                let entry: InputWalk.Entry
                switch nextEntry() {
                case nil: return nil
                case .failure(let f)?: return .failure(f)
                case .success(let e)?: entry = e
                }
                if let skip, skip(entry) { onSkip?(entry); continue }
                readerPath = entry.path
                readerDirectory = entry.relativeDirectory
                position = 0
                if readerPath == "-" {
                    reader = ImageStreamReader(fileDescriptor: 0)
                } else {
                    do { reader = try ImageStreamReader(path: readerPath) } catch {
                        return .failure(InputFailure(label: readerPath, message: "\(error)"))
                    }
                }
            }
            let label = readerPath == "-" ? "stdin image \(position + 1)"
                : (position == 0 ? readerPath : "\(readerPath) image \(position + 1)")
            do {
                guard let chunk = try reader!.next() else {
                    if position == 0 && readerPath != "-" {
                        reader = nil
                        return .failure(InputFailure(label: readerPath, message: "file is empty"))
                    }
                    reader = nil
                    continue
                }
                defer { position += 1 }
                return .success(InputItem(path: readerPath, position: position, stem: stem(), format: chunk.format,
                                          bytes: chunk.bytes, relativeDirectory: readerDirectory))
            } catch {
                reader = nil
                return .failure(InputFailure(label: label, message: "\(error)"))
            }
        }
    }

    private func stem() -> String {
        if readerPath == "-" { return String(format: "stdin-%04d", position) }
        let base = ((readerPath as NSString).lastPathComponent as NSString).deletingPathExtension
        return position == 0 ? base : "\(base)-\(position)"
    }
}

/// Lines of a file or of stdin, read as they come (a path list written by another process).
public final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private let owned: Bool

    /// "-" is stdin.
    public init(path: String) throws {
        if path == "-" {
            file = stdin
            owned = false
        } else {
            guard let f = fopen(path, "r") else {
                throw InputFailure(label: path, message: "cannot open: \(String(cString: strerror(errno)))")
            }
            file = f
            owned = true
        }
    }

    deinit { if owned { fclose(file) } }

    /// The next line without its line break; nil at end of file.
    public func next() -> String? {
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        let n = getline(&buffer, &capacity, file)
        guard n >= 0, let buffer else { return nil }
        var line = String(cString: buffer)
        while let last = line.unicodeScalars.last, last == "\n" || last == "\r" { line.unicodeScalars.removeLast() }
        return line
    }
}
