import CNNPipeABI
import FrameModel
#if canImport(Glibc)
import Glibc
#endif

/// Pixel memory with a stable address, shared by the frames that carry the same pixels.
final class PixelStorage: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(byteCount: Int) { pointer = UnsafeMutableRawPointer.allocate(byteCount: max(1, byteCount), alignment: 64) }
    deinit { pointer.deallocate() }
}

/// A frame owned by the host: pixels in memory with a stable address (so a `cp_frame` can point
/// at them), plus metadata. Immutable once it has left the stage that made it.
public final class HostFrame: @unchecked Sendable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    public private(set) var metadata: FrameMetadata
    let storage: PixelStorage
    var pixels: UnsafeMutableRawPointer { storage.pointer }
    let raw: UnsafeMutablePointer<cp_frame>
    private var metadataJSON: UnsafeMutablePointer<CChar>?
    /// Held by the plugin that made it (frame_new or frame_derive) until it emits or releases it.
    var ownedByPlugin = false
    /// Its metadata may be replaced (frame_set_metadata) while the plugin holds it.
    var writable: Bool { ownedByPlugin }

    public init(width: Int, height: Int, format: PixelFormat, metadata: FrameMetadata) {
        self.width = width
        self.height = height
        self.format = format
        self.metadata = metadata
        storage = PixelStorage(byteCount: width * height * format.bytesPerPixel)
        raw = .allocate(capacity: 1)
        raw.initialize(to: Self.cFrame(width, height, format, storage))
        raw.pointee.host_handle = Unmanaged.passUnretained(self).toOpaque()
        setAnnotationsJSON(metadata.annotations.jsonString())
    }

    /// A frame with the same pixels (shared, not copied) and other metadata.
    init(sharingPixelsOf source: HostFrame, metadata: FrameMetadata) {
        width = source.width
        height = source.height
        format = source.format
        self.metadata = metadata
        storage = source.storage
        raw = .allocate(capacity: 1)
        raw.initialize(to: Self.cFrame(width, height, format, storage))
        raw.pointee.host_handle = Unmanaged.passUnretained(self).toOpaque()
        setAnnotationsJSON(metadata.annotations.jsonString())
    }

    public convenience init(image: Image, metadata: FrameMetadata) {
        self.init(width: image.width, height: image.height, format: image.format, metadata: metadata)
        image.bytes.withUnsafeBytes { pixels.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    private static func cFrame(_ width: Int, _ height: Int, _ format: PixelFormat, _ storage: PixelStorage) -> cp_frame {
        cp_frame(struct_size: UInt32(MemoryLayout<cp_frame>.size), width: Int32(width), height: Int32(height),
                 format: format.rawValue, stride: Int64(width * format.bytesPerPixel),
                 pixels: storage.pointer.assumingMemoryBound(to: UInt8.self), metadata_json: nil, host_handle: nil)
    }

    deinit {
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
        setAnnotations(parsed)
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
