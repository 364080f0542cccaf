/// How samples are laid out in a pixel. Raw values match `cp_pixel_format` in the plugin ABI.
public enum PixelFormat: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case gray8 = 1, grayAlpha8, rgb8, rgba8, gray16, grayAlpha16, rgb16, rgba16, rgbF32, rgbaF32

    public var channels: Int {
        switch self {
        case .gray8, .gray16: 1
        case .grayAlpha8, .grayAlpha16: 2
        case .rgb8, .rgb16, .rgbF32: 3
        case .rgba8, .rgba16, .rgbaF32: 4
        }
    }

    public var bytesPerSample: Int {
        switch self {
        case .gray8, .grayAlpha8, .rgb8, .rgba8: 1
        case .gray16, .grayAlpha16, .rgb16, .rgba16: 2
        case .rgbF32, .rgbaF32: 4
        }
    }

    public var bytesPerPixel: Int { channels * bytesPerSample }
    public var hasAlpha: Bool { channels == 2 || channels == 4 }
    public var isFloat: Bool { self == .rgbF32 || self == .rgbaF32 }

    /// The 8-bit or 16-bit integer format with `channels` channels.
    public static func integer(channels: Int, bitDepth: Int) -> PixelFormat? {
        switch (channels, bitDepth) {
        case (1, 8): .gray8
        case (2, 8): .grayAlpha8
        case (3, 8): .rgb8
        case (4, 8): .rgba8
        case (1, 16): .gray16
        case (2, 16): .grayAlpha16
        case (3, 16): .rgb16
        case (4, 16): .rgba16
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .gray8: "gray8"
        case .grayAlpha8: "graya8"
        case .rgb8: "rgb8"
        case .rgba8: "rgba8"
        case .gray16: "gray16"
        case .grayAlpha16: "graya16"
        case .rgb16: "rgb16"
        case .rgba16: "rgba16"
        case .rgbF32: "rgbf32"
        case .rgbaF32: "rgbaf32"
        }
    }
}

extension PixelFormat {
    /// Of `candidates`, the one that loses least when `self` is converted to it: alpha first,
    /// then colour, then depth; among equals the smallest. nil when there are no candidates.
    public func closest(in candidates: [PixelFormat]) -> PixelFormat? {
        if candidates.contains(self) { return self }
        func cost(_ f: PixelFormat) -> Int {
            var c = 0
            if hasAlpha && !f.hasAlpha { c += 1000 }
            if channels >= 3 && f.channels < 3 { c += 500 }
            if f.bytesPerSample < bytesPerSample { c += 100 * (bytesPerSample - f.bytesPerSample) }
            return c + f.bytesPerPixel           // prefer the smallest among equals
        }
        return candidates.min { cost($0) < cost($1) }
    }
}
