import CNNRuntime
import Drawing
import FaceKit
import Foundation
import FrameModel
import PluginKit

/// Finds faces with dlib's CNN detector and their 5 landmarks, and adds them to the frame's faces;
/// the host writes every face into the output's XMP as MWG face regions.
final class FaceDetect: Stage {
    static let name = "face-detect"
    static let summary = "Find faces (dlib's CNN detector) and their landmarks; they become XMP face regions"
    static let upsample = Param<Int>("upsample", default: 0, range: 0...2,
                                     "double the image this many times first to find smaller faces (0: down to ~80 px, 1: ~40 px, 2: ~20 px)")
    static let detectSize = Param<Int>("detect-size", default: FaceFinder.defaultDetectSize, range: 0...100_000,
                                       "detect on a copy whose long side is at most this many pixels, boxes mapped back (bounds time and memory on large photos; 0: full resolution)")
    static let threshold = Param<Double>("threshold", default: 0, range: -2...3,
                                         "detector score a face must exceed (dlib's adjust_threshold; higher = fewer, surer faces)")
    static let minSize = Param<Int>("min-size", default: 0, range: 0...100_000, "ignore faces narrower than this many pixels")
    static let landmarks = Param<Bool>("landmarks", default: true, "find the 5 landmarks (eye corners, nose) of each face")
    static let replaceRegions = Param<Bool>("replace-regions", default: false,
                                            "drop the face regions the input file already had instead of keeping them")
    static let draw = Param<Bool>("draw", default: false, "draw the boxes, landmarks and scores (or names) into the image")
    static let parameters = Parameter.list(upsample, detectSize, threshold, minSize, landmarks, replaceRegions, draw)
    static let options: StageOptions = [.stateless]

    let finder: FaceFinder
    let upsample: Int, threshold: Double, minSize: Int, detectSize: Int
    let replaceRegions: Bool
    let overlay: FaceOverlay?

    init(_ p: ParameterValues, host: StageHost) throws {
        do {
            finder = try SharedModels.finder(detectorPath: try host.modelPath(FaceFinder.detectorFile),
                                             landmarkPath: try p[Self.landmarks] ? try host.modelPath(FaceFinder.landmarkFile) : nil, threads: host.threads)
        } catch let e as ModelError {
            throw StageError("\(e); run scripts/setup-models.sh to fetch the models again")
        }
        upsample = try p[Self.upsample]; threshold = try p[Self.threshold]; minSize = try p[Self.minSize]
        detectSize = try p[Self.detectSize]
        replaceRegions = try p[Self.replaceRegions]
        overlay = try p[Self.draw] ? FaceOverlay(text: try TextRenderer()) : nil
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        let rgb = frame.image(as: .rgb8)
        let found = try finder.find(rgb: rgb.bytes, width: rgb.width, height: rgb.height,
                                    upsample: upsample, threshold: threshold, minSize: minSize, detectSize: detectSize)
        var annotations = frame.annotations
        annotations.faces = Self.merge(found.map(Self.face), into: replaceRegions ? [] : annotations.faces)
        if let overlay {
            var canvas = FloatImage(frame.image)
            overlay.draw(annotations.faces, on: &canvas)
            try output.emit(canvas.image(frame.format), annotations: annotations, like: frame)
        } else {
            try output.pass(frame, annotations: annotations)
        }
    }

    static func face(_ f: FaceFinder.Found) -> Face {
        Face(box: .init(x: Double(f.rect.left), y: Double(f.rect.top), width: Double(f.rect.width), height: Double(f.rect.height)),
             confidence: f.confidence, landmarks: f.landmarks.map { .init(x: Double($0.x), y: Double($0.y)) })
    }

    /// The detections plus the faces already known (from the file's XMP or an earlier stage). A
    /// known face that a detection covers (IoU ≥ 0.5) is the same face: the detection takes its
    /// name and replaces it, so a face tagged in digiKam is not listed twice.
    static func merge(_ detected: [Face], into known: [Face]) -> [Face] {
        var result = detected, unmatched: [Face] = []
        for k in known {
            if let i = result.indices.max(by: { iou(result[$0].box, k.box) < iou(result[$1].box, k.box) }), iou(result[i].box, k.box) >= 0.5 {
                if result[i].name == nil { result[i].name = k.name; result[i].distance = k.distance }
            } else {
                unmatched.append(k)
            }
        }
        return unmatched + result
    }

    static func iou(_ a: Face.Box, _ b: Face.Box) -> Double {
        let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x), h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        guard w > 0, h > 0 else { return 0 }
        return w * h / (a.width * a.height + b.width * b.height - w * h)
    }
}
