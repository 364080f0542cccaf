import CodecShims
import FrameModel

/// Limits checked from an image's header before its pixels are allocated.
public struct DecodeLimits: Sendable {
    public var maxPixels: Int
    public init(maxPixels: Int = 100_000_000) { self.maxPixels = maxPixels }
}

public struct DecodedImage: Sendable {
    public var image: Image
    public var metadata: FrameMetadata
    public var format: ImageFormat
}

public struct EncodeOptions: Sendable {
    public var quality: Int = 90                 // JPEG and lossy WebP, 1...100
    public var progressive: Bool = false         // JPEG
    public var subsampling420: Bool = true       // JPEG chroma: 4:2:0, or 4:4:4 when false
    public var pngCompression: Int = 6           // 0...9
    public var pngBitDepth: Int? = nil           // 8 or 16; nil keeps 16-bit sources 16-bit
    public var webpLossless: Bool = false
    public init() {}
}

/// Decodes and encodes JPEG, PNG and WebP through libjpeg-turbo, libpng and libwebp.
public enum Codec {
    public static func decode(_ data: [UInt8], limits: DecodeLimits = DecodeLimits()) throws -> DecodedImage {
        guard let format = ImageFormat.sniff(data) else {
            throw ImageError("not a JPEG, PNG or WebP image")
        }
        let (info_, decoder) = shims(for: format)
        var info = cs_info()
        try call { err in data.withUnsafeBufferPointer { info_($0.baseAddress!, $0.count, &info, err) } }
        let width = Int(info.width), height = Int(info.height)
        guard width > 0, height > 0 else { throw ImageError("\(format.rawValue): image has no pixels") }
        guard width.multipliedReportingOverflow(by: height).partialValue <= limits.maxPixels,
              width <= 1 << 20, height <= 1 << 20 else {
            throw ImageError("\(width)x\(height) is \(width * height) pixels, above the limit of \(limits.maxPixels) pixels "
                + "(raise it with --max-megapixels)")
        }
        guard let pixelFormat = PixelFormat.integer(channels: Int(info.channels), bitDepth: Int(info.bit_depth)) else {
            throw ImageError("\(format.rawValue): unsupported layout \(info.channels)x\(info.bit_depth)-bit")
        }
        var bytes = [UInt8](repeating: 0, count: width * height * pixelFormat.bytesPerPixel)
        var meta = cs_metadata()
        let stride = width * pixelFormat.bytesPerPixel
        try call { err in
            data.withUnsafeBufferPointer { src in
                bytes.withUnsafeMutableBufferPointer { dst in
                    decoder(src.baseAddress!, src.count, dst.baseAddress!, stride, &meta, err)
                }
            }
        }
        defer { cs_free_metadata(&meta) }
        var image = Image(width: width, height: height, format: pixelFormat, bytes: bytes)
        var exif = meta.exif.array
        if let tiff = exif, let orientation = Exif.orientation(tiff), orientation != 1 {
            image = image.applyingOrientation(orientation)
            exif = Exif.settingOrientation(tiff, to: 1)
        }
        let xmp = meta.xmp.array
        // Face regions already tagged in the file (digiKam, Lightroom, exiftool) become frame faces,
        // so they survive the pipeline and are written back with the faces stages add.
        let faces = xmp.map { XMPFaceRegions.read($0, width: image.width, height: image.height) } ?? []
        return DecodedImage(image: image,
                            metadata: FrameMetadata(exif: exif, icc: meta.icc.array, xmp: xmp,
                                                    annotations: Annotations(faces: faces)),
                            format: format)
    }

    public static func encode(_ image: Image, metadata: FrameMetadata = FrameMetadata(), as format: ImageFormat,
                              options: EncodeOptions = EncodeOptions()) throws -> [UInt8] {
        let ready = image.converted(to: encodableFormat(for: image.format, in: format, options: options))
        var metadata = metadata
        // The frame's faces are the regions now (the file's own were read into them on decode).
        if !metadata.annotations.faces.isEmpty || metadata.xmp.map(XMPFaceRegions.hasRegions) == true {
            metadata.xmp = XMPFaceRegions.write(metadata.annotations.faces, width: image.width, height: image.height,
                                                into: metadata.xmp)
        }
        var out = cs_blob()
        let channels = Int32(ready.format.channels)
        let w = Int32(ready.width), h = Int32(ready.height), stride = ready.stride
        try withShimMetadata(metadata) { meta in
            try call { err in
                ready.bytes.withUnsafeBufferPointer { px in
                    switch format {
                    case .jpeg:
                        cs_jpeg_encode(px.baseAddress!, w, h, stride, channels, Int32(options.quality.clamped(1, 100)),
                                       options.progressive ? 1 : 0, options.subsampling420 ? 1 : 0, meta, &out, err)
                    case .png:
                        cs_png_encode(px.baseAddress!, w, h, stride, channels, Int32(ready.format.bytesPerSample * 8),
                                      Int32(options.pngCompression.clamped(0, 9)), meta, &out, err)
                    case .webp:
                        cs_webp_encode(px.baseAddress!, w, h, stride, channels, Float(options.quality.clamped(0, 100)),
                                       options.webpLossless ? 1 : 0, meta, &out, err)
                    }
                }
            }
        }
        defer { cs_free(out.data) }
        return Array(UnsafeBufferPointer(start: out.data, count: out.size))
    }

    /// The pixel format an encoder takes for a source format (JPEG has no alpha, WebP no gray or 16-bit).
    static func encodableFormat(for source: PixelFormat, in format: ImageFormat, options: EncodeOptions) -> PixelFormat {
        switch format {
        case .jpeg: return source.channels <= 2 ? .gray8 : .rgb8
        case .webp: return source.hasAlpha ? .rgba8 : .rgb8
        case .png:
            let depth = options.pngBitDepth ?? (source.bytesPerSample >= 2 ? 16 : 8)
            let channels = source.isFloat ? source.channels : source.channels
            return PixelFormat.integer(channels: channels, bitDepth: depth == 16 ? 16 : 8)!
        }
    }

    private typealias InfoFn = (UnsafePointer<UInt8>, Int, UnsafeMutablePointer<cs_info>, UnsafeMutablePointer<CChar>) -> Int32
    private typealias DecodeFn = (UnsafePointer<UInt8>, Int, UnsafeMutablePointer<UInt8>, Int,
                                  UnsafeMutablePointer<cs_metadata>, UnsafeMutablePointer<CChar>) -> Int32

    private static func shims(for format: ImageFormat) -> (InfoFn, DecodeFn) {
        switch format {
        case .jpeg: ({ cs_jpeg_info($0, $1, $2, $3) }, { cs_jpeg_decode($0, $1, $2, $3, $4, $5) })
        case .png: ({ cs_png_info($0, $1, $2, $3) }, { cs_png_decode($0, $1, $2, $3, $4, $5) })
        case .webp: ({ cs_webp_info($0, $1, $2, $3) }, { cs_webp_decode($0, $1, $2, $3, $4, $5) })
        }
    }

    /// Runs a shim call with an error buffer; a non-zero result becomes an ImageError.
    private static func call(_ body: (UnsafeMutablePointer<CChar>) -> Int32) throws {
        var buffer = [CChar](repeating: 0, count: Int(CS_ERROR_CAPACITY))
        let status = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        if status != 0 {
            let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ImageError(message.isEmpty ? "codec failed" : message)
        }
    }

    private static func withShimMetadata<R>(_ m: FrameMetadata, _ body: (UnsafePointer<cs_metadata>) throws -> R) rethrows -> R {
        // XMP gets a trailing NUL (libpng measures text with strlen); the size excludes it.
        let xmp = m.xmp.map { $0 + [0] }
        return try withBlob(m.exif) { exif in
            try withBlob(m.icc) { icc in
                try withBlob(xmp, dropLast: 1) { xmpBlob in
                    var meta = cs_metadata(exif: exif, icc: icc, xmp: xmpBlob)
                    return try body(&meta)
                }
            }
        }
    }

    private static func withBlob<R>(_ bytes: [UInt8]?, dropLast: Int = 0, _ body: (cs_blob) throws -> R) rethrows -> R {
        guard let bytes, !bytes.isEmpty else { return try body(cs_blob()) }
        return try bytes.withUnsafeBufferPointer { p in
            try body(cs_blob(data: UnsafeMutablePointer(mutating: p.baseAddress!), size: p.count - dropLast))
        }
    }
}

extension cs_blob {
    var array: [UInt8]? {
        guard let data, size > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}

extension Int {
    func clamped(_ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(self, lo), hi) }
}
