import CNNPipeABI
import FrameModel
#if canImport(Glibc)
import Glibc
#endif

/// A frame handed to a stage: read-only pixels and metadata, valid during `process`.
public struct Frame {
    let raw: UnsafePointer<cp_frame>

    public var width: Int { Int(raw.pointee.width) }
    public var height: Int { Int(raw.pointee.height) }
    public var format: PixelFormat { PixelFormat(rawValue: raw.pointee.format) ?? .rgb8 }

    /// A copy of the pixels, packed (no row padding).
    public var image: Image {
        let f = raw.pointee
        let rowBytes = width * format.bytesPerPixel
        var bytes = [UInt8](repeating: 0, count: rowBytes * height)
        bytes.withUnsafeMutableBytes { dst in
            for y in 0..<height {
                (dst.baseAddress! + y * rowBytes).copyMemory(from: f.pixels + y * Int(f.stride), byteCount: rowBytes)
            }
        }
        return Image(width: width, height: height, format: format, bytes: bytes)
    }

    /// The pixels converted to `format`.
    public func image(as format: PixelFormat) -> Image { image.converted(to: format) }

    public var annotations: Annotations {
        guard let json = raw.pointee.metadata_json else { return Annotations() }
        return (try? Annotations(json: String(cString: json))) ?? Annotations()
    }
}

/// Where a stage's results go during one process/finish call.
public struct Output {
    let call: UnsafeMutablePointer<cp_call>
    let host: UnsafePointer<cp_host>

    /// Emits a new frame made from `image`, with `annotations` (or those of `like`).
    public func emit(_ image: Image, annotations: Annotations? = nil, like: Frame? = nil, pad: Int = 0) throws {
        let h = host.pointee
        guard let frame = h.frame_new(h.host_data, Int32(image.width), Int32(image.height), image.format.rawValue,
                                      like?.raw) else {
            throw StageError("the host could not allocate a \(image.width)x\(image.height) frame")
        }
        let rowBytes = image.stride, stride = Int(frame.pointee.stride)
        image.bytes.withUnsafeBytes { src in
            for y in 0..<image.height {
                UnsafeMutableRawPointer(frame.pointee.pixels + y * stride).copyMemory(from: src.baseAddress! + y * rowBytes, byteCount: rowBytes)
            }
        }
        if let annotations {
            guard h.frame_set_metadata(h.host_data, frame, annotations.jsonString()) == 0 else {
                h.frame_release(h.host_data, frame)
                throw StageError("the host refused the frame metadata")
            }
        }
        try send(UnsafePointer(frame), pad: pad)
    }

    /// Passes an input frame on unchanged (no copy).
    public func pass(_ frame: Frame, pad: Int = 0) throws { try send(frame.raw, pad: pad) }

    /// Passes an input frame on with new annotations: its pixels are shared, not copied, and the
    /// host knows they are unchanged (so it can write the input file with only new metadata).
    public func pass(_ frame: Frame, annotations: Annotations, pad: Int = 0) throws {
        let h = host.pointee
        let hasDerive = Int(h.struct_size) >= MemoryLayout<cp_host>.offset(of: \cp_host.frame_derive)! + MemoryLayout<UnsafeRawPointer>.size
        guard hasDerive, let derive = h.frame_derive else {
            return try emit(frame.image, annotations: annotations, like: frame, pad: pad)   // an older host
        }
        guard let derived = derive(h.host_data, frame.raw, annotations.jsonString()) else {
            throw StageError("the host refused the frame metadata")
        }
        try send(UnsafePointer(derived), pad: pad)
    }

    /// In a stateful stage's `process`: waits until every earlier image but the last `lag` has
    /// finished `process` here (only `.overlapping` stages ever wait), and returns this image's
    /// position in the stream. Nil when the stage runs stateless, in `finish`, or on an older host.
    public func awaitTurn(lag: Int = 0) -> Int? {
        let offset = MemoryLayout<cp_call>.offset(of: \.await_turn)!
        guard Int(call.pointee.struct_size) >= offset + MemoryLayout<UnsafeRawPointer>.size,
              let awaitTurn = call.pointee.await_turn else { return nil }
        return Int(awaitTurn(call.pointee.call_data, Int32(clamping: lag)))
    }

    private func send(_ frame: UnsafePointer<cp_frame>, pad: Int) throws {
        let c = call.pointee
        guard c.emit(c.call_data, UInt32(pad), frame) == 0 else { throw StageError("no output pad \(pad)") }
    }
}

/// Services the host offers a stage.
public struct StageHost: @unchecked Sendable {
    let raw: UnsafePointer<cp_host>
    let stageName: String

    /// The most threads a stage may use at once; how many it gets at a given moment comes from `borrowThreads`.
    public var threads: Int { max(1, Int(raw.pointee.threads)) }

    /// Extra threads (besides the calling one) free now in the run's budget, up to `wanted`; never
    /// waits. Give them back with `returnThreads`. An older host without a budget lends all of them.
    public func borrowThreads(_ wanted: Int) -> Int {
        guard hasThreadBudget, let borrow = raw.pointee.borrow_threads else { return wanted }
        return Int(borrow(raw.pointee.host_data, Int32(clamping: wanted)))
    }

    public func returnThreads(_ count: Int) {
        guard count > 0, hasThreadBudget, let giveBack = raw.pointee.return_threads else { return }
        giveBack(raw.pointee.host_data, Int32(clamping: count))
    }

    private var hasThreadBudget: Bool {
        let offset = MemoryLayout<cp_host>.offset(of: \.return_threads)!
        return Int(raw.pointee.struct_size) >= offset + MemoryLayout<UnsafeRawPointer>.size
    }
    public var modelDirectory: String? { raw.pointee.model_dir.map { String(cString: $0) } }
    public var isCancelled: Bool { raw.pointee.is_cancelled(raw.pointee.host_data) != 0 }

    /// Model file `file` in the host's model folder (an installed prefix's or a checkout's, as the
    /// host found it), or an error that says how to fetch it. The one model lookup stages use.
    public func modelPath(_ file: String) throws -> String {
        let dir = modelDirectory ?? "models"
        let path = dir + "/" + file
        guard access(path, F_OK) == 0 else {
            throw StageError("model \(file) not found in \(dir); \(Self.modelFetchHint)")
        }
        return path
    }

    /// How models get into the host's model folder, for error messages.
    public static let modelFetchHint = "the models come with scripts/setup-models.sh (in a checkout) or with an installed cnnpipe"

    /// Largest frame the run accepts, in pixels (the host's --max-megapixels).
    public var maxPixels: Int {
        let offset = MemoryLayout<cp_host>.offset(of: \.max_pixels)!
        guard Int(raw.pointee.struct_size) >= offset + 8, raw.pointee.max_pixels > 0 else { return 100_000_000 }
        return Int(raw.pointee.max_pixels)
    }

    /// Refuses a result of `width`×`height` above the limit; call it before allocating the result.
    public func checkFrameSize(_ width: Int, _ height: Int) throws {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxPixels else {
            throw StageError("a \(width)x\(height) result is above the limit of \(maxPixels) pixels (raise it with --max-megapixels)")
        }
    }

    public func log(_ message: String, level: cp_log_level = CP_LOG_INFO) {
        raw.pointee.log(raw.pointee.host_data, Int32(level.rawValue), stageName, message)
    }

    public func progress(_ done: Double, of total: Double) {
        raw.pointee.progress(raw.pointee.host_data, stageName, done, total)
    }
}
