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
    /// detect-size's default: the long side, in pixels, of the copy the detector runs on (see
    /// DetectionScale; chosen on the face corpus, README "Faces"). 0 means full resolution.
    public static let defaultDetectSize = 1600

    let detector: FaceDetector
    let predictor: DlibShapePredictor?

    /// `landmarkPath` nil: boxes only.
    public init(detectorPath: String, landmarkPath: String?, threads: Int) throws {
        detector = try FaceDetector(path: detectorPath, threads: threads)
        predictor = try landmarkPath.map { try DlibShapePredictor.load(path: $0) }
    }

    /// Faces in interleaved 8-bit RGB, highest score first. `minSize` drops boxes narrower than that many
    /// pixels. `detectSize` > 0: detection on a copy at most that long (boxes in full-resolution pixels);
    /// landmarks are always found on the full-resolution pixels.
    public func find(rgb: [UInt8], width: Int, height: Int, upsample: Int = 0, threshold: Double = 0, minSize: Int = 0,
                     detectSize: Int = FaceFinder.defaultDetectSize) throws -> [Found] {
        try detect(rgb: rgb, width: width, height: height, upsample: upsample, threshold: threshold, detectSize: detectSize)
            .filter { $0.rect.width >= minSize }
            .map { d in
                Found(rect: d.rect, confidence: d.confidence,
                      landmarks: try predictor?.landmarks(rgb: rgb, width: width, height: height, box: d.rect) ?? [])
            }
    }

    func detect(rgb: [UInt8], width: Int, height: Int, upsample: Int, threshold: Double, detectSize: Int) throws -> [FaceDetection] {
        guard let scale = DetectionScale(width: width, height: height, limit: detectSize) else {
            return try detector.detect(rgb: rgb, width: width, height: height, upsample: upsample, threshold: threshold)
        }
        return try detector.detect(rgb: scale.downscale(rgb), width: scale.smallWidth, height: scale.smallHeight,
                                   upsample: upsample, threshold: threshold)
            .map { FaceDetection(rect: scale.toFull($0.rect), confidence: $0.confidence) }
    }
}
