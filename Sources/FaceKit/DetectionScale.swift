import CNNRuntime
import FrameModel

/// detect-size: the detector runs on a copy of the photo whose long side is at most `limit` pixels
/// and its boxes are mapped back; landmarks and descriptors then use the full-resolution pixels.
/// A 50 MP photo thus costs the detector what a 2 MP one does, and its faces are still ≥ 80 px
/// at that size unless they fill less than 1/20 of the long side.
struct DetectionScale {
    let width: Int, height: Int
    let smallWidth: Int, smallHeight: Int

    /// nil when the photo already fits (or `limit` is 0: always full resolution).
    init?(width: Int, height: Int, limit: Int) {
        guard limit > 0, max(width, height) > limit else { return nil }
        let f = Double(limit) / Double(max(width, height))
        (self.width, self.height) = (width, height)
        smallWidth = max(1, min(limit, Int((Double(width) * f).rounded())))
        smallHeight = max(1, min(limit, Int((Double(height) * f).rounded())))
    }

    /// The smaller copy, interleaved RGB8: each pixel the mean of the photo pixels it covers. The
    /// vertical pass reads the 8-bit rows directly, so no float copy of the full photo is made.
    func downscale(_ rgb: [UInt8]) -> [UInt8] {
        let taps = Resampler.taps(from: height, to: smallHeight, filter: .box)
        let n = width * 3
        var rows = FloatImage(width: width, height: smallHeight, channels: 3)
        rgb.withUnsafeBufferPointer { src in
            rows.samples.withUnsafeMutableBufferPointer { dst in
                for o in 0..<smallHeight {
                    let d = dst.baseAddress! + o * n
                    for (k, w) in taps.weights[o].enumerated() where w != 0 {
                        let s = src.baseAddress! + (taps.start[o] + k) * n
                        for i in 0..<n { d[i] += w * Float(s[i]) }
                    }
                }
            }
        }
        let small = Resampler.resize(rows, width: smallWidth, height: smallHeight, filter: .box)
        return small.samples.map { UInt8(max(0, min(255, $0.rounded()))) }
    }

    /// A box on the small copy in full-resolution pixels: pixel edges scale, so the inclusive
    /// right/bottom corner maps through its far edge.
    func toFull(_ r: DlibRectangle) -> DlibRectangle {
        let sx = Double(width) / Double(smallWidth), sy = Double(height) / Double(smallHeight)
        return DlibRectangle(left: Int((Double(r.left) * sx).rounded()), top: Int((Double(r.top) * sy).rounded()),
                             right: Int((Double(r.right + 1) * sx).rounded()) - 1, bottom: Int((Double(r.bottom + 1) * sy).rounded()) - 1)
    }
}
