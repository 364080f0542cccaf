import Foundation
import ImageIO
#if canImport(Glibc)
import Glibc
#endif

/// The image files named by command-line arguments: files as given, folders walked (recursively
/// unless asked not to, in name order, following symbolic links but never into a folder already
/// visited, so link loops end), "-" for stdin. Hidden entries and files that are not images by
/// their extension are skipped and counted.
public struct InputWalk: Sendable {
    public struct Entry: Sendable, Equatable {
        /// As it will be opened ("-" for stdin).
        public var path: String
        /// The folder below the argument it was found in ("" for a file argument or the folder itself),
        /// for output trees that mirror the input (`{dir}`).
        public var relativeDirectory: String
    }

    public var entries: [Entry] = []
    public var skippedHidden = 0
    public var skippedNonImages = 0
    /// Folders given on the command line that held no image at all.
    public var emptyFolders: [String] = []

    /// No inputs at all.
    public init() {}

    /// Throws InputFailure for an argument that does not exist. Folders in `excluding` (an output
    /// folder inside an input folder) are not walked.
    public init(arguments: [String], recursive: Bool = true, excluding: [String] = []) throws {
        var excluded = Set<[UInt64]>()
        for path in excluding {
            var st = stat()
            if stat(path, &st) == 0 { excluded.insert([UInt64(st.st_dev), UInt64(st.st_ino)]) }
        }
        for arg in arguments.isEmpty ? ["-"] : arguments {
            if arg == "-" { entries.append(Entry(path: "-", relativeDirectory: "")); continue }
            var st = stat()
            guard stat(arg, &st) == 0 else {
                throw InputFailure(label: arg, message: errno == ENOENT ? "no such file or folder" : String(cString: strerror(errno)))
            }
            if st.st_mode & S_IFMT == S_IFDIR {
                let before = entries.count
                var visited = excluded
                visited.remove([UInt64(st.st_dev), UInt64(st.st_ino)])   // a folder given is walked, even if it is the output
                walk(arg, relative: "", recursive: recursive, visited: &visited)
                if entries.count == before { emptyFolders.append(arg) }
            } else {
                entries.append(Entry(path: arg, relativeDirectory: ""))
            }
        }
    }

    private mutating func walk(_ folder: String, relative: String, recursive: Bool, visited: inout Set<[UInt64]>) {
        var st = stat()
        guard stat(folder, &st) == 0, visited.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else { return }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var subfolders: [String] = []
        for name in names {
            if name.hasPrefix(".") { skippedHidden += 1; continue }
            let path = (folder as NSString).appendingPathComponent(name)
            var entry = stat()
            guard stat(path, &entry) == 0 else { skippedNonImages += 1; continue }   // a dangling link
            switch entry.st_mode & S_IFMT {
            case S_IFDIR:
                if recursive { subfolders.append(name) }
            case S_IFREG where ImageFormat(fileExtension: (name as NSString).pathExtension) != nil:
                entries.append(Entry(path: path, relativeDirectory: relative))
            case S_IFREG where name.hasSuffix(".xmp") || name.hasSuffix("_original"):
                break       // sidecars and backups of the photos: expected next to them, not worth a note
            default:
                skippedNonImages += 1
            }
        }
        for name in subfolders {
            walk((folder as NSString).appendingPathComponent(name),
                 relative: relative.isEmpty ? name : relative + "/" + name, recursive: recursive, visited: &visited)
        }
    }

    /// "skipped 3 hidden entries and 2 files that are not images", or nil when nothing was skipped.
    public var skippedSummary: String? {
        var parts: [String] = []
        if skippedHidden > 0 { parts.append("\(skippedHidden) hidden \(skippedHidden == 1 ? "entry" : "entries")") }
        if skippedNonImages > 0 {
            parts.append("\(skippedNonImages) \(skippedNonImages == 1 ? "file that is" : "files that are") not \(ImageFormat.readableNames)")
        }
        return parts.isEmpty ? nil : "skipped " + parts.joined(separator: " and ")
    }
}
