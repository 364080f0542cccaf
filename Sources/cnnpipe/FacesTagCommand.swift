import ArgumentParser
import FilterKit
import FrameModel
import Foundation
import Gallery
import ImageIO

struct FacesTag: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Tag a photo library: faces as XMP regions with the names a gallery knows, losslessly.",
        discussion: """
        Finds the faces in every photo (folders are walked recursively), names the ones the gallery knows, and \
        writes MWG face regions (Type=Face, Name only for identified faces), the Microsoft region mirror and \
        person keywords into XMP, where digiKam, Lightroom, darktable and exiftool read them. The coded image is \
        never re-encoded: only the XMP segment or chunk of the file changes, every other byte stays.

        Where to write (one is required; inputs are never overwritten otherwise):
          --in-place      rewrite each photo (temp file + rename; mode and owner kept; --keep-mtime, --backup)
          --sidecar       write photo.jpg.xmp next to each photo (--sidecar-name short: photo.xmp), merging \
        into an existing sidecar; the photo is not opened for writing
          -o DIR          tagged copies in DIR, mirroring the input folders

        Regions already in a photo (or its sidecar) are kept; a detection on the same face keeps the name a \
        person gave it. Each photo records what tagged it (the gallery's revision and the settings): a re-run \
        with the same gallery and settings skips photos already done (--force tags them again), so an \
        interrupted run just continues.

        Output: progress on a terminal; --json prints one line per photo on stdout (path, status ok|skipped|error, \
        output, faces); --dry-run writes nothing and prints path,name,distance per face. Exit status: 0 every \
        photo done, 1 some photo failed (the others are still tagged), 2 bad command line or gallery.
        """)

    @Argument(help: "Photos and folders of photos.") var inputs: [String] = []
    @OptionGroup var batchInput: BatchInput
    @Option(help: "The gallery that names faces (cnnpipe gallery enroll makes one). Without it, faces are tagged unnamed.")
    var gallery: String?
    @Flag(help: "Rewrite each photo in place (lossless: only its XMP changes).") var inPlace = false
    @Flag(help: "Write an XMP sidecar next to each photo instead of changing it.") var sidecar = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Write tagged copies into this folder, mirroring the input folders.", valueName: "dir"))
    var output: String?
    @Option(help: "Sidecar name: full (photo.jpg.xmp: darktable, digiKam) or short (photo.xmp: Lightroom, RawTherapee).")
    var sidecarName: XMPFiles.SidecarNaming = .full
    @Flag(help: "With --in-place: keep each photo's modification time.") var keepMtime = false
    @Flag(help: "With --in-place: keep the original as photo.jpg_original (never replacing an existing one).") var backup = false
    @Flag(help: "Tag photos again even when they were tagged with the same gallery and settings.") var force = false
    @Flag(help: "Write nothing: print path,name,distance for each face that would be tagged.") var dryRun = false
    @Flag(help: "One JSON line per photo on stdout.") var json = false
    @Flag(help: "Do not look into subfolders.") var noRecursive = false
    @Option(help: "Double the photo this many times first to find smaller faces (0-2).") var upsample = 1
    @OptionGroup var detection: DetectSizeOption
    @Option(help: "Detector score a face must exceed (dlib's adjust_threshold).") var threshold: Float = 0
    @Option(help: "Ignore faces narrower than this many pixels.") var minSize = 0
    @Option(help: "Largest descriptor distance that still counts as the person (default 0.6, or the head's threshold).")
    var tolerance: Float?
    @Flag(help: "Ignore the gallery's learned head: plain distances.") var noHead = false
    @Option(help: "Person keyword lists to write: all, none, or a comma list of dc, lr, digikam, microsoft.")
    var keywords = "all"
    @Option(help: "Root of the person keywords in hierarchical lists (People|Ada, People/Ada).") var keywordRoot = "People"
    @Option(help: "Worker threads (default: all cores).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Refuse photos above this many megapixels.") var maxMegapixels = 200

    func validate() throws {
        let modes = [inPlace, sidecar, output != nil].filter { $0 }.count
        if modes == 0 && !dryRun {
            throw ValidationError("choose where to write: --in-place, --sidecar or -o DIR (or --dry-run)")
        }
        if modes > 1 { throw ValidationError("--in-place, --sidecar and -o are exclusive") }
        if inputs.isEmpty && !batchInput.isBatch { throw ValidationError("give photos or folders (or --paths-from FILE)") }
        if (keepMtime || backup) && !inPlace { throw ValidationError("--keep-mtime and --backup go with --in-place") }
        guard (0...2).contains(upsample) else { throw ValidationError("--upsample must be 0, 1 or 2") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1-256") }
        guard (1...10_000).contains(maxMegapixels) else { throw ValidationError("--max-megapixels must be 1-10000") }
        _ = try keywordSchemas()
    }

    func keywordSchemas() throws -> Set<FaceTags.KeywordSchema> {
        switch keywords {
        case "all": return Set(FaceTags.KeywordSchema.allCases)
        case "none": return []
        default:
            return Set(try keywords.split(separator: ",").map { name in
                guard let s = FaceTags.KeywordSchema(rawValue: String(name)) else {
                    throw ValidationError("--keywords: unknown list '\(name)' (all, none, dc, lr, digikam, microsoft)")
                }
                return s
            })
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let env = GraphOptions().loadEnvironment()
        let batch = batchInput.isBatch
        var walk = InputWalk()
        if !batch {
            do {
                walk = try InputWalk(arguments: inputs, recursive: !noRecursive, excluding: output.map { [$0] } ?? [])
            } catch {
                fail("\(error)", code: 1)
            }
            if walk.entries.contains(where: { $0.path == "-" }) { fail("faces tag works on files: give photos or folders, not -", code: 2) }
            for folder in walk.emptyFolders { reportError("\(folder): no \(ImageFormat.readableNames) images in this folder") }
            if let skipped = walk.skippedSummary { note(skipped) }
            if walk.entries.isEmpty { throw ExitCode(1) }
        }

        // The graph, and what tagged a photo (a re-run with the same state skips it).
        var stages: [(stage: String, params: [(String, String)])] = [
            ("face-detect", [("upsample", "\(upsample)"), ("threshold", "\(threshold)"), ("min-size", "\(minSize)"), ("detect-size", "\(detection.detectSize)")]),
        ]
        var galleryRevision = "none"
        if let gallery {
            galleryRevision = try orFail(code: 2) { try Gallery(path: gallery, create: false, readOnly: true).revision() }
            var identify = [("gallery", gallery), ("head", noHead ? "false" : "true")]
            if let tolerance { identify += [("tolerance", "\(tolerance)"), ("head-tolerance", "\(tolerance)")] }
            stages.append(("identify", identify))
        }
        var tags = FaceTags()
        tags.keywords = try keywordSchemas()
        tags.keywordRoot = keywordRoot
        let settings = "tag-1|\(galleryRevision)|"
            + stages.map { s in s.stage + ":" + s.params.filter { $0.0 != "gallery" }.map { "\($0.0)=\($0.1)" }.joined(separator: ",") }
                .joined(separator: ";")
            + "|kw=\(tags.keywords.map(\.rawValue).sorted().joined(separator: ","))|root=\(keywordRoot)"
        tags.state = "cnnpipe-1 " + String(StableHash.of(settings), radix: 16)
        let graph: Graph
        do { graph = try Graph.build(Preset.linear(stages), stages: env.plugins.stages) } catch { fail("\(error)", code: 2) }

        let tagging = LibraryTagging(destination: destination, tags: tags)
        var options = RunOptions()
        options.keepGoing = true
        options.limits.maxPixels = maxMegapixels * 1_000_000
        options.encode.faceTags = tags
        options.io = tagging.io
        let lines = json || batch
        var skipped = 0
        let source: InputSource
        if batch {
            source = try orFail(code: 2) { try batchInput.source(arguments: inputs, recursive: !noRecursive) }
            var swept = Set<String>()
            source.skip = { entry in
                if swept.insert((entry.path as NSString).deletingLastPathComponent).inserted { tagging.sweepTempFiles(photos: [entry.path]) }
                return !force && tagging.isDone(entry)
            }
        } else {
            // Incremental: photos whose recorded state is this run's are done already.
            var todo: [InputWalk.Entry] = []
            for entry in walk.entries {
                if !force && tagging.isDone(entry) {
                    skipped += 1
                    if lines { emitLine(BatchLine.skipped(entry.path)) }
                } else {
                    todo.append(entry)
                }
            }
            if skipped > 0 && !lines { note("skipping \(skipped) photos already tagged with this gallery and these settings (--force tags them again)") }
            tagging.sweepTempFiles(photos: todo.map { $0.path })
            source = InputSource(entries: todo)
        }
        source.onSkip = { entry in
            skipped += 1
            if lines { emitLine(BatchLine.skipped(entry.path)) }
        }
        let sink = try orFail(code: 2) { try tagging.sink(inputs: walk.entries.map { $0.path }) }

        let host = HostServices(threads: threads, modelDirectory: env.modelDirectory)
        let executor = try orFail(code: 2) { try Executor(graph: graph, host: host, options: options) }
        var faceCount = 0, named = 0
        executor.progressTotal = source.fileCount
        executor.progressUnit = "photos"
        executor.progressDetail = { "\(faceCount) faces, \(named) named" + (skipped == 0 ? "" : ", \(skipped) skipped") }
        executor.onInputFinished = { report in
            if let error = report.error {
                if lines { emitLine(BatchLine.error(report.path, error)) }
                return
            }
            let faces = report.outputs.flatMap { $0.frame.annotations.faces }
            faceCount += faces.count
            named += faces.filter { $0.name != nil && $0.name != "unknown" }.count
            if lines {
                emitLine(BatchLine.ok(report.path, outputs: dryRun ? [] : report.outputs.compactMap(\.path), faces: faces.map(BatchLine.face)))
            } else if dryRun {
                for f in faces {
                    print("\(report.path),\(f.name ?? "unknown"),\(f.distance.map { String(format: "%.4f", $0) } ?? "None")")
                }
            }
        }
        CancelOnSignal.install(host)
        let summary = executor.run(source, to: sink)
        if host.isCancelled { fail("interrupted", code: 128 + CancelOnSignal.received) }
        if !lines {
            note("\(summary.imagesRead - summary.failures.count) photos tagged, \(faceCount) faces (\(named) named)"
                 + (skipped == 0 ? "" : ", \(skipped) skipped") + (summary.failures.isEmpty ? "" : ", \(summary.failures.count) failed"))
        }
        if !summary.failures.isEmpty && !batch { throw ExitCode(1) }
    }

    private var destination: LibraryTagging.Destination {
        if dryRun { return .dryRun }
        if inPlace { return .inPlace(keepModificationTime: keepMtime, backup: backup) }
        if sidecar { return .sidecar(sidecarName) }
        return .mirror(output!)
    }
}

/// A line on stderr for the user (not an error).
func note(_ message: String) {
    FileHandle.standardError.write(Data("cnnpipe: \(message)\n".utf8))
}

extension XMPFiles.SidecarNaming: ExpressibleByArgument {}
