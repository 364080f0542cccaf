/// Conversion between pixel formats: sample depth (8/16-bit, float) and channel layout
/// (gray, gray+alpha, RGB, RGBA). Gray from colour uses Rec. 601 luma; alpha added is opaque.
extension Image {
    public func converted(to target: PixelFormat) -> Image {
        if target == format { return self }
        // Remap channels at the source depth, then change depth: both steps are flat loops.
        let remapped = format.channels == target.channels
            ? bytes : Self.remapChannels(bytes, depth: format.bytesPerSample, isFloat: format.isFloat,
                                         from: format.channels, to: target.channels, count: pixelCount)
        let out = Self.convertDepth(remapped, from: format, to: target)
        return Image(width: width, height: height, format: target, bytes: out)
    }

    /// The same pixels as 32-bit floats in 0...1, channel count unchanged (gray stays 1 channel).
    public func floatSamples() -> [Float] {
        bytes.withUnsafeBytes { raw -> [Float] in
            switch format.bytesPerSample {
            case 1: return Self.mapSamples(raw.bindMemory(to: UInt8.self)) { Float($0) * (1 / 255) }
            case 2: return Self.mapSamples(raw.bindMemory(to: UInt16.self)) { Float($0) * (1 / 65535) }
            default: return Array(raw.bindMemory(to: Float.self))
            }
        }
    }

    /// A plain indexed loop into preallocated storage (vectorises, unlike `map` here).
    @inline(__always)
    static func mapSamples<T, U>(_ src: UnsafeBufferPointer<T>, _ f: (T) -> U) -> [U] {
        [U](unsafeUninitializedCapacity: src.count) { dst, n in
            for i in 0..<src.count { dst[i] = f(src[i]) }
            n = src.count
        }
    }

    /// Builds an image of `format` from float samples in 0...1 (clamped, rounded).
    public init(width: Int, height: Int, format: PixelFormat, floatSamples s: [Float]) {
        precondition(s.count == width * height * format.channels)
        let bytes: [UInt8]
        switch format.bytesPerSample {
        case 1: bytes = s.withUnsafeBufferPointer { Self.mapSamples($0) { UInt8(Swift.min(Swift.max($0, 0), 1) * 255 + 0.5) } }
        case 2: bytes = Self.toBytes(s.withUnsafeBufferPointer { Self.mapSamples($0) { UInt16(Swift.min(Swift.max($0, 0), 1) * 65535 + 0.5) } })
        default: bytes = Self.toBytes(s)
        }
        self.init(width: width, height: height, format: format, bytes: bytes)
    }

    static func toBytes<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    private static func convertDepth(_ bytes: [UInt8], from: PixelFormat, to: PixelFormat) -> [UInt8] {
        let a = from.bytesPerSample, b = to.bytesPerSample
        if a == b { return bytes }
        return bytes.withUnsafeBytes { raw -> [UInt8] in
            switch (a, b) {
            case (1, 2): return toBytes(raw.bindMemory(to: UInt8.self).map { UInt16($0) &* 257 })
            case (2, 1): return raw.bindMemory(to: UInt16.self).map { UInt8((UInt32($0) &* 255 &+ 32767) / 65535) }
            case (1, 4): return toBytes(raw.bindMemory(to: UInt8.self).map { Float($0) * (1 / 255) })
            case (2, 4): return toBytes(raw.bindMemory(to: UInt16.self).map { Float($0) * (1 / 65535) })
            case (4, 1):
                return raw.bindMemory(to: Float.self).map { UInt8(Swift.min(Swift.max($0, 0), 1) * 255 + 0.5) }
            default:
                return toBytes(raw.bindMemory(to: Float.self).map { UInt16(Swift.min(Swift.max($0, 0), 1) * 65535 + 0.5) })
            }
        }
    }

    private static func remapChannels(_ bytes: [UInt8], depth: Int, isFloat: Bool, from: Int, to: Int,
                                      count: Int) -> [UInt8] {
        switch depth {
        case 1: return remap(bytes, UInt8.self, opaque: 255, from: from, to: to, count: count)
        case 2: return remap(bytes, UInt16.self, opaque: 65535, from: from, to: to, count: count)
        default: return remap(bytes, Float.self, opaque: 1, from: from, to: to, count: count)
        }
    }

    private static func remap<T: SampleValue>(_ bytes: [UInt8], _: T.Type, opaque: T, from: Int, to: Int,
                                              count: Int) -> [UInt8] {
        var out = [T](repeating: opaque, count: count * to)
        bytes.withUnsafeBytes { raw in
            let src = raw.bindMemory(to: T.self)
            out.withUnsafeMutableBufferPointer { dst in
                let fromColour = from >= 3, toColour = to >= 3
                let fromAlpha = from == 2 || from == 4, toAlpha = to == 2 || to == 4
                for i in 0..<count {
                    let s = i * from, d = i * to
                    if fromColour && !toColour {
                        dst[d] = T(luma: src[s], src[s + 1], src[s + 2])
                    } else if !fromColour && toColour {
                        dst[d] = src[s]; dst[d + 1] = src[s]; dst[d + 2] = src[s]
                    } else {
                        for c in 0..<(toColour ? 3 : 1) { dst[d + c] = src[s + c] }
                    }
                    if toAlpha && fromAlpha { dst[d + to - 1] = src[s + from - 1] }
                }
            }
        }
        return toBytes(out)
    }
}

protocol SampleValue {
    init(luma r: Self, _ g: Self, _ b: Self)
}

extension UInt8: SampleValue {
    init(luma r: UInt8, _ g: UInt8, _ b: UInt8) {
        let sum: UInt32 = 299 &* UInt32(r) &+ 587 &* UInt32(g) &+ 114 &* UInt32(b) &+ 500
        self = UInt8(sum / 1000)
    }
}

extension UInt16: SampleValue {
    init(luma r: UInt16, _ g: UInt16, _ b: UInt16) {
        let sum: UInt64 = 299 &* UInt64(r) &+ 587 &* UInt64(g) &+ 114 &* UInt64(b) &+ 500
        self = UInt16(sum / 1000)
    }
}

extension Float: SampleValue {
    init(luma r: Float, _ g: Float, _ b: Float) { self = 0.299 * r + 0.587 * g + 0.114 * b }
}
