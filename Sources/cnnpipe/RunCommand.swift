import ArgumentParser
import FilterKit
import Foundation
import ImageIO

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run images through a preset or an inline chain.",
        discussion: """
        Inputs are files, folders (their images, sorted by name) or '-' for stdin (the default). A file or \
        stdin may hold several images back to back. Output: stdout (default, images back to back), -o FILE \
        (all images in one file), -o DIR/ (one file per image, named {stem}.{ext}), or -o 'DIR/{stem}-{index}.{ext}'.

        Exit status: 0 all images done; 1 an image or stage failed (earlier results are complete); \
        2 bad command line or preset.
        """)

    @Argument(help: "Preset file or bundled preset name (omit when using -e).")
    var preset: String?

    @Argument(help: "Input files or folders; '-' or nothing reads stdin.")
    var inputs: [String] = []

    @OptionGroup var graphOptions: GraphOptions
    @OptionGroup var batchInput: BatchInput

    @Option(name: .shortAndLong, help: "Output: '-' (stdout), a file, a folder/ or a name template with {stem} {index} {n} {ext}.")
    var output: String?

    @Option(help: "Output format: jpeg, png, webp, ppm (raw PPM/PGM, no alpha) or pam (default: from -o's extension, else the input's).")
    var format: String?

    @Option(help: "JPEG / WebP quality, 1-100 (default: a JPEG source's own quality, else 90).")
    var quality: Int?

    @Flag(help: "Progressive JPEG.") var progressive = false
    @Option(help: "JPEG chroma subsampling: 420, 422, 440 or 444 (default: the JPEG source's, else 420).") var subsampling: Int?
    @Flag(help: "Lossless WebP.") var lossless = false
    @Option(help: "PNG compression level 0-9 (default 6).") var pngCompression: Int?
    @Option(help: "PNG bit depth 8 or 16 (default: 16 for 16-bit sources).") var pngBitDepth: Int?

    @Flag(help: "Do not look into the subfolders of folders given as inputs.")
    var noRecursive = false

    @Flag(help: "Report a bad image and continue with the next (exit status 1 at the end).")
    var keepGoing = false

    @Flag(help: "Write one JSON line per output frame with its metadata to stderr.")
    var json = false

    @Option(help: ArgumentHelp("Write the JSON lines to this file instead of stderr.", valueName: "file"))
    var jsonFile: String?

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Refuse images above this many megapixels (decompression bombs).")
    var maxMegapixels: Int = 100

    @Flag(name: .shortAndLong, help: "Log what the stages report.")
    var verbose = false

    func validate() throws {
        if preset == nil && graphOptions.chain == nil { throw ValidationError("give a preset or -e CHAIN") }
        if let quality, !(1...100).contains(quality) { throw ValidationError("--quality must be 1-100") }
        if let subsampling, ![420, 422, 440, 444].contains(subsampling) { throw ValidationError("--subsampling must be 420, 422, 440 or 444") }
        if let pngCompression, !(0...9).contains(pngCompression) { throw ValidationError("--png-compression must be 0-9") }
        if let d = pngBitDepth, ![8, 16].contains(d) { throw ValidationError("--png-bit-depth must be 8 or 16") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be 1-256") }
        // Up to a terapixel: far beyond any photo, far below where pixel counts could overflow.
        guard (1...1_000_000).contains(maxMegapixels) else { throw ValidationError("--max-megapixels must be 1-1000000") }
        if let format, ImageFormat(fileExtension: format) == nil {
            throw ValidationError("--format must be jpeg, png, webp, ppm or pam")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        // With -e the first positional argument is an input, not a preset.
        let inputArgs = graphOptions.chain != nil ? (preset.map { [$0] } ?? []) + inputs : inputs
        if inputArgs.isEmpty && isatty(0) != 0 {
            fail("no input: give image files or folders, or pipe images into stdin", code: 2)
        }
        if batchInput.isBatch && outputFolder(for: output) == nil {
            fail("--paths-from writes files: give -o DIR/ or a template such as -o 'out/{dir}/{stem}.{ext}' (stdout carries the JSON lines)", code: 2)
        }
        if (output == nil || output == "-") && isatty(1) != 0 {
            fail("refusing to write image data to a terminal: use -o FILE|DIR or a pipe", code: 2)
        }
        let env = graphOptions.loadEnvironment()
        let graph: Graph
        do { graph = try graphOptions.graph(presetArgument: graphOptions.chain == nil ? preset : nil, env: env) } catch {
            fail("\(error)", code: 2)
        }
        var options = RunOptions()
        options.keepGoing = keepGoing
        options.limits.maxPixels = maxMegapixels * 1_000_000
        options.format = format.flatMap { ImageFormat(fileExtension: $0) }
        options.encode.quality = quality
        options.encode.progressive = progressive ? true : nil
        options.encode.subsampling = subsampling.map { [444: .s444, 422: .s422, 440: .s440][$0] ?? .s420 }
        options.encode.webpLossless = lossless
        options.encode.pngCompression = pngCompression ?? 6
        options.encode.pngBitDepth = pngBitDepth
        // Asking for an encoding means a new encoding, even of frames whose pixels are unchanged.
        options.encode.reencode = quality != nil || progressive || subsampling != nil || lossless
            || pngCompression != nil || pngBitDepth != nil

        let host = HostServices(threads: threads, modelDirectory: env.modelDirectory, maxPixels: options.limits.maxPixels)
        host.logLevel = verbose ? .info : .warning
        var walk = InputWalk()
        let source: InputSource
        if batchInput.isBatch {
            options.keepGoing = true
            source = try orFail(code: 2) { try batchInput.source(arguments: inputArgs, recursive: !noRecursive) }
        } else {
            do {
                walk = try InputWalk(arguments: inputArgs, recursive: !noRecursive, excluding: outputFolder(for: output).map { [$0.folder] } ?? [])
            } catch {
                fail("\(error)", code: 1)
            }
            if let skipped = walk.skippedSummary { host.log(.info, skipped) }
            for folder in walk.emptyFolders { reportError("\(folder): no \(ImageFormat.readableNames) images in this folder") }
            if !walk.emptyFolders.isEmpty && walk.entries.isEmpty { throw ExitCode(1) }
            source = InputSource(entries: walk.entries)
        }
        let sink: OutputSink
        let executor: Executor
        do {
            executor = try Executor(graph: graph, host: host, options: options)
            sink = try makeSink(for: output, inputs: InputIdentities(paths: walk.entries.map(\.path)))
        } catch {
            fail("\(error)", code: 2)
        }
        var jsonLines: JSONLines?
        if json || jsonFile != nil {
            let writer = try orFail(code: 2) { try JSONLines(path: jsonFile) }
            executor.onFrameWritten = { frame, path in writer.write(frame, path: path) }
            jsonLines = writer
        }
        if batchInput.isBatch {
            executor.onInputFinished = { report in
                emitLine(report.error.map { BatchLine.error(report.path, $0) }
                         ?? BatchLine.ok(report.path, outputs: report.outputs.compactMap(\.path),
                                         faces: report.outputs.flatMap { $0.frame.annotations.faces }.map(BatchLine.face)))
            }
        }
        executor.progressTotal = source.fileCount
        executor.progressUnit = "files"
        CancelOnSignal.install(host)
        let summary = executor.run(source, to: sink)
        let complete = !summary.stoppedByError && !host.isCancelled
        do { try jsonLines?.close(complete: complete) } catch { reportError("\(error)") }
        if host.isCancelled { fail("interrupted", code: 128 + CancelOnSignal.received) }
        if summary.brokenPipe { throw ExitCode(0) }
        if !summary.failures.isEmpty && !batchInput.isBatch {
            if keepGoing {
                FileHandle.standardError.write(Data("cnnpipe: \(summary.failures.count) of \(summary.imagesRead) images failed\n".utf8))
            }
            throw ExitCode(1)
        }
        if summary.imagesRead == 0 && !batchInput.isBatch {
            fail(inputArgs.isEmpty || inputArgs == ["-"] ? "stdin: no images" : "no images in the inputs", code: 1)
        }
    }
}

/// One JSON object per written frame: where it went and its metadata. To a file, it replaces an
/// earlier file only when the run succeeds.
final class JSONLines {
    private let file: SafeFile?

    init(path: String?) throws {
        file = try path.map { try SafeFile(path: $0) }
    }

    func write(_ frame: WrittenFrame, path: String?) {
        var object: [String: Any] = ["width": frame.width, "height": frame.height, "format": "\(frame.format)"]
        if let path { object["output"] = path }
        let annotations = Data(frame.annotations.jsonString().utf8)
        if let meta = try? JSONSerialization.jsonObject(with: annotations) as? [String: Any] {
            object.merge(meta) { a, _ in a }
        }
        if var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            line.append(0x0A)
            if let file { try? file.write([UInt8](line)) } else { FileHandle.standardError.write(line) }
        }
    }

    func close(complete: Bool) throws {
        if complete { try file?.commit() } else { file?.discard() }
    }
}

/// SIGINT, SIGTERM and SIGHUP ask the stages to stop (host cancellation flag): the run ends cleanly,
/// keeping every earlier file and removing its temp files. A second signal exits at once, after
/// removing the temp files.
enum CancelOnSignal {
    nonisolated(unsafe) static var host: HostServices?
    nonisolated(unsafe) static var received: Int32 = SIGINT

    static func install(_ host: HostServices) {
        Self.host = host
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { sig in
                CancelOnSignal.received = sig
                if let h = CancelOnSignal.host, !h.isCancelled {
                    h.cancel()
                } else {
                    TempFiles.removeAll()
                    _exit(128 + sig)
                }
            }
        }
    }
}
