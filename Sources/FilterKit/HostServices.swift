import CNNPipeABI
import FrameModel
#if canImport(Glibc)
import Glibc
#endif

/// What the host offers every stage: logging, progress, cancellation, threads, model folder,
/// frame allocation. One per run; its `cp_host` table is handed to every stage instance.
public final class HostServices: @unchecked Sendable {
    public enum Level: Int32, Comparable, Sendable {
        case debug = 0, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    public var logLevel: Level = .warning
    public var showProgress: Bool
    public let threads: Int
    /// The run's thread budget: `threads` in all, held by the executor's workers and lent to stages.
    let budget: ThreadBudget
    public let modelDirectory: String
    /// Largest frame a stage may make (the run's --max-megapixels).
    public let maxPixels: Int
    let table: UnsafeMutablePointer<cp_host>
    private let modelDirCString: UnsafeMutablePointer<CChar>
    private let cancelFlag = AtomicFlag()
    private let printLock = Lock()

    public init(threads: Int, modelDirectory: String, showProgress: Bool = isatty(2) != 0, maxPixels: Int = 100_000_000) {
        self.threads = threads
        budget = ThreadBudget(threads)
        self.maxPixels = maxPixels
        self.modelDirectory = modelDirectory
        self.showProgress = showProgress
        modelDirCString = strdup(modelDirectory)
        table = .allocate(capacity: 1)
        table.initialize(to: cp_host(
            struct_size: UInt32(MemoryLayout<cp_host>.size), abi_version: CNNPIPE_ABI_VERSION, host_data: nil,
            log: hostLog, progress: hostProgress, is_cancelled: hostIsCancelled, threads: Int32(threads),
            model_dir: UnsafePointer(modelDirCString), frame_new: hostFrameNew,
            frame_set_metadata: hostFrameSetMetadata, frame_release: hostFrameRelease, frame_derive: hostFrameDerive,
            max_pixels: Int64(maxPixels), borrow_threads: hostBorrowThreads, return_threads: hostReturnThreads))
        table.pointee.host_data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        free(modelDirCString)
        table.deallocate()
    }

    public var isCancelled: Bool { cancelFlag.isSet }
    public func cancel() { cancelFlag.set() }

    public func log(_ level: Level, _ message: String, stage: String? = nil) {
        guard level >= logLevel else { return }
        let prefix = level >= .warning ? (level == .error ? "error: " : "warning: ") : ""
        let line = "cnnpipe: \(stage.map { "[\($0)] " } ?? "")\(prefix)\(message)\n"
        printLock.locked { clearProgressLine(); fputs(line, stderr) }
    }

    private var progressShown = false

    private var progressStart: [String: Double] = [:]

    /// "label: 120/300 photos (40%), 2.1/s, ETA 1m26s, detail" — rate and ETA once a few are done.
    public func progress(_ label: String, done: Double, total: Double, unit: String = "", detail: String? = nil) {
        guard showProgress else { return }
        let now = Self.seconds()
        printLock.locked {
            let start = progressStart[label] ?? now
            progressStart[label] = start
            var text = "\(label): " + (total > 0 ? "\(Int(done))/\(Int(total))" : "\(Int(done))") + (unit.isEmpty ? "" : " \(unit)")
            if total > 0 { text += " (\(Int(100 * done / total))%)" }
            let elapsed = now - start
            if done >= 2, elapsed > 1 {
                let rate = done / elapsed
                text += String(format: ", %.1f/s", rate)
                if total > done { text += ", ETA " + Self.duration((total - done) / rate) }
            }
            if let detail, !detail.isEmpty { text += ", " + detail }
            fputs("\r\u{1B}[K" + text, stderr)
            progressShown = true
        }
    }

    static func seconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func duration(_ s: Double) -> String {
        let total = Int(s.rounded())
        if total >= 3600 { return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m" }
        if total >= 60 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total)s"
    }

    public func endProgress() { printLock.locked { clearProgressLine() } }

    private func clearProgressLine() {
        if progressShown { fputs("\r\u{1B}[K", stderr); progressShown = false }
    }

    static func from(_ data: UnsafeMutableRawPointer?) -> HostServices {
        Unmanaged<HostServices>.fromOpaque(data!).takeUnretainedValue()
    }
}

private let hostLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    data, level, stage, message in
    HostServices.from(data).log(HostServices.Level(rawValue: level) ?? .info, message.map { String(cString: $0) } ?? "",
                                stage: stage.map { String(cString: $0) })
}

private let hostProgress: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Double, Double) -> Void = {
    data, stage, done, total in
    HostServices.from(data).progress(stage.map { String(cString: $0) } ?? "", done: done, total: total)
}

private let hostIsCancelled: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { data in
    HostServices.from(data).isCancelled ? 1 : 0
}

private let hostBorrowThreads: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { data, wanted in
    Int32(HostServices.from(data).budget.borrow(Int(wanted)))
}

private let hostReturnThreads: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Void = { data, count in
    HostServices.from(data).budget.release(Int(count))
}

private let hostFrameNew: @convention(c) (UnsafeMutableRawPointer?, Int32, Int32, Int32, UnsafePointer<cp_frame>?)
    -> UnsafeMutablePointer<cp_frame>? = { data, width, height, format, like in
    guard width > 0, height > 0, let pixelFormat = PixelFormat(rawValue: format),
          Int(width) * Int(height) <= HostServices.from(data).maxPixels else { return nil }
    var metadata = like.flatMap(HostFrame.from)?.metadata ?? FrameMetadata()
    metadata.source = nil                 // new pixels: no longer the source file's
    let frame = HostFrame(width: Int(width), height: Int(height), format: pixelFormat, metadata: metadata)
    frame.ownedByPlugin = true
    _ = Unmanaged.passRetained(frame)   // the plugin's reference, given back by emit or frame_release
    return frame.raw
}

private let hostFrameDerive: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<cp_frame>?, UnsafePointer<CChar>?)
    -> UnsafeMutablePointer<cp_frame>? = { _, source, json in
    guard let source, let original = HostFrame.from(source) else { return nil }
    let frame = HostFrame(sharingPixelsOf: original, metadata: original.metadata)
    if let json, !frame.setAnnotations(json: String(cString: json)) { return nil }
    frame.ownedByPlugin = true
    _ = Unmanaged.passRetained(frame)
    return frame.raw
}

private let hostFrameSetMetadata: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<cp_frame>?,
                                                  UnsafePointer<CChar>?) -> Int32 = { _, raw, json in
    guard let raw, let json, let frame = HostFrame.from(raw), frame.writable else { return -1 }
    return frame.setAnnotations(json: String(cString: json)) ? 0 : -1
}

private let hostFrameRelease: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<cp_frame>?) -> Void = {
    _, raw in
    guard let raw, let frame = HostFrame.from(raw), frame.ownedByPlugin else { return }
    frame.ownedByPlugin = false
    Unmanaged.passUnretained(frame).release()
}
