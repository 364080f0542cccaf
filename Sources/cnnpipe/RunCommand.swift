import ArgumentParser
import FilterKit
import Foundation
import ImageIO

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run images through a preset or an inline chain.",
        discussion: """
        Inputs are files, folders (their images, sorted by name) or '-' for stdin (the default). A file or
        stdin may hold several images back to back. Output: stdout (default, images back to back), -o FILE
        (all images in one file), -o DIR/ (one file per image, named {stem}.{ext}), or -o 'DIR/{stem}-{index}.{ext}'.

        Exit status: 0 all images done; 1 an image or stage failed (earlier results are complete);
        2 bad command line or preset.
        """)

    @Argument(help: "Preset file or bundled preset name (omit when using -e).")
    var preset: String?

    @Argument(help: "Input files or folders; '-' or nothing reads stdin.")
    var inputs: [String] = []

    @OptionGroup var graphOptions: GraphOptions

    @Option(name: .shortAndLong, help: "Output: '-' (stdout), a file, a folder/ or a name template with {stem} {index} {n} {ext}.")
    var output: String?

    @Option(help: "Output format: jpeg, png or webp (default: from -o's extension, else the input's).")
    var format: String?

    @Option(help: "JPEG / WebP quality, 1-100.")
    var quality: Int = 90

    @Flag(help: "Progressive JPEG.") var progressive = false
    @Option(help: "JPEG chroma subsampling: 420 or 444.") var subsampling: Int = 420
    @Flag(help: "Lossless WebP.") var lossless = false
    @Option(help: "PNG compression level 0-9.") var pngCompression: Int = 6
    @Option(help: "PNG bit depth 8 or 16 (default: 16 for 16-bit sources).") var pngBitDepth: Int?

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
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1-100") }
        guard [420, 444].contains(subsampling) else { throw ValidationError("--subsampling must be 420 or 444") }
        guard (0...9).contains(pngCompression) else { throw ValidationError("--png-compression must be 0-9") }
        if let d = pngBitDepth, ![8, 16].contains(d) { throw ValidationError("--png-bit-depth must be 8 or 16") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be 1-256") }
        // Up to a terapixel: far beyond any photo, far below where pixel counts could overflow.
        guard (1...1_000_000).contains(maxMegapixels) else { throw ValidationError("--max-megapixels must be 1-1000000") }
        if let format, ImageFormat(fileExtension: format) == nil {
            throw ValidationError("--format must be jpeg, png or webp")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        // With -e the first positional argument is an input, not a preset.
        let inputArgs = graphOptions.chain != nil ? (preset.map { [$0] } ?? []) + inputs : inputs
        if inputArgs.isEmpty && isatty(0) != 0 {
            fail("no input: give image files or folders, or pipe images into stdin", code: 2)
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
        options.encode.progressive = progressive
        options.encode.subsampling420 = subsampling == 420
        options.encode.webpLossless = lossless
        options.encode.pngCompression = pngCompression
        options.encode.pngBitDepth = pngBitDepth

        let host = HostServices(threads: threads, modelDirectory: env.modelDirectory, maxPixels: options.limits.maxPixels)
        host.logLevel = verbose ? .info : .warning
        let source: InputSource
        let sink: OutputSink
        let executor: Executor
        do {
            source = try InputSource(arguments: inputArgs)
            executor = try Executor(graph: graph, host: host, options: options)
            sink = try makeSink(for: output)
        } catch {
            fail("\(error)", code: 2)
        }
        if json || jsonFile != nil {
            let writer = try JSONLines(path: jsonFile)
            executor.onFrameWritten = { frame, path in writer.write(frame, path: path) }
        }
        CancelOnInterrupt.install(host)
        let summary = executor.run(source, to: sink)
        if host.isCancelled { fail("interrupted", code: 130) }
        if summary.brokenPipe { throw ExitCode(0) }
        if !summary.failures.isEmpty {
            if keepGoing {
                FileHandle.standardError.write(Data("cnnpipe: \(summary.failures.count) of \(summary.imagesRead) images failed\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}

/// One JSON object per written frame: where it went and its metadata.
final class JSONLines {
    private let handle: FileHandle

    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw CLIError("\(path): cannot write JSON lines")
            }
            handle = h
        } else {
            handle = FileHandle.standardError
        }
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
            handle.write(line)
        }
    }
}

/// Ctrl-C asks the stages to stop (host cancellation flag); a second Ctrl-C exits at once.
enum CancelOnInterrupt {
    nonisolated(unsafe) static var host: HostServices?

    static func install(_ host: HostServices) {
        Self.host = host
        signal(SIGINT) { _ in
            if let h = CancelOnInterrupt.host, !h.isCancelled { h.cancel() } else { _exit(130) }
        }
    }
}
