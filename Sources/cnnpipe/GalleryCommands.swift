import ArgumentParser
import CNNRuntime
import FaceKit
import FileHashing
import Foundation
import FrameModel
import Gallery
import ImageIO

/// `cnnpipe gallery …`: people and their face embeddings in a SQLite gallery (see Sources/Gallery).
struct GalleryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery", abstract: "Enrol people from photos and manage face galleries (SQLite).",
        discussion: """
        A gallery is one SQLite file: people (name, notes), their face embeddings (dlib's face ResNet, \
        128 numbers each, several per person) and the SHA-256 of the model that made them. Embeddings of \
        another model are refused. Several processes may enrol into one gallery at the same time.

        Without --gallery, every command uses the user's gallery: $CNNPIPE_GALLERY, else \
        ~/.local/share/cnnpipe/people.db ($XDG_DATA_HOME/cnnpipe/people.db when that is set); the \
        tag-people and draw-people presets read the same one.

        Examples:
          cnnpipe gallery enroll --name "Ada Lovelace" ada.jpg
          cnnpipe gallery enroll-dir known/    # known/<name>/*.jpg or known/<name>.jpg
          cnnpipe faces cluster --gallery ~/.local/share/cnnpipe/people.db photos/ -o clusters/   # who is this? a sheet per group
          cnnpipe gallery enroll --from-cluster clusters/1 --name "Charles Babbage"
          cnnpipe gallery enroll --from-regions tagged-library/   # names digiKam/Lightroom wrote
          cnnpipe gallery list
          cnnpipe gallery train --method both   # a metric learned from several photos per person
          cnnpipe faces identify photos/
          cnnpipe gallery list --gallery team.db   # another gallery
        """,
        subcommands: [GalleryEnroll.self, GalleryEnrollDir.self, GalleryList.self, GalleryInfo.self, GalleryRename.self,
                      GalleryRemove.self, GalleryNotes.self, GalleryExport.self, GalleryImport.self, GalleryTrain.self, GalleryHead.self,
                      GalleryEvaluate.self])
}

struct GalleryOption: ParsableArguments {
    @Option(name: .customLong("gallery"), help: ArgumentHelp(
        "The gallery file (SQLite; enroll and import create it). Default: $CNNPIPE_GALLERY, else ~/.local/share/cnnpipe/people.db (under $XDG_DATA_HOME when set).",
        valueName: "gallery"))
    var galleryPath: String?
    /// The gallery named, or the user's own.
    var gallery: String { galleryPath ?? Gallery.defaultPath() }

    /// Opens an existing gallery for management (no model needed).
    func open() throws -> Gallery {
        try orFail { try Gallery(path: gallery, create: false) }
    }

    /// Opens the gallery, making it (and, for the user's default gallery, its folder) when missing.
    func openOrCreate(modelIdentity: String? = nil) throws -> Gallery {
        try orFail {
            if galleryPath == nil {        // the user's own: make its folder
                try FileManager.default.createDirectory(atPath: (gallery as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            }
            return try Gallery(path: gallery, modelIdentity: modelIdentity)
        }
    }
}

// MARK: Enrolment

/// Face detection, landmarks and embeddings for enrolment photos: each photo must show one face.
struct Enroller {
    let recognizer: FaceRecognizer
    let modelIdentity: String
    let largest: Bool
    let upsample: Int, detectSize: Int

    /// The face model's file and identity (the SHA-256 of the file), found before the networks load
    /// so a gallery of another model is refused at once.
    static func model() throws -> (path: String, identity: String) {
        let path = try models.find(FaceEmbedder.modelFile)
        return (path, try FileSHA256.hex(ofFileAt: path))
    }

    init(model: (path: String, identity: String), threads: Int, largest: Bool, upsample: Int, detectSize: Int) throws {
        modelIdentity = model.identity
        recognizer = try FaceRecognizer(models: models, embedderPath: model.path, threads: threads)
        self.largest = largest
        self.upsample = upsample
        self.detectSize = detectSize
    }

    /// The embedding of the one face in a photo; an error (one line, without the path) when it has
    /// none, or several and `largest` is off.
    func embedding(photo path: String) throws -> [Float] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the file") }
        guard let (face, count) = try recognizer.largestFace(in: try Codec.decode([UInt8](data)).image,     // upright from EXIF
                                                             upsample: upsample, detectSize: detectSize) else {
            throw CLIError(upsample < 2 ? "no face found (for small faces try --upsample \(upsample + 1))" : "no face found")
        }
        guard count == 1 || largest else {
            throw CLIError("\(count) faces found; enrol a photo of one person, or pass --largest to take the largest face")
        }
        return face.descriptor
    }

}

/// Enrolment options shared by enroll and enroll-dir.
struct EnrolOptions: ParsableArguments {
    @Flag(help: "Take the largest face of a photo with several (otherwise such a photo is rejected).") var largest = false
    @Option(help: "Double the photos this many times first to find small faces (0-2).") var upsample = 0
    @OptionGroup var detection: DetectSizeOption
    @Option(help: "Worker threads for the networks.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (0...2).contains(upsample) else { throw ValidationError("--upsample must be 0, 1 or 2") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func enroller(_ model: (path: String, identity: String)) throws -> Enroller {
        try orFail { try Enroller(model: model, threads: threads, largest: largest, upsample: upsample, detectSize: detection.detectSize) }
    }
}

/// An absolute path for the embedding's `source` column.
func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
}

struct GalleryEnroll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll", abstract: "Enrol a person from one or more photos (one face each), a face cluster, or named regions.",
        discussion: """
        One photo is enough. Each photo must show exactly one face (--largest takes the largest of \
        several); a photo without a face, or with several, is reported and nothing is enrolled (exit 1). \
        Enrolling a name that is already in the gallery adds these photos to that person. \
        The gallery is created if it does not exist.

        --from-cluster DIR/N enrols the faces of cluster N of `cnnpipe faces cluster -o DIR` under --name \
        (their embeddings are in DIR/N/faces.json: no photo is read again; a gallery of another face \
        model refuses them).

        --from-regions enrols the named face regions that photo managers (digiKam, Lightroom, exiftool) \
        wrote into the photos' XMP, or into sidecars photo.jpg.xmp / photo.xmp: each region is matched \
        to the detected face it overlaps most (intersection over union at least --min-overlap), and that \
        face's embedding is enrolled under the region's name. Regions without a name (or named unknown) are skipped; \
        named regions without a detected face are reported. Photos and folders as for faces detect.
        """)

    @OptionGroup var galleryOption: GalleryOption
    @Option(help: "The person's name.") var name: String?
    @Option(help: "Notes about the person (replace any earlier notes).") var notes: String?
    @Option(name: .customLong("from-cluster"), help: ArgumentHelp("A cluster folder of cnnpipe faces cluster (or its faces.json).", valueName: "DIR/N"))
    var fromCluster: String?
    @Flag(name: .customLong("from-regions"), help: "Enrol the named face regions of the photos' XMP (names from the regions).") var fromRegions = false
    @Option(help: "--from-regions: least intersection over union between a region and its detected face.") var minOverlap = RegionMatcher.defaultMinOverlap
    @OptionGroup var options: EnrolOptions
    @Argument(help: "Photos of the person (JPEG, PNG, WebP); with --from-regions, photos or folders.") var photos: [String] = []

    func validate() throws {
        if let fromCluster {
            guard !fromRegions else { throw ValidationError("--from-cluster and --from-regions do not go together") }
            guard name != nil else { throw ValidationError("--from-cluster needs --name: who the cluster's faces are") }
            guard photos.isEmpty else { throw ValidationError("--from-cluster \(fromCluster) takes no photos") }
        } else if fromRegions {
            guard name == nil, notes == nil else { throw ValidationError("--from-regions takes the names from the regions (no --name or --notes)") }
            guard !photos.isEmpty else { throw ValidationError("give the photos (or folders) whose regions to enrol") }
            guard minOverlap > 0, minOverlap <= 1 else { throw ValidationError("--min-overlap must be in (0, 1]") }
        } else {
            guard name != nil else { throw ValidationError("give the person's --name") }
            guard !photos.isEmpty else { throw ValidationError("give at least one photo") }
        }
    }

    func run() throws {
        if let fromCluster { return try enrolCluster(fromCluster) }
        if fromRegions { return try enrolRegions() }
        let name = name!
        do { try Gallery.validateName(name) } catch { fail("\(error)", code: 2) }
        let model = try orFail { try Enroller.model() }
        // An existing gallery of another model is refused before the networks load.
        let existing = FileManager.default.fileExists(atPath: galleryOption.gallery)
            ? try galleryOption.openOrCreate(modelIdentity: model.identity) : nil
        let enroller = try options.enroller(model)
        var embeddings: [[Float]] = [], rejected = 0
        for photo in photos {
            do { embeddings.append(try enroller.embedding(photo: photo)) } catch {
                reportError("\(photo): \(error)"); rejected += 1
            }
        }
        if rejected > 0 { fail("\(rejected) of \(photos.count) photos rejected; nothing enrolled") }
        let gallery = try existing ?? galleryOption.openOrCreate(modelIdentity: model.identity)
        let summary = try orFail { try gallery.enroll(name: name, embeddings: embeddings, sources: photos.map(absolutePath), notes: notes) }
        try Self.report(summary, name: name, gallery: gallery)
    }
}

struct GalleryEnrollDir: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-dir", abstract: "Enrol everyone in a folder: a folder per person, or a photo per person.",
        discussion: """
        As face_recognition reads its known people: DIR/<name>/ holds photos of <name> (every image in \
        it), and DIR/<name>.jpg is a photo of <name>. Photos without exactly one face are reported and \
        skipped (--largest takes the largest face); the others are enrolled, one transaction per person. \
        Exit 1 when any photo was rejected.
        """)

    @OptionGroup var galleryOption: GalleryOption
    @OptionGroup var options: EnrolOptions
    @Argument(help: "The folder of people.") var directory: String

    /// (person, photos) in name order.
    static func people(in directory: String) throws -> [(name: String, photos: [String])] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw CLIError("\(directory): no such folder")
        }
        func images(_ dir: String) throws -> [String] {
            try fm.contentsOfDirectory(atPath: dir).sorted()
                .filter { !$0.hasPrefix(".") && ImageFormat(fileExtension: ($0 as NSString).pathExtension) != nil }
                .map { dir + "/" + $0 }
                .filter { var d: ObjCBool = false; return fm.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
        }
        var people: [String: [String]] = [:]
        for entry in try fm.contentsOfDirectory(atPath: directory).sorted() where !entry.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(entry)
            var d: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &d) else { continue }
            if d.boolValue {
                people[entry, default: []] += try images(path)
            } else if ImageFormat(fileExtension: (entry as NSString).pathExtension) != nil {
                people[(entry as NSString).deletingPathExtension, default: []].append(path)
            }
        }
        return people.keys.sorted().map { ($0, people[$0]!) }
    }

    func run() throws {
        let people = try orFail { try Self.people(in: directory) }
        guard !people.isEmpty else { fail("\(directory): no people found (expected <name>/ folders of photos or <name>.jpg photos)") }
        for p in people {
            do { try Gallery.validateName(p.name) } catch { fail("\(directory)/\(p.name): \(error)", code: 2) }
        }
        let model = try orFail { try Enroller.model() }
        let gallery = try galleryOption.openOrCreate(modelIdentity: model.identity)
        let enroller = try options.enroller(model)
        var rejected = 0, enrolledPeople = 0, enrolledEmbeddings = 0
        for person in people {
            var embeddings: [[Float]] = [], sources: [String] = []
            for photo in person.photos {
                do {
                    embeddings.append(try enroller.embedding(photo: photo))
                    sources.append(absolutePath(photo))
                } catch {
                    reportError("\(photo): \(error)"); rejected += 1
                }
            }
            guard !embeddings.isEmpty else {
                reportError("\(person.name): no usable photo (\(person.photos.count) rejected); not enrolled"); continue
            }
            let s = try orFail { try gallery.enroll(name: person.name, embeddings: embeddings, sources: sources) }
            enrolledPeople += 1
            enrolledEmbeddings += s.embeddingsAdded
            let skipped = person.photos.count - embeddings.count
            print("\(person.name): \(s.embeddingsAdded) of \(person.photos.count) photo\(person.photos.count == 1 ? "" : "s") enrolled"
                + (s.embeddingsAlreadyPresent > 0 ? ", \(s.embeddingsAlreadyPresent) already enrolled" : "")
                + (skipped > 0 ? ", \(skipped) rejected" : ""))
        }
        print("enrolled \(enrolledPeople) of \(people.count) people, \(enrolledEmbeddings) embeddings" + (rejected > 0 ? "; \(rejected) photo\(rejected == 1 ? "" : "s") rejected" : ""))
        if rejected > 0 { throw ExitCode(1) }
    }
}

// MARK: Management

struct GalleryList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The people in a gallery: name, embeddings, when enrolled and updated, notes.")

    @OptionGroup var galleryOption: GalleryOption
    @Flag(help: "One JSON object per person.") var json = false

    func run() throws {
        let gallery = try galleryOption.open()
        let people = try orFail { try gallery.people() }
        if json {
            let dates = ISO8601DateFormatter()
            for p in people {
                var object: [String: Any] = ["name": p.name, "embeddings": p.embeddingCount,
                                             "created_at": dates.string(from: p.createdAt), "updated_at": dates.string(from: p.updatedAt)]
                object["notes"] = p.notes ?? NSNull()
                let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
                print(String(decoding: data, as: UTF8.self))
            }
            return
        }
        let dates = DateFormatter()
        dates.dateFormat = "yyyy-MM-dd HH:mm"
        // Names and notes written by other programs may hold escape sequences: shown, never acted on.
        let width = max(4, people.map { printable($0.name).count }.max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print(pad("NAME", width) + "  EMBEDDINGS  ENROLLED          UPDATED           NOTES")
        for p in people {
            let line = pad(printable(p.name), width) + "  " + pad(String(p.embeddingCount), 10) + "  " + dates.string(from: p.createdAt) + "  "
                + dates.string(from: p.updatedAt) + "  " + printable(p.notes ?? "").replacingOccurrences(of: "\n", with: " ")
            print(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        let total = people.map(\.embeddingCount).reduce(0, +)
        print("\(people.count) \(people.count == 1 ? "person" : "people"), \(total) embedding\(total == 1 ? "" : "s")")
    }
}

struct GalleryInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "A gallery's model identity, schema version and size.")

    @OptionGroup var galleryOption: GalleryOption

    func run() throws {
        let gallery = try galleryOption.open()
        let (people, embeddings) = try orFail { try gallery.counts() }
        print("gallery: \(gallery.path)")
        print("model: \(gallery.modelIdentity.map { "sha256:\($0)" } ?? "(none yet)")")
        if let id = gallery.modelIdentity, let path = try? models.find(FaceEmbedder.modelFile) {
            // Hashing the installed model says whether this gallery can be used with it.
            let installed = (try? FileSHA256.hex(ofFileAt: path)) == id
            print("installed \(FaceEmbedder.modelFile): \(installed ? "the same model" : "a DIFFERENT model (enrol and identify will refuse)")")
        }
        print("schema version: \(try orFail { try gallery.schemaVersion() })")
        print("people: \(people)\nembeddings: \(embeddings)")
        if let head = try orFail({ try gallery.currentHead() }) {
            print("head: \(head.method.rawValue), threshold \(head.threshold) (cnnpipe gallery head shows its report)")
        } else {
            print("head: none (plain distance)")
        }
    }
}

struct GalleryRename: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a person.")

    @OptionGroup var galleryOption: GalleryOption
    @Argument(help: "The current name.") var old: String
    @Argument(help: "The new name (not in the gallery yet).") var new: String

    func run() throws {
        do { try Gallery.validateName(new) } catch { fail("\(error)", code: 2) }
        let gallery = try galleryOption.open()
        try orFail { try gallery.rename(old, to: new) }
        print("renamed \(old) to \(new)")
    }
}

struct GalleryRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove people and their embeddings.")

    @OptionGroup var galleryOption: GalleryOption
    @Argument(help: "Names of the people to remove.") var names: [String]

    func validate() throws {
        guard !names.isEmpty else { throw ValidationError("give the names of the people to remove") }
    }

    func run() throws {
        let gallery = try galleryOption.open()
        var failed = false
        for name in names {
            do {
                let n = try gallery.remove(name)
                print("removed \(name) (\(n) embedding\(n == 1 ? "" : "s"))")
            } catch {
                reportError("\(error)"); failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct GalleryNotes: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "notes", abstract: "Set (or, without TEXT, clear) a person's notes.")

    @OptionGroup var galleryOption: GalleryOption
    @Argument(help: "The person.") var name: String
    @Argument(help: "The notes.") var text: String?

    func run() throws {
        let gallery = try galleryOption.open()
        try orFail { try gallery.setNotes(name, text) }
    }
}

struct GalleryExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a gallery as JSON: people, notes, embeddings (exact), model identity.")

    @OptionGroup var galleryOption: GalleryOption
    @Option(name: .shortAndLong, help: "Output file, or - for stdout.") var output = "-"

    func run() throws {
        let gallery = try galleryOption.open()
        let data = try orFail { try gallery.exportJSON() }
        if output == "-" {
            FileHandle.standardOutput.write(data)
        } else {
            // Atomic: a temporary file beside the target, renamed over it.
            try orFail { try data.write(to: URL(fileURLWithPath: output), options: .atomic) }
        }
    }
}

struct GalleryImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Merge JSON exports into a gallery (by name; created if missing).",
        discussion: """
        Each file is one transaction: new people are added; a person already in the gallery gets the \
        embeddings they do not have yet (and the notes, if they had none). An export made with another \
        model is refused. A file that fails is reported and the others are still imported (exit 1).
        """)

    @OptionGroup var galleryOption: GalleryOption
    @Argument(help: "JSON exports (- for stdin).") var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give a JSON file to import (or - for stdin)") }
    }

    func run() throws {
        // Every file is read and checked first, so a gallery is not created for nothing.
        var documents: [(file: String, document: GalleryDocument)] = [], failed = false
        for file in files {
            do {
                let data: Data
                if file == "-" {
                    data = FileHandle.standardInput.readDataToEndOfFile()
                } else {
                    guard let d = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read the file") }
                    data = d
                }
                documents.append((file, try GalleryJSON.decode(data)))
            } catch {
                reportError("\(file): \(error)"); failed = true
            }
        }
        if documents.isEmpty { throw ExitCode(1) }
        let gallery = try galleryOption.openOrCreate()
        for (file, document) in documents {
            do {
                let s = try gallery.importDocument(document)
                print("\(file): \(s.peopleAdded) people added, \(s.peopleUpdated) updated, \(s.embeddingsAdded) embeddings added"
                    + (s.embeddingsAlreadyPresent > 0 ? " (\(s.embeddingsAlreadyPresent) already present)" : "")
                    + (s.headImported ? "; head imported" : ""))
            } catch {
                reportError("\(file): \(error)"); failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
