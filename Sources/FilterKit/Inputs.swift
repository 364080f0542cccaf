import Foundation
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
/// "-" for stdin; no inputs means stdin. Each file or stream may hold several images.
public final class InputSource {
    private var pending: ArraySlice<InputWalk.Entry>
    private var reader: ImageStreamReader?
    private var readerPath = ""
    private var readerDirectory = ""
    private var position = 0
    /// Input files (not images: a file may hold several), when stdin is not among them.
    public let fileCount: Int?

    public convenience init(arguments: [String], recursive: Bool = true) throws {
        self.init(entries: try InputWalk(arguments: arguments, recursive: recursive).entries)
    }

    public init(entries: [InputWalk.Entry]) {
        pending = entries[...]
        fileCount = entries.contains { $0.path == "-" } ? nil : entries.count
    }

    /// The next image; nil when every input is exhausted. A failure ends the current file
    /// (its remaining bytes cannot be resynchronised) but not the inputs after it.
    public func next() -> Result<InputItem, InputFailure>? {
        while true {
            if reader == nil {
                guard let entry = pending.popFirst() else { return nil }
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
