import ArgumentParser
import FaceKit
import FilterKit
import Foundation
import FrameModel
import Gallery
import ImageIO

/// `gallery enroll --from-cluster` and `--from-regions` (see GalleryEnroll's discussion).
extension GalleryEnroll {
    func enrolCluster(_ location: String) throws {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: location, isDirectory: &isDir)
        let file = exists && isDir.boolValue ? (location as NSString).appendingPathComponent(FaceClusterFile.fileName) : location
        guard let data = FileManager.default.contents(atPath: file) else {
            fail(exists ? "\(location): no \(FaceClusterFile.fileName) (not a cluster folder of cnnpipe faces cluster)" : "\(location): no such folder")
        }
        let cluster: FaceClusterFile
        do { cluster = try FaceClusterFile.decode(data) } catch { fail("\(file): \(error)") }
        guard !cluster.faces.isEmpty else { fail("\(file): the cluster has no faces") }
        let name = name!
        do { try Gallery.validateName(name) } catch { fail("\(error)", code: 2) }
        // The embeddings carry their model's identity: a gallery of another model refuses them.
        let gallery = try galleryOption.openOrCreate(modelIdentity: cluster.modelIdentity)
        let summary = try orFail {
            try gallery.enroll(name: name, embeddings: cluster.faces.map(\.embedding), sources: cluster.faces.map(\.path), notes: notes)
        }
        try Self.report(summary, name: name, gallery: gallery)
    }

    func enrolRegions() throws {
        let model = try orFail { try Enroller.model() }
        // An existing gallery of another model is refused before the networks load.
        if FileManager.default.fileExists(atPath: galleryOption.gallery) {
            _ = try galleryOption.openOrCreate(modelIdentity: model.identity)
        }
        let recognizer = try orFail { try FaceRecognizer(models: models, embedderPath: model.path, threads: options.threads) }
        var people: [String: (embeddings: [[Float]], sources: [String])] = [:], order: [String] = []
        var photoCount = 0, withoutFace = 0, unnamed = 0, failed = false
        let source = try orFail { try InputSource(arguments: photos) }
        while let next = source.next() {
            switch next {
            case .failure(let problem):
                reportError("\(problem)"); failed = true
            case .success(let item):
                do {
                    let decoded = try Codec.decode(item.bytes)
                    let image = decoded.image.converted(to: .rgb8)
                    photoCount += 1
                    var regions = decoded.metadata.annotations.faces
                    if item.path != "-" { regions += Self.sidecarRegions(of: item.path, width: image.width, height: image.height) }
                    let named = regions.compactMap { r in r.name.map { ($0.trimmingCharacters(in: .whitespacesAndNewlines), r.box) } }
                        .filter { !$0.0.isEmpty && !Self.strangerNames.contains($0.0) }
                    unnamed += regions.count - named.count
                    guard !named.isEmpty else { continue }
                    let faces = try recognizer.faces(rgb: image.bytes, width: image.width, height: image.height, upsample: options.upsample,
                                                     detectSize: options.detection.detectSize)
                    let matches = RegionMatcher.match(regions: named.map { RegionMatcher.Box(x: $0.1.x, y: $0.1.y, width: $0.1.width, height: $0.1.height) },
                                                      faces: faces.map { RegionMatcher.Box($0.rect) }, minOverlap: minOverlap)
                    // Each detected face gets the names of the regions matched to it (a name once: an
                    // embedded region and its sidecar copy are one).
                    var names: [Int: [String]] = [:]
                    for ((regionName, _), m) in zip(named, matches) {
                        guard let f = m.face else {
                            withoutFace += 1
                            warn("\(item.label): region '\(regionName)' matches no detected face (best overlap \(String(format: "%.2f", m.overlap)))")
                            continue
                        }
                        if names[f]?.contains(regionName) != true { names[f, default: []].append(regionName) }
                    }
                    for (f, list) in names.sorted(by: { $0.key < $1.key }) {
                        guard list.count == 1 else {
                            warn("\(item.label): regions \(list.map { "'\($0)'" }.joined(separator: " and ")) name the same face; skipped")
                            continue
                        }
                        let who = list[0]
                        do { try Gallery.validateName(who) } catch { warn("\(item.label): \(error); skipped"); continue }
                        if people[who] == nil { order.append(who) }
                        people[who, default: ([], [])].embeddings.append(faces[f].descriptor)
                        people[who, default: ([], [])].sources.append(item.path == "-" ? item.label : absolutePath(item.path))
                    }
                } catch {
                    reportError("\(item.label): \(error)"); failed = true
                }
            }
        }
        var enrolled = 0
        if !order.isEmpty {
            let gallery = try galleryOption.openOrCreate(modelIdentity: model.identity)
            for who in order {
                let p = people[who]!
                let s = try orFail { try gallery.enroll(name: who, embeddings: p.embeddings, sources: p.sources) }
                enrolled += s.embeddingsAdded
                print("\(who): \(s.embeddingsAdded) face\(s.embeddingsAdded == 1 ? "" : "s") enrolled"
                    + (s.embeddingsAlreadyPresent > 0 ? ", \(s.embeddingsAlreadyPresent) already enrolled" : ""))
            }
        }
        print("enrolled \(enrolled) face\(enrolled == 1 ? "" : "s") of \(order.count) \(order.count == 1 ? "person" : "people") from \(photoCount) photo\(photoCount == 1 ? "" : "s")"
            + "; \(withoutFace) named region\(withoutFace == 1 ? "" : "s") without a detected face"
            + (unnamed > 0 ? "; \(unnamed) region\(unnamed == 1 ? "" : "s") without a name skipped" : ""))
        if failed { throw ExitCode(1) }
    }

    /// What the identify stage (and face_recognition) call a face nobody in the gallery matched: no name.
    static let strangerNames: Set<String> = ["unknown", "unknown_person"]

    /// The face regions of XMP sidecars beside a photo (read only): photo.jpg.xmp (digiKam, darktable)
    /// and photo.xmp (Lightroom), in pixels of the upright photo.
    static func sidecarRegions(of path: String, width: Int, height: Int) -> [Face] {
        var candidates = [path + ".xmp"]
        let stem = (path as NSString).deletingPathExtension + ".xmp"
        if stem != candidates[0] { candidates.append(stem) }
        return candidates.flatMap { file -> [Face] in
            guard let data = FileManager.default.contents(atPath: file) else { return [] }
            return XMPFaceRegions.read([UInt8](data), width: width, height: height)
        }
    }

    /// "enrolled NAME: N embeddings, M in total".
    static func report(_ summary: EnrolmentSummary, name: String, gallery: Gallery) throws {
        let total = try orFail { try gallery.people().first { $0.name == name }?.embeddingCount ?? 0 }
        print("\(summary.peopleAdded == 1 ? "enrolled" : "added to") \(name): \(summary.embeddingsAdded) embedding\(summary.embeddingsAdded == 1 ? "" : "s")"
            + (summary.embeddingsAlreadyPresent > 0 ? " (\(summary.embeddingsAlreadyPresent) already enrolled)" : "")
            + ", \(total) in total")
    }
}
