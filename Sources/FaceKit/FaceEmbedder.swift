import CNNRuntime
import Foundation

/// 128-number face descriptors with dlib's face ResNet (`dlib_face_recognition_resnet_model_v1.dat`):
/// each face aligned to a 150×150 chip as dlib does, all faces of an image in one batched network run.
/// Two descriptors closer than 0.6 (Euclidean) are the same person by dlib's measure.
public final class FaceEmbedder: @unchecked Sendable {
    public static let modelFile = "dlib_face_recognition_resnet_model_v1.dat"
    public static let dimensions = 128

    let session: Session
    let aligner = FaceAligner()

    public init(modelPath: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        let network = try DlibImporter.network(path: modelPath)
        guard network.kind == .faceDescriptor else { throw ModelError("\(modelPath): not dlib's face descriptor network") }
        session = try Session(network.graph, threads: threads)
        session.acceptsAnyInputSize = true     // the batch dimension
    }

    /// One descriptor per face, given each face's 5 landmarks, in interleaved RGB8 pixels.
    public func embeddings(rgb: [UInt8], width: Int, height: Int, faces: [[DlibPoint]]) throws -> [[Float]] {
        try embeddings(chips: faces.map { aligner.chip(rgb: rgb, width: width, height: height, landmarks: $0) })
    }

    /// Descriptors of aligned 150×150 RGB8 chips, run as one batch.
    public func embeddings(chips: [[UInt8]]) throws -> [[Float]] {
        guard !chips.isEmpty else { return [] }
        let side = aligner.size, plane = side * side
        let input = Tensor(uninitialized: [chips.count, 3, side, side])
        let p = input.buffer.pointer
        for (n, chip) in chips.enumerated() {
            precondition(chip.count == 3 * plane)
            for c in 0..<3 {
                let d = p + (n * 3 + c) * plane
                for i in 0..<plane { d[i] = Float(chip[3 * i + c]) }
            }
        }
        guard let out = try session.run([session.inputs[0].name: input]).values.first, out.count == chips.count * Self.dimensions else {
            throw ModelError("face descriptor network gave no \(Self.dimensions)-number descriptors")
        }
        let v = out.floats
        return (0..<chips.count).map { Array(v[$0 * Self.dimensions ..< ($0 + 1) * Self.dimensions]) }
    }

    /// Euclidean distance between two descriptors.
    public static func distance(_ a: [Float], _ b: [Float]) -> Float {
        var sum: Float = 0
        for i in 0..<min(a.count, b.count) { let d = a[i] - b[i]; sum += d * d }
        return sum.squareRoot()
    }
}
