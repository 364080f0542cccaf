/// Lossless geometric transforms (the 8 EXIF orientations are compositions of these).
/// They move whole pixels, so they work for every pixel format.
extension Image {
    public func flippedHorizontally() -> Image {
        let bpp = format.bytesPerPixel
        var out = [UInt8](repeating: 0, count: bytes.count)
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * stride
                    for x in 0..<width {
                        let from = row + x * bpp, to = row + (width - 1 - x) * bpp
                        for b in 0..<bpp { dst[to + b] = src[from + b] }
                    }
                }
            }
        }
        return Image(width: width, height: height, format: format, bytes: out)
    }

    public func flippedVertically() -> Image {
        var out = [UInt8](repeating: 0, count: bytes.count)
        let rowBytes = stride
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for y in 0..<height {
                    let from = src.baseAddress! + y * rowBytes
                    let to = dst.baseAddress! + (height - 1 - y) * rowBytes
                    to.copyMemory(from: from, byteCount: rowBytes)
                }
            }
        }
        return Image(width: width, height: height, format: format, bytes: out)
    }

    /// Mirror across the main diagonal: out(x, y) = in(y, x). Cache-blocked.
    public func transposed() -> Image {
        let bpp = format.bytesPerPixel
        var out = [UInt8](repeating: 0, count: bytes.count)
        let block = 32
        let outStride = height * bpp
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for by in Swift.stride(from: 0, to: height, by: block) {
                    for bx in Swift.stride(from: 0, to: width, by: block) {
                        for y in by..<min(by + block, height) {
                            for x in bx..<min(bx + block, width) {
                                let from = y * stride + x * bpp, to = x * outStride + y * bpp
                                for b in 0..<bpp { dst[to + b] = src[from + b] }
                            }
                        }
                    }
                }
            }
        }
        return Image(width: height, height: width, format: format, bytes: out)
    }

    public func rotatedClockwise() -> Image { transposed().flippedHorizontally() }
    public func rotatedCounterClockwise() -> Image { transposed().flippedVertically() }
    public func rotated180() -> Image { flippedHorizontally().flippedVertically() }

    /// The upright image for an EXIF orientation value (1...8; anything else is treated as 1).
    public func applyingOrientation(_ orientation: Int) -> Image {
        switch orientation {
        case 2: flippedHorizontally()
        case 3: rotated180()
        case 4: flippedVertically()
        case 5: transposed()
        case 6: rotatedClockwise()
        case 7: transposed().rotated180()
        case 8: rotatedCounterClockwise()
        default: self
        }
    }

    /// The sub-rectangle at (x, y) of the given size, which must lie inside the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && x + w <= width && y + h <= height, "crop outside image")
        let bpp = format.bytesPerPixel
        var out = [UInt8](repeating: 0, count: w * h * bpp)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for row in 0..<h {
                    (dst.baseAddress! + row * w * bpp).copyMemory(
                        from: src.baseAddress! + (y + row) * stride + x * bpp, byteCount: w * bpp)
                }
            }
        }
        return Image(width: w, height: h, format: format, bytes: out)
    }
}
