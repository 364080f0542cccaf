import ArgumentParser
import CNNRuntime
import Foundation
import FrameModel
import ImageIO

extension Precision: ExpressibleByArgument {}

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Inspect, run and benchmark CNN models (ONNX, dlib .dat) on cnnpipe's runtime.",
        subcommands: [ModelInspect.self, ModelRun.self, ModelBench.self, ModelLayers.self])
}

struct ModelInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Inputs, outputs, op histogram, parameters and FLOPs at an input size.")

    @Argument(help: "Model name (from the models folder), .onnx or dlib .dat path.") var model: String
    @Option(help: "Spatial size for symbolic dimensions, HxW (for the FLOPs count).") var size: String = "256x256"

    func run() throws {
        let graph = try orFail { try models.load(model) }
        print("model: \(graph.name) (opset \(graph.opsetVersion))")
        for i in graph.inputs { print("input  \(i.name): \(i.elementType.map { "\($0)" } ?? "?") \(i.shapeDescription)") }
        for o in graph.outputs { print("output \(o.name): \(o.elementType.map { "\($0)" } ?? "?") \(o.shapeDescription)") }
        let parameters = graph.initializers.values.filter { $0.count > 1 }.map(\.count).reduce(0, +)
        print("parameters: \(parameters)")
        var histogram: [String: Int] = [:]
        for n in graph.nodes { histogram[n.opType, default: 0] += 1 }
        print("ops (\(graph.nodes.count)): " + histogram.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let session = try orFail(model) { try Session(graph) }
        let r = session.report
        print("prepared: \(session.plannedNodes.count) nodes run per inference (\(r.folded) folded as constants, "
            + "\(r.removed) dead; fused: \(r.fusedActivations) conv activations, \(r.fusedQDQ) Q/DQ pairs, \(r.fusedInstanceNorms) instance norms (\(r.fusedResidualAdds) with the residual Add after them, \(r.fusedPads) with the Pad), \(r.fusedQuantizedConvolutions) int8 convolutions, \(r.fusedElementwiseOps) elementwise ops in chains; \(r.quantizedBeforeCopies) Pads / Resizes moved after their QuantizeLinear)")
        var (h, w) = try parseSize(size)
        let feeds = try orFail(model) { try zeroFeeds(graph, h: h, w: w) }
        if let fixed = imageSize(graph, feeds) { (h, w) = fixed }
        let ctx = ExecutionContext(threads: session.threads)
        let outputs = try orFail(model) { try session.run(feeds, context: ctx) }
        for (name, t) in outputs.sorted(by: { $0.key < $1.key }) { print("output \(name) at \(h)x\(w): \(t.shape)") }
        print(String(format: "FLOPs at %dx%d: %.2f G (conv and matmul multiply-adds × 2)", h, w, Double(ctx.multiplyAdds) * 2 / 1e9))
    }
}

struct ModelRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a model on images or .npy files; write every output as .npy (and .png when image-shaped).")

    @Argument(help: "Model name, .onnx or dlib .dat path.") var model: String
    @Option(name: .customLong("input"), help: ArgumentHelp("NAME=IMAGE|NPY (repeatable). Images become float 0..1 RGB (0..255 for dlib models) in the layout the input declares.", valueName: "name=file"))
    var inputs: [String] = []
    @Option(help: "Output folder.") var output: String
    @OptionGroup var sessionOptions: SessionOptions

    func run() throws {
        let (graph, path, session) = try sessionOptions.open(model)
        // dlib networks take RGB values 0…255 (their graph normalises them).
        let takesEightBitLevels = ModelLocator.isDlibModel(path)
        var feeds: [String: Tensor] = [:]
        for spec in inputs {
            guard let eq = spec.firstIndex(of: "=") else { fail("--input takes name=file, got '\(spec)'", code: 2) }
            let name = String(spec[..<eq]), file = String(spec[spec.index(after: eq)...])
            guard let info = graph.inputs.first(where: { $0.name == name }) else {
                fail("model has no input '\(name)' (inputs: \(graph.inputs.map(\.name).joined(separator: ", ")))", code: 2)
            }
            feeds[name] = try orFail { try loadTensor(file, for: info, eightBitLevels: takesEightBitLevels) }
        }
        let outputs = try orFail(model) { try session.run(feeds) }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        for (name, t) in outputs {
            let safe = name.replacingOccurrences(of: "/", with: "_")
            try Data(NPY.encode(t)).write(to: URL(fileURLWithPath: output + "/\(safe).npy"))
            if let image = imageFromTensor(t) {
                try Data(try Codec.encode(image, as: .png)).write(to: URL(fileURLWithPath: output + "/\(safe).png"))
            }
            print("\(name): \(t.shape) -> \(output)/\(safe).npy")
        }
    }
}

/// Threads and precision of a model's session, for the commands that run one.
struct SessionOptions: ParsableArguments {
    @Option(help: "Threads (default: all cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Convolution precision: fp32, or bf16 (needs avx512_bf16 or AMX and oneDNN; otherwise fp32 with a note).")
    var precision: Precision = .fp32

    /// The model by name or path, its file, and its session (a note on stderr when bf16 falls back to fp32).
    func open(_ model: String) throws -> (graph: ModelGraph, path: String, session: Session) {
        let path = try orFail { try models.find(model) }
        let graph = try orFail { try models.load(path) }
        let session = try orFail(model) { try Session(graph, threads: threads, precision: precision) }
        if let note = session.precisionNote { warn(note) }
        return (graph, path, session)
    }
}

struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Median latency of warm runs at an input size, and achieved GFLOP/s.")

    @Argument(help: "Model name, .onnx or dlib .dat path.") var model: String
    @Option(help: "Spatial size HxW for symbolic (or all image) dimensions.") var size: String?
    @Option(help: "Timed runs.") var runs: Int = 10
    @Option(help: "Images per run (the first dimension of image inputs): the identify stage runs all faces of a photo as one batch.")
    var batch: Int = 1
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "Also print the time spent per op type (one extra run).") var profile = false
    @Flag(help: "With --profile: per node instead of per op type.") var byNode = false
    @OptionGroup var sessionOptions: SessionOptions

    func validate() throws {
        guard (1...1024).contains(batch) else { throw ValidationError("--batch must be 1…1024, got \(batch)") }
    }

    func run() throws {
        let (graph, _, session) = try sessionOptions.open(model)
        let threads = sessionOptions.threads
        var (h, w) = try size.map(parseSize) ?? (256, 256)
        if batch > 1 { session.acceptsAnyInputSize = true }
        let feeds = try orFail(model) { try zeroFeeds(graph, h: h, w: w, random: true, fixedSpatial: size != nil, batch: batch) }
        if size == nil, let fixed = imageSize(graph, feeds) { (h, w) = fixed }
        let ctx = ExecutionContext(threads: threads)
        _ = try orFail(model) { try session.run(feeds, context: ctx) }     // warm-up (and FLOPs count)
        var times: [Double] = []
        for _ in 0..<max(1, runs) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try orFail(model) { try session.run(feeds) }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        times.sort()
        let median = times[times.count / 2]
        if profile {
            let p = Session.Profile(byNode: byNode)
            _ = try orFail(model) { try session.run(feeds, profile: p) }
            for (op, ms) in p.milliseconds.sorted(by: { $0.value > $1.value }) {
                print(String(format: "  %-22@ %8.2f ms  %4d calls", op, ms, p.calls[op] ?? 0))
            }
        }
        let gflops = Double(ctx.multiplyAdds) * 2 / 1e9
        if json {
            print("{\"model\": \"\(model)\", \"size\": \"\(h)x\(w)\", \"batch\": \(batch), \"threads\": \(threads), \"precision\": \"\(session.precision.rawValue)\", \"median_ms\": \(median), \"median_ms_per_image\": \(median / Double(batch)), \"gflop\": \(gflops), \"gflops_per_s\": \(gflops / median * 1000)}")
        } else {
            let perImage = batch > 1 ? String(format: " (%.2f ms per image of %d)", median / Double(batch), batch) : ""
            print(String(format: "%@ %dx%d threads=%d %@: median %.2f ms%@ over %d runs (min %.2f), %.2f GFLOP → %.1f GFLOP/s",
                         model, h, w, threads, session.precision.rawValue, median, perImage, times.count, times[0], gflops, gflops / median * 1000))
        }
    }
}

func parseSize(_ s: String) throws -> (Int, Int) {
    let parts = s.lowercased().split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { throw ValidationError("size must be HxW, e.g. 512x512") }
    return (parts[0], parts[1])
}

func orFail<T>(code: Int32 = 1, _ body: () throws -> T) rethrows -> T {
    do { return try body() } catch { fail("\(error)", code: code) }
}

/// Same, with the model named in the message (errors from preparing or running it do not name the file).
func orFail<T>(_ model: String, _ body: () throws -> T) rethrows -> T {
    do { return try body() } catch {
        let message = "\(error)"
        fail(message.contains(model) ? message : "\(model): \(message)")
    }
}

/// The spatial size of the first input when it is an image (a model with a fixed size, such as the
/// dlib face ResNet at 150×150, runs at that size whatever --size says).
func imageSize(_ graph: ModelGraph, _ feeds: [String: Tensor]) -> (Int, Int)? {
    guard let image = graph.inputs.first.flatMap({ feeds[$0.name] }), image.shape.count == 4 else { return nil }
    return image.shape[1] == 3 ? (image.shape[2], image.shape[3]) : (image.shape[1], image.shape[2])
}

/// Inputs filled with zeros (or a fixed pseudo-random pattern) at a spatial size for symbolic dims.
func zeroFeeds(_ graph: ModelGraph, h: Int, w: Int, random: Bool = false, fixedSpatial: Bool = false, batch: Int = 1) throws -> [String: Tensor] {
    var feeds: [String: Tensor] = [:]
    for info in graph.inputs {
        guard var shape = info.shape else { throw ModelError("input '\(info.name)' has no declared shape") }
        // Image-like inputs (3 channels, NCHW or NHWC) take the requested spatial size.
        let nchw = shape.count == 4 && shape[1] == 3, nhwc = shape.count == 4 && shape[3] == 3 && !nchw
        let spatial: [Int: Int] = nhwc ? [1: h, 2: w] : (nchw ? [2: h, 3: w] : [:])
        for i in shape.indices where shape[i] == nil || (fixedSpatial && spatial[i] != nil) {
            shape[i] = spatial[i] ?? 1
        }
        if batch > 1 && (nchw || nhwc) { shape[0] = batch }
        let dims = shape.map { $0! }
        let n = try TensorLimits.elementCount(dims, elementSize: info.elementType == .int64 ? 8 : 4, "input '\(info.name)'")
        if info.elementType == .int64 { feeds[info.name] = Tensor(shape: dims, int64s: Array(repeating: 0, count: n)); continue }
        var values = [Float](repeating: 0, count: n)
        if random { for i in 0..<n { values[i] = Float((i &* 2654435761) % 1000) / 1000 } }
        // Style weights and similar vectors: a valid one-hot blend.
        if dims.count == 1 && n > 0 { values = [Float](repeating: 0, count: n); values[0] = 1 }
        feeds[info.name] = Tensor(shape: dims, floats: values)
    }
    return feeds
}

/// An image file as float 0..1 RGB (or the 8-bit levels 0…255) in NCHW or NHWC (from the input's
/// declared layout); or a .npy file.
func loadTensor(_ file: String, for info: ValueInfo, eightBitLevels: Bool = false) throws -> Tensor {
    if file.hasSuffix(".npy") { return try NPY.read(path: file) }
    guard let data = FileManager.default.contents(atPath: file) else { throw ModelError("\(file): cannot read") }
    let image = try Codec.decode([UInt8](data)).image.converted(to: .rgbF32)
    let hw = image.width * image.height
    var samples = image.floatSamples()
    if eightBitLevels { for i in samples.indices { samples[i] = (samples[i] * 255).rounded() } }
    let nhwc = info.shape?.count == 4 && info.shape?[3] == 3
    if nhwc { return Tensor(shape: [1, image.height, image.width, 3], floats: samples) }
    var planar = [Float](repeating: 0, count: 3 * hw)
    for i in 0..<hw { for c in 0..<3 { planar[c * hw + i] = samples[i * 3 + c] } }
    return Tensor(shape: [1, 3, image.height, image.width], floats: planar)
}

/// A [1,3,H,W] or [1,H,W,3] float tensor as an 8-bit RGB image (values clamped to 0..1).
func imageFromTensor(_ t: Tensor) -> Image? {
    guard t.elementType == .float, t.shape.count == 4, t.shape[0] == 1 else { return nil }
    let values = t.floats
    if t.shape[3] == 3 { return Image(width: t.shape[2], height: t.shape[1], format: .rgbF32, floatSamples: values).converted(to: .rgb8) }
    guard t.shape[1] == 3 else { return nil }
    let (h, w) = (t.shape[2], t.shape[3]), hw = h * w
    var interleaved = [Float](repeating: 0, count: 3 * hw)
    for i in 0..<hw { for c in 0..<3 { interleaved[i * 3 + c] = values[c * hw + i] } }
    return Image(width: w, height: h, format: .rgbF32, floatSamples: interleaved).converted(to: .rgb8)
}
