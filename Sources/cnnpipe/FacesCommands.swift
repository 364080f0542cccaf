import ArgumentParser
import CNNRuntime
import FaceKit
import FileHashing
import FilterKit
import Foundation
import FrameModel
import Gallery
import ImageIO
import MetricLearning

struct FacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faces", abstract: "Find faces in images (dlib's CNN face detector and 5-point landmarks).",
        subcommands: [FacesDetect.self, FacesVerify.self, FacesIdentify.self, FacesTag.self, FacesCluster.self])
}

struct FacesDetect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Print the faces in images: one line per face, path,top,right,bottom,left.",
        discussion: """
        The line format is face_recognition's face_detection tool's (box clipped to the image, right and \
        bottom inclusive). Images are files, folders (their images) or - for stdin (several images back to \
        back are fine). --json prints one JSON object per face instead: path, box (left, top, right, \
        bottom), confidence and, with --landmarks, the 5 landmarks (eye corners, nose base). \
        An image that cannot be read is reported on stderr; the others are still processed (exit 1).
        """)

    @Argument(help: "Images, folders of images, or - for stdin.") var inputs: [String] = []
    @OptionGroup var batchInput: BatchInput
    @Option(help: "Double the image this many times first to find smaller faces (0-2).") var upsample = 0
    @OptionGroup var detection: DetectSizeOption
    @Option(help: "Score a face must exceed (dlib's adjust_threshold).") var threshold = 0.0
    @Option(help: "Worker threads for the network.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Also find the 5 landmarks of each face (in --json output).") var landmarks = false
    @Flag(help: "One JSON object per face.") var json = false

    func validate() throws {
        guard (0...2).contains(upsample) else { throw ValidationError("--upsample must be 0, 1 or 2") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let finder = try orFail {
            try FaceFinder(detectorPath: try models.find(FaceFinder.detectorFile),
                           landmarkPath: landmarks ? try models.find(FaceFinder.landmarkFile) : nil, threads: threads)
        }
        var failed = false
        let readable = inputs.filter { path in
            guard path == "-" || FileManager.default.fileExists(atPath: path) else {
                reportError("\(path): no such file or folder"); failed = true; return false
            }
            return true
        }
        if readable.isEmpty && !inputs.isEmpty { throw ExitCode(1) }
        let source = try orFail(code: 2) { try batchInput.source(arguments: readable, recursive: true) }
        while let next = source.next() {
            switch next {
            case .failure(let problem):
                if batchInput.isBatch { emitLine(BatchLine.error(problem.label, problem.message)) } else { reportError("\(problem)") }
                failed = true
            case .success(let item):
                do {
                    let image = try Codec.decode(item.bytes).image.converted(to: .rgb8)
                    let faces = try finder.find(rgb: image.bytes, width: image.width, height: image.height,
                                                upsample: upsample, threshold: threshold, detectSize: detection.detectSize)
                    if batchInput.isBatch {
                        emitLine(BatchLine.ok(item.label, faces: faces.map { BatchLine.face(Face(found: $0)) }))
                    } else {
                        for f in faces { print(line(item.label, f, width: image.width, height: image.height)) }
                    }
                } catch {
                    if batchInput.isBatch { emitLine(BatchLine.error(item.label, "\(error)")) } else { reportError("\(item.label): \(error)") }
                    failed = true
                }
            }
        }
        // A batch worker reports failures as lines; its exit status says the run itself completed.
        if failed && !batchInput.isBatch { throw ExitCode(1) }
    }

    private func line(_ path: String, _ f: FaceFinder.Found, width: Int, height: Int) -> String {
        if json {
            var object: [String: Any] = [
                "path": path, "confidence": f.confidence,
                "box": ["left": f.rect.left, "top": f.rect.top, "right": f.rect.right, "bottom": f.rect.bottom],
            ]
            if landmarks { object["landmarks"] = f.landmarks.map { [$0.x, $0.y] } }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        // face_recognition trims its (top, right, bottom, left) boxes to the image.
        return "\(path),\(max(f.rect.top, 0)),\(min(f.rect.right, width)),\(min(f.rect.bottom, height)),\(max(f.rect.left, 0))"
    }
}

struct FacesVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Is it the same person? The distance between the faces of two photos and the verdict.",
        discussion: """
        Each photo should show one face (with several, the largest is used and a note says so). Prints \
        `distance same|different` (Euclidean distance of dlib's 128-number face descriptors; same when \
        below --tolerance, dlib's 0.6 by default). With --gallery, the gallery's learned head (cnnpipe \
        gallery train) is used: the distance is measured in its space with its threshold, and a binary \
        head decides by its probability, printed as a third field (`distance same|different P`); \
        --no-head compares plain distances. Exit status: 0 same person, 1 different, 2 error \
        (unreadable image, no face).
        """)

    @Argument(help: "The first photo.") var first: String
    @Argument(help: "The second photo.") var second: String
    @Option(help: "Distance below which two faces are the same person (default 0.6, or the head's threshold).") var tolerance: Double?
    @Option(help: "Compare with this gallery's learned head.") var gallery: String?
    @Flag(help: "Ignore the gallery's head: plain distance.") var noHead = false
    @Option(help: "Double the images this many times to find small faces (0-2).") var upsample = 0
    @OptionGroup var detection: DetectSizeOption
    @Option(help: "Worker threads for the networks.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print a JSON object instead.") var json = false

    func run() throws {
        let head: MetricHead? = try gallery.flatMap { path in
            try orFail {
                let g = try Gallery(path: path, create: false)
                guard let h = try g.currentHead() else { return nil }
                // A head is only meaningful for embeddings of the model its gallery holds.
                _ = try Gallery(path: path, modelIdentity: try FileSHA256.hex(ofFileAt: try models.find(FaceEmbedder.modelFile)), create: false)
                return noHead ? nil : h
            }
        }
        if let gallery, head == nil, !noHead { warn("\(gallery) has no head (cnnpipe gallery train); comparing plain distances") }
        let recognizer = try orFail { try FaceRecognizer(models: models, threads: threads) }
        func descriptor(_ path: String) -> [Float] {
            do {
                guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the file") }
                guard let (face, count) = try recognizer.largestFace(in: try Codec.decode([UInt8](data)).image, upsample: upsample,
                                                                     detectSize: detection.detectSize) else {
                    throw CLIError("no face found (try --upsample 1 for small faces)")
                }
                if count > 1 { warn("\(path): \(count) faces; using the largest") }
                return face.descriptor
            } catch {
                fail("\(path): \(error)", code: 2)
            }
        }
        let a = descriptor(first), b = descriptor(second)
        let verdict = FaceMatcher.compare(a, b, head: head, tolerance: tolerance.map(Float.init))
        let distance = Double(verdict.distance), same = verdict.same
        let used = tolerance ?? Double(head?.threshold ?? FaceMatcher.plainTolerance)
        if json {
            let p = verdict.probability.map { String(format: ",\"probability\":%.6f", Double($0)) } ?? ""
            let h = head.map { ",\"head\":\"\($0.method.rawValue)\"" } ?? ""
            print("{\"distance\":\(String(format: "%.6f", distance)),\"same\":\(same),\"tolerance\":\(used)\(p)\(h)}")
        } else {
            print(String(format: "%.4f %@", distance, same ? "same" : "different")
                + (verdict.probability.map { String(format: " %.4f", Double($0)) } ?? ""))
        }
        if !same { throw ExitCode(1) }
    }
}

struct FacesIdentify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identify",
        abstract: "Name the faces in images from a gallery: one line per face, path,name,distance.",
        discussion: """
        For each face the nearest enrolled person within --tolerance (dlib's 0.6), else `unknown_person`; \
        when the gallery has a learned head (cnnpipe gallery train), distances are in its space with its \
        threshold and a binary head decides by P(same) (--json adds it); --no-head uses plain distances. \
        An image without faces prints `path,no_persons_found,None` (the names face_recognition uses). \
        --json prints one object per face with its box and, with --top-k, the runners-up.
        """)

    @Option(name: .customLong("gallery"), help: ArgumentHelp(
        "The gallery file (cnnpipe gallery enroll makes one). Default: the user's gallery, as for cnnpipe gallery.", valueName: "gallery"))
    var galleryPath: String?
    var gallery: String { galleryPath ?? Gallery.defaultPath() }
    @Argument(help: "Images, folders of images, or - for stdin.") var inputs: [String] = []
    @OptionGroup var batchInput: BatchInput
    @Option(help: "Largest descriptor distance that still counts as the person (default 0.6, or the head's threshold).") var tolerance: Float?
    @Flag(help: "Ignore the gallery's learned head: plain distances.") var noHead = false
    @Option(name: .customLong("top-k"), help: "Also report this many runners-up per face (--json).") var topK = 0
    @Option(help: "Double the images this many times to find small faces (0-2).") var upsample = 0
    @OptionGroup var detection: DetectSizeOption
    @Option(help: "Worker threads for the networks.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "One JSON object per face.") var json = false

    func run() throws {
        let (recognizer, matcher) = try orFail { () -> (FaceRecognizer, FaceMatcher) in
            let modelPath = try models.find(FaceEmbedder.modelFile)
            let g = try Gallery(path: gallery, modelIdentity: try FileSHA256.hex(ofFileAt: modelPath), create: false, readOnly: true)
            return (try FaceRecognizer(models: models, embedderPath: modelPath, threads: threads),
                    try FaceMatcher(gallery: g, useHead: !noHead, tolerance: tolerance, threads: threads))
        }
        var failed = false
        let batch = batchInput.isBatch
        let source = try orFail(code: 2) { try batchInput.source(arguments: inputs, recursive: true) }
        while let next = source.next() {
            switch next {
            case .failure(let problem):
                if batch { emitLine(BatchLine.error(problem.label, problem.message)) } else { reportError("\(problem)") }
                failed = true
            case .success(let item):
                do {
                    let faces = try recognizer.faces(in: try Codec.decode(item.bytes).image, upsample: upsample,
                                                     detectSize: detection.detectSize)
                    let named = zip(faces, try matcher.identify(faces.map(\.descriptor), runnersUp: topK))
                    if batch {
                        emitLine(BatchLine.ok(item.label, faces: named.map { face, who in
                            var f = Face(found: face.found)
                            f.name = who.name
                            f.distance = who.distance.map(Double.init)
                            return BatchLine.face(f)
                        }))
                        continue
                    }
                    if faces.isEmpty { print(json ? #"{"path":"\#(item.label)","name":"no_persons_found"}"# : "\(item.label),no_persons_found,None") }
                    for (face, who) in named { print(line(item.label, face.found, who)) }
                } catch {
                    if batch { emitLine(BatchLine.error(item.label, "\(error)")) } else { reportError("\(item.label): \(error)") }
                    failed = true
                }
            }
        }
        // A batch worker reports failures as lines; its exit status says the run itself completed.
        if failed && !batchInput.isBatch { throw ExitCode(1) }
    }

    private func line(_ path: String, _ face: FaceFinder.Found, _ who: Identification) -> String {
        let name = who.name ?? "unknown_person"
        guard json else { return "\(path),\(name),\(who.distance.map { String(format: "%.4f", $0) } ?? "None")" }
        var object: [String: Any] = [
            "path": path, "name": name,
            "box": ["left": face.rect.left, "top": face.rect.top, "right": face.rect.right, "bottom": face.rect.bottom],
        ]
        if let d = who.distance { object["distance"] = Double(d) }
        if let p = who.probability { object["probability"] = Double(p) }
        if topK > 0 { object["runners_up"] = who.runnersUp.map { ["name": $0.name, "distance": Double($0.distance)] } }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A one-line error for one input; the command goes on with the others.
func reportError(_ message: String) {
    FileHandle.standardError.write(Data("cnnpipe: error: \(message)\n".utf8))
}

extension Face {
    /// A detection as a frame face: dlib's inclusive rectangle as x, y, width, height.
    init(found: FaceFinder.Found) {
        self.init(box: .init(x: Double(found.rect.left), y: Double(found.rect.top),
                             width: Double(found.rect.width), height: Double(found.rect.height)),
                  confidence: found.confidence,
                  landmarks: found.landmarks.map { .init(x: Double($0.x), y: Double($0.y)) })
    }
}
