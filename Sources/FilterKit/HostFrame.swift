import CNNPipeABI
import FrameModel
#if canImport(Glibc)
import Glibc
#endif

/// A frame owned by the host: pixels in memory with a stable address (so a `cp_frame` can point
/// at them), plus metadata. Immutable once it has left the stage that made it.
public final class HostFrame: @unchecked Sendable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    public private(set) var metadata: FrameMetadata
    let pixels: UnsafeMutableRawPointer
    let raw: UnsafeMutablePointer<cp_frame>
    private var metadataJSON: UnsafeMutablePointer<CChar>?
    /// Writable while the plugin that created it holds it (between frame_new and emit).
    var writable = false

    public init(width: Int, height: Int, format: PixelFormat, metadata: FrameMetadata) {
        self.width = width
        self.height = height
        self.format = format
        self.metadata = metadata
        let byteCount = max(1, width * height * format.bytesPerPixel)
        pixels = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        raw = .allocate(capacity: 1)
        raw.initialize(to: cp_frame(
            struct_size: UInt32(MemoryLayout<cp_frame>.size), width: Int32(width), height: Int32(height),
            format: format.rawValue, stride: Int64(width * format.bytesPerPixel),
            pixels: pixels.assumingMemoryBound(to: UInt8.self), metadata_json: nil, host_handle: nil))
        raw.pointee.host_handle = Unmanaged.passUnretained(self).toOpaque()
        setAnnotationsJSON(metadata.annotations.jsonString())
    }

    public convenience init(image: Image, metadata: FrameMetadata) {
        self.init(width: image.width, height: image.height, format: image.format, metadata: metadata)
        image.bytes.withUnsafeBytes { pixels.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    deinit {
        pixels.deallocate()
        free(metadataJSON)
        raw.deallocate()
    }

    public var image: Image {
        let count = width * height * format.bytesPerPixel
        return Image(width: width, height: height, format: format,
                     bytes: Array(UnsafeRawBufferPointer(start: pixels, count: count)))
    }

    public var annotations: Annotations { metadata.annotations }

    /// Replaces the annotations from a plugin's JSON; false when the JSON is not valid.
    func setAnnotations(json: String) -> Bool {
        guard let parsed = try? Annotations(json: json) else { return false }
        metadata.annotations = parsed
        setAnnotationsJSON(parsed.jsonString())
        return true
    }

    func setAnnotations(_ annotations: Annotations) {
        metadata.annotations = annotations
        setAnnotationsJSON(annotations.jsonString())
    }

    private func setAnnotationsJSON(_ json: String) {
        free(metadataJSON)
        metadataJSON = strdup(json)
        raw.pointee.metadata_json = UnsafePointer(metadataJSON)
    }

    static func from(_ frame: UnsafePointer<cp_frame>) -> HostFrame? {
        guard let handle = frame.pointee.host_handle else { return nil }
        return Unmanaged<HostFrame>.fromOpaque(handle).takeUnretainedValue()
    }
}
