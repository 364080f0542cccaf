import CNNRuntime
import Foundation
import FrameModel

/// Photo → faces → descriptors: FaceFinder (detector and 5 landmarks), then FaceEmbedder on the
/// faces found, all in one batch. What enrolment, verification, identification and clustering share.
public final class FaceRecognizer: @unchecked Sendable {
    public struct Face: Sendable {
        public var found: FaceFinder.Found
        public var descriptor: [Float]
        public var rect: DlibRectangle { found.rect }
    }

    public let finder: FaceFinder
    public let embedder: FaceEmbedder

    public init(finder: FaceFinder, embedder: FaceEmbedder) {
        self.finder = finder
        self.embedder = embedder
    }

    /// The three dlib models found by `models`; `embedderPath` when the face model is already located.
    public convenience init(models: ModelLocator, embedderPath: String? = nil, threads: Int) throws {
        self.init(finder: try FaceFinder(detectorPath: try models.find(FaceFinder.detectorFile),
                                         landmarkPath: try models.find(FaceFinder.landmarkFile), threads: threads),
                  embedder: try FaceEmbedder(modelPath: try embedderPath ?? models.find(FaceEmbedder.modelFile), threads: threads))
    }

    /// Every face in interleaved RGB8 pixels, highest score first, with its descriptor.
    public func faces(rgb: [UInt8], width: Int, height: Int, upsample: Int = 0, minSize: Int = 0,
                      detectSize: Int = FaceFinder.defaultDetectSize) throws -> [Face] {
        let found = try finder.find(rgb: rgb, width: width, height: height, upsample: upsample, minSize: minSize, detectSize: detectSize)
        let descriptors = try embedder.embeddings(rgb: rgb, width: width, height: height, faces: found.map(\.landmarks))
        return zip(found, descriptors).map { Face(found: $0, descriptor: $1) }
    }

    /// Every face in an image of any pixel format (see `faces(rgb:…)`).
    public func faces(in image: Image, upsample: Int = 0, minSize: Int = 0,
                      detectSize: Int = FaceFinder.defaultDetectSize) throws -> [Face] {
        let rgb = image.converted(to: .rgb8)
        return try faces(rgb: rgb.bytes, width: rgb.width, height: rgb.height, upsample: upsample, minSize: minSize, detectSize: detectSize)
    }

    /// The largest face of an image of any pixel format (see `largestFace(rgb:…)`).
    public func largestFace(in image: Image, upsample: Int = 0,
                            detectSize: Int = FaceFinder.defaultDetectSize) throws -> (face: Face, count: Int)? {
        let rgb = image.converted(to: .rgb8)
        return try largestFace(rgb: rgb.bytes, width: rgb.width, height: rgb.height, upsample: upsample, detectSize: detectSize)
    }

    /// The largest face (by box area) with its descriptor, and how many faces there were; nil without faces.
    /// Only the largest face goes through the descriptor network.
    public func largestFace(rgb: [UInt8], width: Int, height: Int, upsample: Int = 0,
                            detectSize: Int = FaceFinder.defaultDetectSize) throws -> (face: Face, count: Int)? {
        let found = try finder.find(rgb: rgb, width: width, height: height, upsample: upsample, detectSize: detectSize)
        guard let largest = found.max(by: { $0.rect.area < $1.rect.area }) else { return nil }
        let descriptor = try embedder.embeddings(rgb: rgb, width: width, height: height, faces: [largest.landmarks])[0]
        return (Face(found: largest, descriptor: descriptor), found.count)
    }
}
