import CNNRuntime
import FaceKit
import FileHashing
import Foundation
import FrameModel
import Gallery
import PluginKit

/// Names the faces in a frame's metadata: each face's descriptor (dlib's ResNet on the aligned
/// chip) against a gallery; the nearest person within `tolerance`, else "unknown". Names and
/// distances go into the face metadata, so the XMP regions carry them.
final class Identify: Stage {
    static let name = "identify"
    static let summary = "Name the detected faces from a gallery (nearest enrolled person, or unknown)"
    static let gallery = Param<String?>("gallery", "the gallery file (cnnpipe gallery enroll … makes one); empty = the user's gallery, "
                                        + "$CNNPIPE_GALLERY or ~/.local/share/cnnpipe/people.db").filePath()
    static let tolerance = Param<Float>("tolerance", default: 0.6, range: 0...2,
                                        "largest plain descriptor distance that still counts as the person (dlib: 0.6)")
    static let head = Param<Bool>("head", default: true,
                                  "use the gallery's learned head (cnnpipe gallery train) when it has one: its distance and threshold, its verifier's P(same)")
    static let headTolerance = Param<Float>("head-tolerance", default: 0, range: 0...2,
                                            "distance threshold in the head's space (0: the head's own, chosen on held-out photos)")
    static let topK = Param<Int>("top-k", default: 0, range: 0...20, "also record this many runners-up per face")
    static let relabel = Param<Bool>("relabel", default: false, "identify faces that already have a name too (by default they keep it)")
    static let parameters = Parameter.list(gallery, tolerance, head, headTolerance, topK, relabel)
    static let options: StageOptions = [.stateless]

    let matcher: FaceMatcher
    let embedder: FaceEmbedder
    let predictor: DlibShapePredictor
    let topK: Int, relabel: Bool

    init(_ p: ParameterValues, host: StageHost) throws {
        let path = try p[Self.gallery] ?? Gallery.defaultPath()
        guard access(path, F_OK) == 0 else {
            throw StageError("\(path): no such gallery (make one with 'cnnpipe gallery enroll --gallery \(path) --name NAME PHOTO')")
        }
        let modelPath = try host.modelPath(FaceEmbedder.modelFile)
        do {
            let gallery = try Gallery(path: path, modelIdentity: try FileSHA256.hex(ofFileAt: modelPath), create: false, readOnly: true)
            let useHead = try p[Self.head], headTolerance = try p[Self.headTolerance]
            let hasHead = useHead ? try gallery.currentHead() != nil : false
            matcher = try FaceMatcher(gallery: gallery, useHead: useHead,
                                      tolerance: hasHead ? (headTolerance > 0 ? headTolerance : nil) : try p[Self.tolerance], threads: host.threads)
            embedder = try SharedModels.embedder(modelPath: modelPath, threads: host.threads)
            predictor = try SharedModels.shapePredictor(path: try host.modelPath(FaceFinder.landmarkFile))
        } catch let e as StageError { throw e } catch {
            throw StageError("\(error)")
        }
        topK = try p[Self.topK]; relabel = try p[Self.relabel]
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        var annotations = frame.annotations
        let todo = annotations.faces.indices.filter { relabel || annotations.faces[$0].name == nil || annotations.faces[$0].name == "unknown" }
        guard !todo.isEmpty, matcher.index.count > 0 else { return try output.pass(frame) }
        let rgb = frame.image(as: .rgb8)
        // Faces read from a file's XMP have no landmarks: find them in the box.
        let landmarks = try todo.map { i -> [DlibPoint] in
            let f = annotations.faces[i]
            if f.landmarks.count == 5 { return f.landmarks.map { DlibPoint(x: Int($0.x.rounded()), y: Int($0.y.rounded())) } }
            let box = DlibRectangle(left: Int(f.box.x.rounded()), top: Int(f.box.y.rounded()),
                                    right: Int((f.box.x + f.box.width).rounded()) - 1, bottom: Int((f.box.y + f.box.height).rounded()) - 1)
            return try predictor.landmarks(rgb: rgb.bytes, width: rgb.width, height: rgb.height, box: box)
        }
        let descriptors = try embedder.embeddings(rgb: rgb.bytes, width: rgb.width, height: rgb.height, faces: landmarks)
        for (i, who) in zip(todo, try matcher.identify(descriptors, runnersUp: topK)) {
            annotations.faces[i].name = who.name ?? "unknown"
            annotations.faces[i].distance = who.distance.map(Double.init)
            if topK > 0 { annotations.faces[i].candidates = who.runnersUp.map { .init(name: $0.name, distance: Double($0.distance)) } }
        }
        try output.pass(frame, annotations: annotations)
    }
}
