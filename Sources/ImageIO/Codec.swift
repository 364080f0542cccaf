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
    /// JPEG and lossy WebP, 1...100; nil: a JPEG source's own quality (estimated from its
    /// quantisation tables), else 90.
    public var quality: Int?
    /// JPEG; nil: as the JPEG source, else baseline.
    public var progressive: Bool?
    /// JPEG chroma subsampling; nil: as the JPEG source, else 4:2:0.
    public var subsampling: JPEGTraits.Subsampling?
    public var pngCompression: Int = 6           // 0...9
    public var pngBitDepth: Int? = nil           // 8 or 16; nil keeps 16-bit sources 16-bit
    public var webpLossless: Bool = false
    /// Encode anew even a frame whose pixels are still its source file's (set when the user asked
    /// for an encoding: a quality, a bit depth, lossless, progressive...).
    public var reencode = false
    /// What is written into the XMP about the frame's faces.
    public var faceTags = FaceTags()
    public init() {}
}

/// Decodes and encodes JPEG, PNG and WebP through libjpeg-turbo, libpng and libwebp.
public enum Codec {
    public static func decode(_ data: [UInt8], limits: DecodeLimits = DecodeLimits()) throws -> DecodedImage {
        guard let format = ImageFormat.sniff(data) else {
            throw ImageError("not a JPEG, PNG, WebP, PNM or PAM image")
        }
        if format == .pnm || format == .pam { return try PNM.decode(data, format: format, limits: limits) }
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
        let orientation = Orientation(exif.flatMap(Exif.orientation))
        if let tiff = exif, orientation != .upright {
            image = image.applyingOrientation(orientation.value)
            exif = Exif.settingOrientation(tiff, to: 1)
        }
        // The whole packet (a JPEG's extended XMP merged in); the codec's copy if the container cannot say.
        let xmp = (try? EmbeddedXMP.read(data, format: format)) ?? meta.xmp.array
        // Face regions already tagged in the file (digiKam, Lightroom, exiftool) become frame faces,
        // so they survive the pipeline and are written back with the faces stages add.
        let faces = xmp.map { XMPFaceRegions.read($0, width: image.width, height: image.height, orientation: orientation) } ?? []
        return DecodedImage(image: image,
                            metadata: FrameMetadata(exif: exif, icc: meta.icc.array, xmp: xmp,
                                                    annotations: Annotations(faces: faces),
                                                    source: CodedSource(bytes: data, format: format.rawValue,
                                                                        orientation: orientation)),
                            format: format)
    }

    /// The bytes of an output file for a frame. When its pixels are still those of its source
    /// file, the format is the source's and no encoding was asked for, that is the source file
    /// itself with only its XMP changed (faces, keywords) — every other byte, the coded image
    /// included, as it was. Otherwise a new encoding.
    public static func write(_ image: Image, metadata: FrameMetadata, as format: ImageFormat,
                             options: EncodeOptions = EncodeOptions()) throws -> [UInt8] {
        if canSplice(metadata, as: format, options: options) {
            return try splice(metadata, width: image.width, height: image.height, tags: options.faceTags)
        }
        return try encode(image, metadata: metadata, as: format, options: options)
    }

    /// Whether `splice` applies: the pixels are the source file's, in its format, and no encoding was asked for.
    public static func canSplice(_ metadata: FrameMetadata, as format: ImageFormat, options: EncodeOptions) -> Bool {
        metadata.source?.format == format.rawValue && !options.reencode
    }

    /// The source file with the frame's faces in its XMP (the frame is `width` × `height`,
    /// upright); the file unchanged when there is nothing to write.
    public static func splice(_ metadata: FrameMetadata, width: Int, height: Int, tags: FaceTags) throws -> [UInt8] {
        guard let source = metadata.source, let format = ImageFormat(rawValue: source.format) else {
            throw ImageError("no source file to write metadata into")
        }
        let old = try EmbeddedXMP.read(source.bytes, format: format)
        guard let packet = try xmpPacket(metadata.annotations.faces, width: width, height: height,
                                         orientation: source.orientation, tags: tags, into: old) else { return source.bytes }
        return try EmbeddedXMP.write(packet, into: source.bytes, format: format)
    }

    /// `old` with the faces and tags written in; nil when nothing needs to change.
    public static func xmpPacket(_ faces: [Face], width: Int, height: Int, orientation: Orientation, tags: FaceTags,
                                 into old: [UInt8]?) throws -> [UInt8]? {
        guard !faces.isEmpty || old.map(XMPFaceRegions.hasRegions) == true || tags.state != nil else { return nil }
        guard let packet = XMPFaceRegions.write(faces, width: width, height: height, orientation: orientation,
                                                tags: tags, into: old) else {
            throw ImageError("its XMP packet is not well-formed XML; not changing it")
        }
        return packet == old ? nil : packet
    }

    public static func encode(_ image: Image, metadata: FrameMetadata = FrameMetadata(), as format: ImageFormat,
                              options: EncodeOptions = EncodeOptions()) throws -> [UInt8] {
        if format == .pnm || format == .pam { return PNM.encode(image, as: format, options: options) }
        let ready = image.converted(to: encodableFormat(for: image.format, in: format, options: options))
        var metadata = metadata
        // The frame's faces are the regions now (the file's own were read into them on decode).
        if !metadata.annotations.faces.isEmpty || metadata.xmp.map(XMPFaceRegions.hasRegions) == true
            || options.faceTags.state != nil {
            guard let packet = XMPFaceRegions.write(metadata.annotations.faces, width: image.width, height: image.height,
                                                    tags: options.faceTags, into: metadata.xmp) else {
                throw ImageError("its XMP packet is not well-formed XML; not rewriting it")
            }
            metadata.xmp = packet
        }
        // A JPEG made from a JPEG keeps its quality, subsampling, progression, density and IPTC.
        let traits = metadata.source.flatMap { $0.format == "jpeg" ? JPEGTraits($0.bytes) : nil }
        var out = cs_blob()
        let channels = Int32(ready.format.channels)
        let w = Int32(ready.width), h = Int32(ready.height), stride = ready.stride
        try withShimMetadata(metadata) { meta in
            try call { err in
                ready.bytes.withUnsafeBufferPointer { px in
                    switch format {
                    case .jpeg:
                        jpegOptions(options, traits) { cs_jpeg_encode(px.baseAddress!, w, h, stride, channels, $0, meta, &out, err) }
                    case .png:
                        cs_png_encode(px.baseAddress!, w, h, stride, channels, Int32(ready.format.bytesPerSample * 8),
                                      Int32(options.pngCompression.clamped(0, 9)), meta, &out, err)
                    case .webp:
                        cs_webp_encode(px.baseAddress!, w, h, stride, channels, Float((options.quality ?? 90).clamped(0, 100)),
                                       options.webpLossless ? 1 : 0, meta, &out, err)
                    case .pnm, .pam:
                        preconditionFailure("PNM is encoded above")
                    }
                }
            }
        }
        defer { cs_free(out.data) }
        return Array(UnsafeBufferPointer(start: out.data, count: out.size))
    }

    private static func jpegOptions(_ o: EncodeOptions, _ traits: JPEGTraits?, _ body: (UnsafePointer<cs_jpeg_options>) -> Int32) -> Int32 {
        var c = cs_jpeg_options()
        c.quality = Int32((o.quality ?? traits?.quality ?? 90).clamped(1, 100))
        c.progressive = (o.progressive ?? traits?.progressive ?? false) ? 1 : 0
        c.subsampling = (o.subsampling ?? traits?.subsampling ?? .s420).rawValue
        if let d = traits?.density {
            c.has_density = 1
            c.density_unit = d.unit; c.x_density = d.x; c.y_density = d.y
        }
        let kept = traits?.keptSegments ?? []
        return kept.withUnsafeBufferPointer { p in
            c.segments = cs_blob(data: UnsafeMutablePointer(mutating: p.baseAddress), size: p.count)
            return body(&c)
        }
    }

    /// The pixel format an encoder takes for a source format (JPEG has no alpha, WebP no gray or 16-bit).
    static func encodableFormat(for source: PixelFormat, in format: ImageFormat, options: EncodeOptions) -> PixelFormat {
        switch format {
        case .jpeg: return source.channels <= 2 ? .gray8 : .rgb8
        case .webp: return source.hasAlpha ? .rgba8 : .rgb8
        case .pnm:
            return PixelFormat.integer(channels: source.channels <= 2 ? 1 : 3, bitDepth: source.bytesPerSample >= 2 ? 16 : 8)!
        case .pam:
            return PixelFormat.integer(channels: source.channels, bitDepth: source.bytesPerSample >= 2 ? 16 : 8)!
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
        case .pnm, .pam: preconditionFailure("PNM is decoded in Swift")
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
