import FrameModel
import PluginKit

/// Scales frames with a high-quality filter; face boxes and landmarks scale along.
final class Resize: Stage {
    static let name = "resize"
    static let summary = "Scale to a size: fit inside, fill and crop, or exact"
    enum Mode: String, CaseIterable { case fit, fill, exact }
    static let width = Param<Int>("width", default: 0, range: 0...65535, "target width in pixels (0 = from height and aspect ratio)")
    static let height = Param<Int>("height", default: 0, range: 0...65535, "target height in pixels (0 = from width and aspect ratio)")
    static let mode = Param<Mode>("mode", default: .fit,
                                  "fit: inside the box, keep aspect; fill: cover the box and crop the overflow; exact: stretch")
    static let filter = Param<ResampleFilter>("filter", default: .lanczos3, "resampling filter")
    static let upscale = Param<Bool>("upscale", default: true, "allow making the image larger")
    static let parameters = Parameter.list(width, height, mode, filter, upscale)

    let width: Int, height: Int, mode: Mode, filter: ResampleFilter, upscale: Bool, threads: Int
    let host: StageHost

    init(_ p: ParameterValues, host: StageHost) throws {
        self.host = host
        width = try p[Self.width]
        height = try p[Self.height]
        mode = try p[Self.mode]
        filter = try p[Self.filter]
        upscale = try p[Self.upscale]
        // The host already runs one resize per core on different images; splitting each image's rows
        // over the cores as well only adds contention on a stream.
        threads = 1
        guard width > 0 || height > 0 else { throw StageError("give width or height (or both)") }
        if mode != .fit && (width == 0 || height == 0) { throw StageError("mode \(mode) needs both width and height") }
    }

    func process(_ inputs: [Frame], _ output: Output) throws {
        let frame = inputs[0]
        let (w, h, cropX, cropY, boxW, boxH) = geometry(frame.width, frame.height)
        if w == frame.width && h == frame.height && boxW == w && boxH == h { return try output.pass(frame) }
        // The scaled image and the resampler's intermediate (one axis at a time) go through the frame limit.
        try host.checkFrameSize(w, h)
        try host.checkFrameSize(w, frame.height)
        try host.checkFrameSize(frame.width, h)
        let src = frame.image
        var scaled = Resampler.resize(FloatImage(src), width: w, height: h, filter: filter, threads: threads).image(src.format)
        if boxW != w || boxH != h { scaled = scaled.cropped(x: cropX, y: cropY, width: boxW, height: boxH) }
        let sx = Double(w) / Double(frame.width), sy = Double(h) / Double(frame.height)
        let annotations = frame.annotations.mappingFaces { .init(x: $0.x * sx - Double(cropX), y: $0.y * sy - Double(cropY)) }
        try output.emit(scaled, annotations: annotations, like: frame)
    }

    /// Scaled size, then the crop (for fill) inside it.
    func geometry(_ iw: Int, _ ih: Int) -> (Int, Int, Int, Int, Int, Int) {
        let aspect = Double(iw) / Double(ih)
        var w: Int, h: Int
        switch mode {
        case .exact:
            (w, h) = (width, height)
        case .fill:
            let s = max(Double(width) / Double(iw), Double(height) / Double(ih))
            (w, h) = (max(width, Int((Double(iw) * s).rounded())), max(height, Int((Double(ih) * s).rounded())))
        case .fit:
            if width == 0 { (w, h) = (Int((Double(height) * aspect).rounded()), height) }
            else if height == 0 { (w, h) = (width, Int((Double(width) / aspect).rounded())) }
            else {
                let s = min(Double(width) / Double(iw), Double(height) / Double(ih))
                (w, h) = (Int((Double(iw) * s).rounded()), Int((Double(ih) * s).rounded()))
            }
        }
        if !upscale && (w > iw || h > ih) { (w, h) = (iw, ih) }
        w = max(1, w); h = max(1, h)
        let boxW = mode == .fill ? min(width, w) : w, boxH = mode == .fill ? min(height, h) : h
        return (w, h, (w - boxW) / 2, (h - boxH) / 2, boxW, boxH)
    }
}
