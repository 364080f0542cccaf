import Foundation

/// Face embeddings as the gallery stores them: 128 Float32 numbers, little-endian, 512 bytes.
public enum Embedding {
    /// dlib's face ResNet descriptor length.
    public static let dimension = 128
    public static let byteCount = dimension * MemoryLayout<Float32>.size

    /// Checks length and finiteness; the error names `what` (a photo, an import entry).
    public static func validate(_ vector: [Float], _ what: @autoclosure () -> String) throws {
        guard vector.count == dimension else {
            throw GalleryError("\(what()): embedding has \(vector.count) numbers, expected \(dimension)")
        }
        guard vector.allSatisfy(\.isFinite) else { throw GalleryError("\(what()): embedding has a NaN or infinite number") }
    }

    public static func encode(_ vector: [Float]) -> Data {
        var data = Data(count: byteCount)
        data.withUnsafeMutableBytes { raw in
            for (i, v) in vector.prefix(dimension).enumerated() {
                raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        return data
    }

    /// Decodes a stored vector into `destination` (128 floats); false when the blob has the wrong size.
    @discardableResult
    public static func decode(_ blob: Data, into destination: UnsafeMutablePointer<Float>) -> Bool {
        guard blob.count == byteCount else { return false }
        blob.withUnsafeBytes { raw in
            for i in 0..<dimension {
                destination[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
        }
        return true
    }

    public static func decode(_ blob: Data) -> [Float]? {
        guard blob.count == byteCount else { return nil }
        return [Float](unsafeUninitializedCapacity: dimension) { buffer, count in
            decode(blob, into: buffer.baseAddress!)
            count = dimension
        }
    }
}
