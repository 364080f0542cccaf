import FrameModel
import ImageIO

/// The decoder targets: one format each, through the C shims; a small pixel limit keeps every
/// input cheap (the limit check itself is part of what is fuzzed).
public enum DecodeFuzz {
    public static func run(_ bytes: [UInt8], format: ImageFormat) {
        guard ImageFormat.sniff(bytes) == format else { return }
        guard let decoded = try? Codec.decode(bytes, limits: DecodeLimits(maxPixels: 1 << 20)) else { return }
        let image = decoded.image
        precondition(image.bytes.count == image.width * image.height * image.format.bytesPerPixel)
    }

    /// Small images of each pixel layout the encoder writes, for the decoder's seeds.
    public static func seeds(_ format: ImageFormat) throws -> [String: [UInt8]] {
        var seeds: [String: [UInt8]] = [:]
        let layouts: [PixelFormat] = [.gray8, .rgb8, .rgba8, .gray16, .rgba16]
        for (i, layout) in layouts.enumerated() {
            let n = 9 * 7 * layout.bytesPerPixel
            let image = Image(width: 9, height: 7, format: layout, bytes: (0..<n).map { UInt8(($0 * 37 + i) % 256) })
            var options = EncodeOptions()
            options.progressive = i % 2 == 1
            options.webpLossless = i % 2 == 0
            options.subsampling = i % 3 == 0 ? .s420 : .s444
            seeds["\(layout)-\(i).\(format.rawValue)"] = try Codec.encode(image, as: format, options: options)
        }
        return seeds
    }
}
