import Crypto
import Foundation

/// SHA-256 of files, as lowercase hex: the model identity a gallery stores (the hash of the
/// embedding model file), so a gallery refuses embeddings of another model. The same text as
/// `sha256sum` prints; existing galleries hold these values, so the format must not change.
public enum FileSHA256 {
    /// Bytes read at a time: a model file (~22 MB) is hashed without holding it in memory.
    static let chunkSize = 1 << 20

    public static func hex(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileHashError("\(path): cannot open file") }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
        } catch {
            throw FileHashError("\(path): cannot read file (\(error.localizedDescription))")
        }
        return hex(hasher.finalize())
    }

    /// Lowercase hex of a digest (two digits per byte).
    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A file that cannot be hashed: one line, meant to be printed as it is.
public struct FileHashError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
