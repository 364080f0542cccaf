/// A packed image: rows of `width` pixels, `stride == width * bytesPerPixel`, no padding.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    public var bytes: [UInt8]

    public init(width: Int, height: Int, format: PixelFormat, bytes: [UInt8]) {
        precondition(bytes.count == width * height * format.bytesPerPixel, "pixel buffer size mismatch")
        self.width = width
        self.height = height
        self.format = format
        self.bytes = bytes
    }

    /// A zero-filled image.
    public init(width: Int, height: Int, format: PixelFormat) {
        self.init(width: width, height: height, format: format,
                  bytes: [UInt8](repeating: 0, count: width * height * format.bytesPerPixel))
    }

    public var stride: Int { width * format.bytesPerPixel }
    public var pixelCount: Int { width * height }
}
