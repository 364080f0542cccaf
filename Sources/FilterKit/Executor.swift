import Foundation
import FrameModel
import ImageIO

public struct RunOptions: Sendable {
    public var keepGoing = false
    public var limits = DecodeLimits()
    public var encode = EncodeOptions()
    /// Output format: nil = the sink's implied format, else the input's format.
    public var format: ImageFormat?
    /// How inputs become frames and frames output bytes.
    public var io: any FrameIO = ImageFileIO()
    public init() {}
}

/// How the executor turns an input into a frame, and a finished frame into the bytes of an output.
public protocol FrameIO: Sendable {
    func decode(_ input: InputItem, limits: DecodeLimits) throws -> DecodedImage
    func encode(_ frame: HostFrame, as format: ImageFormat, input: InputItem, options: EncodeOptions) throws -> [UInt8]
}

/// Image files: decoded by their format; written as the source file with new metadata when the
/// pixels did not change (no pixel copy is even made then), else encoded.
public struct ImageFileIO: FrameIO {
    public init() {}

    public func decode(_ input: InputItem, limits: DecodeLimits) throws -> DecodedImage {
        try Codec.decode(input.bytes, limits: limits)
    }

    public func encode(_ frame: HostFrame, as format: ImageFormat, input: InputItem, options: EncodeOptions) throws -> [UInt8] {
        if Codec.canSplice(frame.metadata, as: format, options: options) {
            return try Codec.splice(frame.metadata, width: frame.width, height: frame.height, tags: options.faceTags)
        }
        return try Codec.encode(frame.image, metadata: frame.metadata, as: format, options: options)
    }
}

public struct RunSummary: Sendable {
    public var imagesRead = 0
    public var imagesWritten = 0
    public var failures: [String] = []
    /// Set when the run stopped at an error (without --keep-going).
    public var stoppedByError = false
    public var brokenPipe = false
}

/// Runs image after image through a graph, pipelined over worker threads.
///
/// Each image ("wave") is taken by one worker, which decodes it, runs it through every node in
/// graph order and encodes the results; workers run different waves at the same time, so while
/// one image is in node B the next is in node A. Stateless stages get one instance per worker;
/// a stateful stage has one instance that sees waves strictly in order (a turnstile per node).
/// Results are written in input order (a turnstile for the writer). At most `threads` waves are
/// in flight, so memory stays flat however long the stream is.
public final class Executor {
    public let graph: Graph
    public let host: HostServices
    public let options: RunOptions
    /// Called in stream order for every written frame (for --json).
    public var onFrameWritten: ((WrittenFrame, String?) -> Void)?
    /// Called in stream order once per input, when all its frames are written or it failed.
    public var onInputFinished: ((InputReport) -> Void)?
    /// For the progress line: the number of inputs when known, what they are, and a closing detail.
    public var progressTotal: Int?
    public var progressUnit = "images"
    public var progressDetail: (() -> String)?

    private var instances: [[StageInstance]] = []     // [node][worker], stateful nodes have one
    private var nodeTurns: [Turnstile] = []
    private let lock = Lock()
    /// Finished waves waiting for the ones before them; whoever completes the next wave writes the run.
    private var pending: [Int: WaveResult] = [:]
    private var nextToWrite = 0
    private let writeLock = Lock()
    private var slots: DispatchSemaphore!
    private var nextWave = 0
    private var stopWave = Int.max
    private var summary = RunSummary()
    private var lastFormat: ImageFormat = .png

    public init(graph: Graph, host: HostServices, options: RunOptions) throws {
        self.graph = graph
        self.host = host
        self.options = options
        let workers = max(1, host.threads)
        for node in graph.nodes {
            let count = node.definition.isStateless(with: node.values) ? workers : 1
            do {
                instances.append(try (0..<count).map { _ in try StageInstance(node.definition, values: node.values, host: host) })
            } catch {
                throw ValueError("node '\(node.id)' (\(node.definition.name)): \(error)")
            }
            nodeTurns.append(Turnstile())
        }
    }

    public func run(_ source: InputSource, to sink: OutputSink) -> RunSummary {
        let workers = max(1, host.threads)
        // One wave per worker plus one in flight: a worker that finishes early starts the next image
        // instead of waiting for the writer, and memory stays bounded.
        slots = DispatchSemaphore(value: workers + 1)
        let group = DispatchGroup()
        for worker in 0..<workers {
            let thread = Thread { [self] in
                workerLoop(worker, source: source, sink: sink)
                group.leave()
            }
            thread.stackSize = 8 << 20
            group.enter()
            thread.start()
        }
        group.wait()
        if stopWave == Int.max && !host.isCancelled { host.budget.holding { flush(sink) } }
        let complete = !summary.stoppedByError && !host.isCancelled && !summary.brokenPipe
        do { try sink.close(complete: complete) } catch { summary.failures.append("\(error)") }
        host.endProgress()
        return summary
    }

    // MARK: waves

    private func workerLoop(_ worker: Int, source: InputSource, sink: OutputSink) {
        while true {
            slots.wait()
            let (wave, item): (Int, Result<InputItem, InputFailure>?) = lock.locked {
                guard stopWave == Int.max, !host.isCancelled, let item = source.next() else { return (-1, nil) }
                defer { nextWave += 1 }
                return (nextWave, item)
            }
            guard let item else { slots.signal(); return }
            let outcome = host.budget.holding { process(wave: wave, item: item, worker: worker, sink: sink) }
            lock.locked { pending[wave] = outcome }
            writeLock.locked {
                while let ready = lock.locked({ pending.removeValue(forKey: nextToWrite) }) {
                    write(ready, wave: nextToWrite, sink: sink)
                    nextToWrite += 1
                    slots.signal()
                }
            }
        }
    }

    private struct WaveResult {
        var label: String
        var stem: String
        var path = "-"
        var relativeDirectory = ""
        var frames: [WrittenFrame] = []
        var encoded: [(bytes: [UInt8], format: ImageFormat, unchanged: Bool)] = []
        var error: String?
    }

    private func process(wave: Int, item: Result<InputItem, InputFailure>, worker: Int, sink: OutputSink) -> WaveResult {
        var passedNodes = Set<Int>()     // stateful nodes this wave has passed, in order
        defer {
            // A failed wave still takes its turn at every stateful node, so later waves never wait for it.
            for n in graph.nodes.indices where instances[n].count == 1 && !passedNodes.contains(n) {
                waitTurn(n, wave)
                nodeTurns[n].advance()
            }
        }
        let input: InputItem
        switch item {
        case .failure(let f): return WaveResult(label: f.label, stem: "", path: f.label, error: f.message)
        case .success(let i): input = i
        }
        var result = WaveResult(label: input.label, stem: input.stem, path: input.path, relativeDirectory: input.relativeDirectory)
        do {
            // The decoded pixels are copied into the frame and dropped at once (a 12 MP photo is 36 MB).
            let (frame, decodedFormat): (HostFrame, ImageFormat) = try {
                let decoded = try options.io.decode(input, limits: options.limits)
                var metadata = decoded.metadata
                metadata.annotations.source = input.path == "-" ? "stdin" : input.path
                metadata.annotations.index = wave
                return (HostFrame(image: decoded.image, metadata: metadata), decoded.format)
            }()
            var outputs: [[[HostFrame]]] = []
            for (n, node) in graph.nodes.enumerated() {
                let inputs = node.inputs.map { c in c.node.map { outputs[$0][c.pad] } ?? [frame] }
                let stateful = instances[n].count == 1
                // An overlapping stage takes its turn itself (await_turn), after its parallel part.
                let overlapping = stateful && node.definition.isOverlapping
                if stateful && !overlapping { waitTurn(n, wave) }
                defer {
                    if stateful {
                        waitTurn(n, wave)
                        nodeTurns[n].advance()
                        passedNodes.insert(n)
                    }
                }
                let turn: ((Int) -> Int)? = stateful ? { [self] lag in waitTurn(n, wave - lag); return wave } : nil
                outputs.append(try run(node, instances[n][stateful ? 0 : worker], inputs, turn: turn))
            }
            let finished = graph.output.node.map { outputs[$0][graph.output.pad] } ?? [frame]
            let format = options.format ?? sink.impliedFormat ?? decodedFormat
            result.encoded = try finished.map { f in
                let bytes = try options.io.encode(f, as: format, input: input, options: options.encode)
                return (bytes, format, bytes == input.bytes)
            }
            result.frames = finished.map(WrittenFrame.init)   // keep the metadata, not the pixels
            lock.locked { lastFormat = decodedFormat }
        } catch {
            result.error = "\(error)"
            result.frames = []
            result.encoded = []
        }
        return result
    }

    /// Waits until node `n` is ready for `wave`; the worker's thread goes back to the budget while it waits.
    private func waitTurn(_ n: Int, _ wave: Int) {
        guard !nodeTurns[n].isReady(for: wave) else { return }
        host.budget.lending { nodeTurns[n].wait(for: wave) }
    }

    /// Calls a node once per aligned set of input frames (a merge node pairs its inputs' i-th frames).
    private func run(_ node: Graph.Node, _ instance: StageInstance, _ inputs: [[HostFrame]],
                     turn: ((Int) -> Int)?) throws -> [[HostFrame]] {
        var outputs = Array(repeating: [HostFrame](), count: node.definition.outputs.count)
        let counts = Set(inputs.map(\.count))
        guard counts.count <= 1 else {
            throw ValueError("node '\(node.id)': its inputs carry different numbers of frames (\(inputs.map { String($0.count) }.joined(separator: ", ")))")
        }
        let accepted = node.definition.acceptedFormats
        for i in 0..<(counts.first ?? 0) {
            do {
                let frames = inputs.map { $0[i] }.map { f -> HostFrame in
                    guard let target = f.format.closest(in: accepted), target != f.format else { return f }
                    return HostFrame(image: f.image.converted(to: target), metadata: f.metadata)
                }
                var emitted = try instance.process(frames, turn: turn)
                // Frames widened for the stage (8-bit to float, say) go back to the depth they came in with.
                if let original = inputs.first?[i].format, let widened = frames.first?.format,
                   widened.bytesPerSample > original.bytesPerSample, !original.isFloat {
                    emitted = emitted.map { pad in pad.map { f in
                        guard f.format == widened,
                              let back = PixelFormat.integer(channels: f.format.channels, bitDepth: original.bytesPerSample * 8) else { return f }
                        return HostFrame(image: f.image.converted(to: back), metadata: f.metadata)
                    } }
                }
                for pad in emitted.indices { outputs[pad] += emitted[pad] }
            } catch {
                throw ValueError("\(node.id): \(error)")
            }
        }
        return outputs
    }

    private func write(_ result: WaveResult, wave: Int, sink: OutputSink, isInput: Bool = true) {
        if wave > stopWave { return }
        if isInput { summary.imagesRead += 1 }
        defer { reportProgress() }
        if let error = result.error { return failed(result, error, wave: wave) }
        var report = InputReport(label: result.label, path: result.path)
        for (k, encoded) in result.encoded.enumerated() {
            do {
                let path = try sink.write(OutputFile(bytes: encoded.bytes, format: encoded.format, inputPath: result.path,
                                                     stem: result.stem, relativeDirectory: result.relativeDirectory,
                                                     subIndex: k, index: summary.imagesWritten, unchanged: encoded.unchanged))
                summary.imagesWritten += 1
                onFrameWritten?(result.frames[k], path)
                report.outputs.append((result.frames[k], path))
            } catch let e as OutputError where e.isBrokenPipe {
                lock.locked { stopWave = wave }
                summary.brokenPipe = true
                return
            } catch {
                return failed(result, "\(error)", wave: wave, named: false)
            }
        }
        if isInput { onInputFinished?(report) }
    }

    /// An input that failed: reported; the run stops there unless it keeps going.
    private func failed(_ result: WaveResult, _ error: String, wave: Int, named: Bool = true) {
        let line = named ? "\(result.label): \(error)" : error
        summary.failures.append(line)
        host.log(.error, line)
        onInputFinished?(InputReport(label: result.label, path: result.path, error: error))
        if !options.keepGoing {
            lock.locked { stopWave = wave }
            summary.stoppedByError = true
        }
    }

    private func reportProgress() {
        host.progress("cnnpipe", done: Double(summary.imagesRead), total: Double(progressTotal ?? 0),
                      unit: progressUnit, detail: progressDetail?())
    }

    // MARK: end of stream

    /// Calls finish() on every node in graph order; frames emitted there flow through later nodes.
    private func flush(_ sink: OutputSink) {
        var outputs: [[[HostFrame]]] = []
        do {
            for (n, node) in graph.nodes.enumerated() {
                let inputs = node.inputs.map { c in c.node.map { outputs[$0][c.pad] } ?? [] }
                let instance = instances[n][0]
                var produced = inputs.allSatisfy(\.isEmpty) ? Array(repeating: [], count: node.definition.outputs.count)
                    : try run(node, instance, inputs, turn: { [nextWave] _ in nextWave })   // every wave has passed
                do {
                    let finished = try instance.finish()
                    for pad in finished.indices { produced[pad] += finished[pad] }
                } catch {
                    throw ValueError("\(node.id): at end of stream: \(error)")
                }
                outputs.append(produced)
            }
        } catch {
            summary.failures.append("\(error)")
            host.log(.error, "\(error)")
            summary.stoppedByError = true
            return
        }
        guard let out = graph.output.node else { return }
        let format = options.format ?? sink.impliedFormat ?? lastFormat
        var result = WaveResult(label: "end of stream", stem: "\(graph.nodes[out].id)")
        let finished = outputs[out][graph.output.pad]
        result.frames = finished.map(WrittenFrame.init)
        do {
            result.encoded = try finished.map {
                (try Codec.write($0.image, metadata: $0.metadata, as: format, options: options.encode), format, false)
            }
        } catch {
            result.error = "\(error)"
        }
        if !result.frames.isEmpty || result.error != nil {
            write(result, wave: -1, sink: sink, isInput: false)
        }
    }
}

/// What became of one input: the frames written from it (with the file each went to), or its error.
public struct InputReport: Sendable {
    public var label: String
    /// The input file ("-" for stdin).
    public var path: String
    public var outputs: [(frame: WrittenFrame, path: String?)] = []
    public var error: String?
}

/// What is reported about a written frame (for --json): its size, format and annotations.
public struct WrittenFrame: Sendable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    public let annotations: Annotations

    init(_ frame: HostFrame) {
        width = frame.width
        height = frame.height
        format = frame.format
        annotations = frame.annotations
    }
}
