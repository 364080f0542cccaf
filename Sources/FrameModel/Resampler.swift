import Foundation

/// Separable image resampling. Each output row is a weighted sum of whole input rows (a
/// vectorised axpy over the row); the horizontal pass is the same vertical pass on the
/// transposed image. Downscaling widens the kernel by the scale factor (antialiasing).
public enum ResampleFilter: String, CaseIterable, Sendable {
    case lanczos3, bilinear, box

    public var support: Double {
        switch self {
        case .lanczos3: 3
        case .bilinear: 1
        case .box: 0.5
        }
    }

    public func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .lanczos3:
            if x < 1e-8 { return 1 }
            if x >= 3 { return 0 }
            let px = Double.pi * x
            return 3 * sin(px) * sin(px / 3) / (px * px)
        case .bilinear: return max(0, 1 - x)
        case .box: return x <= 0.5 ? 1 : 0
        }
    }
}

public enum Resampler {
    /// For each output index: the first source index and the normalised weights from there.
    public struct Taps: Sendable {
        public var start: [Int] = []
        public var weights: [[Float]] = []
    }

    public static func taps(from inSize: Int, to outSize: Int, filter: ResampleFilter) -> Taps {
        let scale = Double(outSize) / Double(inSize)
        let widen = max(1, 1 / scale)
        let radius = filter.support * widen
        var taps = Taps()
        for o in 0..<outSize {
            let centre = (Double(o) + 0.5) / scale - 0.5
            let lo = max(0, Int((centre - radius).rounded(.up)))
            let hi = min(inSize - 1, Int((centre + radius).rounded(.down)))
            var w = (lo...max(lo, hi)).map { Float(filter.weight((Double($0) - centre) / widen)) }
            let sum = w.reduce(0, +)
            if sum != 0 { w = w.map { $0 / sum } } else { w = [1] + Array(repeating: 0, count: w.count - 1) }
            taps.start.append(lo)
            taps.weights.append(w)
        }
        return taps
    }

    public static func resize(_ image: FloatImage, width: Int, height: Int, filter: ResampleFilter, threads: Int = 1) -> FloatImage {
        var out = image
        if height != image.height { out = resizeRows(out, to: height, filter: filter, threads: threads) }
        if width != image.width { out = transpose(resizeRows(transpose(out), to: width, filter: filter, threads: threads)) }
        return out
    }

    /// Changes the number of rows: out_row[o] = Σ w_k · in_row[start_o + k].
    public static func resizeRows(_ image: FloatImage, to rows: Int, filter: ResampleFilter, threads: Int) -> FloatImage {
        let taps = taps(from: image.height, to: rows, filter: filter)
        let n = image.rowLength
        var out = FloatImage(width: image.width, height: rows, channels: image.channels)
        image.samples.withUnsafeBufferPointer { src in
            out.samples.withUnsafeMutableBufferPointer { dst in
                let chunks = max(1, min(rows, 4 * threads)), per = (rows + chunks - 1) / chunks
                let input = src.baseAddress!, output = dst.baseAddress!
                let body = { (chunk: Int) in
                    for o in min(rows, chunk * per)..<min(rows, (chunk + 1) * per) {
                        let d = output + o * n
                        for (k, w) in taps.weights[o].enumerated() where w != 0 {
                            let s = input + (taps.start[o] + k) * n
                            for i in 0..<n { d[i] += w * s[i] }
                        }
                    }
                }
                if threads == 1 { (0..<chunks).forEach(body); return }
                DispatchQueue.concurrentPerform(iterations: threads) { lane in   // exactly `threads` threads
                    for chunk in stride(from: lane, to: chunks, by: threads) { body(chunk) }
                }
            }
        }
        return out
    }

    /// Swaps rows and columns, moving whole pixels; cache-blocked.
    public static func transpose(_ image: FloatImage) -> FloatImage {
        let c = image.channels, w = image.width, h = image.height
        var out = FloatImage(width: h, height: w, channels: c)
        image.samples.withUnsafeBufferPointer { src in
            out.samples.withUnsafeMutableBufferPointer { dst in
                let block = 32
                for by in stride(from: 0, to: h, by: block) {
                    for bx in stride(from: 0, to: w, by: block) {
                        for y in by..<min(by + block, h) {
                            for x in bx..<min(bx + block, w) {
                                let s = (y * w + x) * c, d = (x * h + y) * c
                                for k in 0..<c { dst[d + k] = src[s + k] }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
