import ArgumentParser
import CNNRuntime
import FaceKit
import FilterKit
import Foundation
import FrameModel
import Gallery
import ImageIO

struct FacesCluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Group the faces of photos by person (Chinese whispers), with a contact sheet per group.",
        discussion: """
        Every face found (dlib's detector, landmarks and 128-number descriptors) is a node; faces closer \
        than --threshold (dlib's 0.5) are joined, and Chinese whispers (dlib's chinese_whispers_clustering, \
        the same random numbers, so the same groups) splits the graph into clusters. With --gallery, faces \
        the gallery identifies are left out: what remains are the people still to be named.

        -o DIR (a new or empty folder; written complete or not at all) gets:
          clusters.csv     cluster,path,left,top,right,bottom (one line per face; box in pixels of the
                           upright image, right and bottom inclusive, clipped to the image)
          clusters.json    the same per cluster, plus the faces the gallery identified
          N/faces.json     cluster N's faces with their embeddings, for
                           cnnpipe gallery enroll --gallery G --from-cluster DIR/N --name NAME
          N/sheet.jpg      cluster N's faces (a margin around each box, file name underneath)
          singletons.jpg   the faces alone in their cluster, on one sheet captioned "N: file"
        Clusters are numbered from 1 by size, largest first (ties: the cluster whose first face came \
        first). Images that cannot be read are reported on stderr and the others clustered (exit 1).
        """)

    @Argument(help: "Photos, folders of photos, or - for stdin.") var inputs: [String] = []
    @Option(name: .shortAndLong, help: "Output folder (new, or empty).") var output: String
    @Option(help: "Leave out the faces this gallery identifies (cnnpipe faces identify's decision).") var gallery: String?
    @Option(help: "Faces closer than this (Euclidean descriptor distance) are joined.") var threshold = 0.5
    @Option(help: "Ignore faces narrower than this many pixels.") var minSize = 0
    @Option(help: "Double the images this many times to find small faces (0-2).") var upsample = 0
    @OptionGroup var detection: DetectSizeOption
    @Option(help: "Side of each face on the contact sheets, in pixels.") var cell = 150
    @Option(help: "Worker threads for the networks.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (0...2).contains(upsample) else { throw ValidationError("--upsample must be 0, 1 or 2") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard threshold > 0, threshold.isFinite else { throw ValidationError("--threshold must be above 0") }
        guard minSize >= 0 else { throw ValidationError("--min-size cannot be negative") }
        guard (32...1024).contains(cell) else { throw ValidationError("--cell must be 32...1024") }
    }

    func run() throws {
        if inputs.isEmpty && isatty(0) != 0 { fail("no input: give photos or folders, or pipe images into stdin", code: 2) }
        let out = ClusterFolder(path: output)
        try orFail { try out.checkWritable() }
        let model = try orFail { try Enroller.model() }
        let matcher = try gallery.map { path in
            try orFail { try FaceMatcher(gallery: try Gallery(path: path, modelIdentity: model.identity, create: false, readOnly: true), threads: threads) }
        }
        let recognizer = try orFail { try FaceRecognizer(models: models, embedderPath: model.path, threads: threads) }
        let cropper = FaceCropper(side: cell)

        var faces: [ClusteredFace] = [], failed = false, images = 0
        let progress = Progress()
        let source = try orFail { try InputSource(arguments: inputs) }
        while let next = source.next() {
            switch next {
            case .failure(let problem):
                progress.clear(); reportError("\(problem)"); failed = true
            case .success(let item):
                do {
                    let image = try Codec.decode(item.bytes).image.converted(to: .rgb8)
                    let found = try recognizer.faces(rgb: image.bytes, width: image.width, height: image.height,
                                                     upsample: upsample, minSize: minSize, detectSize: detection.detectSize)
                    let path = item.path == "-" ? item.label : absolutePath(item.path) + (item.position > 0 ? " image \(item.position + 1)" : "")
                    for f in found {
                        faces.append(ClusteredFace(index: faces.count, path: path, box: clipped(f.rect, image), descriptor: f.descriptor,
                                                   crop: try cropper.crop(image, f.rect)))
                    }
                    images += 1
                    progress.show("\(images) image\(images == 1 ? "" : "s"), \(faces.count) face\(faces.count == 1 ? "" : "s")")
                } catch {
                    progress.clear(); reportError("\(item.label): \(error)"); failed = true
                }
            }
        }
        progress.clear()
        if images == 0 && failed { throw ExitCode(1) }     // nothing read: no result to write

        // Faces the gallery knows are set aside; the rest are clustered.
        var identified: [(face: ClusteredFace, who: Identification)] = []
        if let matcher, !faces.isEmpty {
            let whos = try orFail { try matcher.identify(faces.map(\.descriptor)) }
            identified = zip(faces, whos).filter { $0.1.name != nil }.map { ($0.0, $0.1) }
            let known = Set(identified.map(\.face.index))
            faces.removeAll { known.contains($0.index) }
        }
        let labels = try orFail { try ChineseWhispers.cluster(descriptors: faces.map(\.descriptor), threshold: Float(threshold)) }
        let clusters = ClusterFolder.Cluster.sortedBySize(faces: faces, labels: labels)
        try orFail {
            try out.write(clusters: clusters, identified: identified, modelIdentity: model.identity, threshold: Float(threshold),
                          cropSide: cell)
        }

        let several = clusters.filter { $0.faces.count > 1 }.count
        print("\(faces.count + identified.count) face\(faces.count + identified.count == 1 ? "" : "s") in \(images) image\(images == 1 ? "" : "s")"
            + (matcher != nil ? ", \(identified.count) identified by the gallery" : "")
            + ": \(clusters.count) cluster\(clusters.count == 1 ? "" : "s") (\(several) of several faces, \(clusters.count - several) single)")
        for c in clusters where c.faces.count > 1 { print("cluster \(c.number): \(c.faces.count) faces") }
        print("written to \(output)")
        if failed { throw ExitCode(1) }
    }

    /// dlib's box clipped to the image (right and bottom inclusive).
    private func clipped(_ r: DlibRectangle, _ image: Image) -> FaceClusterFile.Box {
        FaceClusterFile.Box(left: max(0, r.left), top: max(0, r.top), right: min(image.width - 1, r.right), bottom: min(image.height - 1, r.bottom))
    }
}

/// A face to cluster: where it is, its descriptor and its tile for the sheets (a small JPEG, so that
/// thousands of faces stay in memory without keeping their photos).
struct ClusteredFace {
    var index: Int
    var path: String
    var box: FaceClusterFile.Box
    var descriptor: [Float]
    var crop: [UInt8]
}

/// A square around the face box with a quarter of its side as margin on every side, clamped to the
/// image, scaled to fit `side` × `side`, kept as JPEG. A big face (a portrait in a 50-MP photo) is
/// first averaged down in blocks to about twice the tile, so the float copy stays small.
struct FaceCropper {
    let side: Int

    func crop(_ image: Image, _ r: DlibRectangle) throws -> [UInt8] {
        let size = Double(max(r.width, r.height)) * 1.5
        let cx = Double(r.left + r.right) / 2, cy = Double(r.top + r.bottom) / 2
        let x0 = max(0, Int((cx - size / 2).rounded())), y0 = max(0, Int((cy - size / 2).rounded()))
        let x1 = min(image.width, Int((cx + size / 2).rounded()) + 1), y1 = min(image.height, Int((cy + size / 2).rounded()) + 1)
        guard x1 > x0, y1 > y0 else { throw CLIError("face box \(r) is outside the image") }
        var cropped = image.cropped(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
        let factor = max(cropped.width, cropped.height) / (2 * side)
        if factor >= 2 { cropped = Self.blockAverage(cropped, factor) }
        let region = FloatImage(cropped)
        let scale = Double(side) / Double(max(region.width, region.height))
        let tile = Resampler.resize(region, width: max(1, Int((Double(region.width) * scale).rounded())),
                                    height: max(1, Int((Double(region.height) * scale).rounded())), filter: .lanczos3)
        return try Codec.encode(tile.image(.rgb8), as: .jpeg)
    }

    /// Each `k` × `k` block of an RGB8 image averaged into one pixel (the last partial blocks dropped).
    static func blockAverage(_ image: Image, _ k: Int) -> Image {
        let w = image.width / k, h = image.height / k, rowLength = image.width * 3
        var out = [UInt8](repeating: 0, count: w * h * 3)
        var sums = [UInt32](repeating: 0, count: rowLength)
        let divisor = UInt32(k * k)
        image.bytes.withUnsafeBufferPointer { src in
            for y in 0..<h {
                for i in 0..<rowLength { sums[i] = 0 }
                for row in (y * k)..<(y * k + k) {
                    let line = src.baseAddress! + row * rowLength
                    for i in 0..<rowLength { sums[i] &+= UInt32(line[i]) }
                }
                for x in 0..<w {
                    for c in 0..<3 {
                        var total: UInt32 = 0
                        for j in 0..<k { total &+= sums[(x * k + j) * 3 + c] }
                        out[(y * w + x) * 3 + c] = UInt8((total + divisor / 2) / divisor)
                    }
                }
            }
        }
        return Image(width: w, height: h, format: .rgb8, bytes: out)
    }
}

/// One line of progress on stderr, rewritten in place, only when stderr is a terminal.
final class Progress {
    private let enabled = isatty(2) != 0
    private var shown = false

    func show(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[Kcnnpipe: \(text)".utf8))
        shown = true
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }
}
