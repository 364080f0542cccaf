import CNNRuntime
import Foundation

/// Faces with their landmarks: the MMOD detector, then dlib's 5-point shape predictor on each box.
/// What the face-detect stage and `cnnpipe faces detect` both run.
public final class FaceFinder: @unchecked Sendable {
    public struct Found: Sendable {
        public var rect: DlibRectangle
        public var confidence: Double
        /// dlib's 5-point order; empty when landmarks are off.
        public var landmarks: [DlibPoint]
    }

    public static let detectorFile = "mmod_human_face_detector.dat"
    public static let landmarkFile = "shape_predictor_5_face_landmarks.dat"

    let detector: FaceDetector
    let predictor: DlibShapePredictor?

    /// `landmarkPath` nil: boxes only.
    public init(detectorPath: String, landmarkPath: String?, threads: Int) throws {
        detector = try FaceDetector(path: detectorPath, threads: threads)
        predictor = try landmarkPath.map { try DlibShapePredictor.load(path: $0) }
    }

    /// Faces in interleaved 8-bit RGB, highest score first. `minSize` drops boxes narrower than that many pixels.
    public func find(rgb: [UInt8], width: Int, height: Int, upsample: Int = 0, threshold: Double = 0, minSize: Int = 0) throws -> [Found] {
        try detector.detect(rgb: rgb, width: width, height: height, upsample: upsample, threshold: threshold)
            .filter { $0.rect.width >= minSize }
            .map { d in
                Found(rect: d.rect, confidence: d.confidence,
                      landmarks: try predictor?.landmarks(rgb: rgb, width: width, height: height, box: d.rect) ?? [])
            }
    }
}
