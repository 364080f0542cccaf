import Foundation

/// Pad: constant, reflect or edge, any rank (pads from the input in opset ≥ 11, else the attribute).
struct PadKernel: RegisteredKernel {
    static let opTypes = ["Pad"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try PadKernel(a) }

    let mode: String
    let attrPads: [Int]?
    let attrValue: Float

    init(_ a: AttributeReader) throws {
        mode = try a.string("mode", "constant")
        guard ["constant", "reflect", "edge"].contains(mode) else { throw a.error("mode \(mode) is not supported") }
        attrPads = try a.ints("pads")
        attrValue = try a.float("value", 0)
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Pad")
        let r = x.shape.count
        guard var pads = attrPads ?? (inputs.count > 1 ? inputs[1]?.ints : nil) else { throw ModelError("Pad: no pads") }
        let value = inputs.count > 2 ? inputs[2]?.floats.first ?? attrValue : attrValue
        try TensorLimits.attribute(pads.map { abs($0) }, "Pad: pads")
        if inputs.count > 3, let axesTensor = inputs[3] {      // opset 18 axes input
            let axes = try axesTensor.ints.map { try normalizeAxis($0, rank: r, "Pad") }
            guard pads.count == 2 * axes.count else { throw ModelError("Pad: \(pads.count) pads for \(axes.count) axes") }
            var full = [Int](repeating: 0, count: 2 * r)
            for (i, ax) in axes.enumerated() { full[ax] = pads[i]; full[ax + r] = pads[i + axes.count] }
            pads = full
        }
        guard pads.count == 2 * r else { throw ModelError("Pad: \(pads.count) pads for rank \(r)") }
        if r == 0 { return [x] }        // a scalar has nothing to pad
        let shape = (0..<r).map { x.shape[$0] + pads[$0] + pads[$0 + r] }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw ModelError("Pad: negative output size") }
        try TensorLimits.elementCount(shape, elementSize: x.elementType == .float ? 4 : 8, "Pad")
        if mode == "reflect" {
            for i in 0..<r where pads[i] >= x.shape[i] && x.shape[i] > 0 || pads[i + r] >= x.shape[i] && x.shape[i] > 0 {
                throw ModelError("Pad: reflect pad \(max(pads[i], pads[i + r])) must be smaller than dimension \(x.shape[i])")
            }
        }
        // For each output coordinate along each axis: the source index, or -1 for the constant.
        let maps: [[Int]] = (0..<r).map { ax in
            let n = x.shape[ax], before = pads[ax]
            return (0..<shape[ax]).map { o in
                let i = o - before
                if i >= 0 && i < n { return i }
                switch mode {
                case "edge": return n == 0 ? -1 : min(max(i, 0), n - 1)
                case "reflect":
                    if n == 1 { return 0 }
                    var j = i
                    let period = 2 * (n - 1)
                    j = ((j % period) + period) % period
                    return j < n ? j : period - j
                default: return -1
                }
            }
        }
        let geometry = PadRows(shape: shape, inShape: x.shape, pads: pads, maps: maps).mergingUnpaddedTrailingAxes(pads: pads)
        // 8-bit maps (a QDQ model's, see Session.quantizeBeforeCopies): the pad value's low byte is the same either sign.
        let byte = UInt8(truncatingIfNeeded: inputs.count > 2 ? inputs[2]?.int64s.first ?? 0 : 0)
        if let moved = x.movingBytes(to: shape, { geometry.copy(from: $0, to: $1, value: byte, ctx) }) { return [moved] }
        switch x.storage {
        case .float:
            let out = try ctx.tensor(shape)
            geometry.copy(from: try x.floatData(), to: out.buffer.pointer, value: value, ctx)
            return [out]
        default:                // shape-sized integer tensors: gather through the same maps
            var inStrides = [Int](repeating: 1, count: r)
            for i in stride(from: r - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }
            let padValue = inputs.count > 2 ? inputs[2]?.int64s.first ?? 0 : 0
            var values = [Int64]()
            let src = x.int64s
            var index = [Int](repeating: 0, count: r)
            for _ in 0..<shape.reduce(1, *) {
                var off = 0, inside = true
                for ax in 0..<r { let m = maps[ax][index[ax]]; if m < 0 { inside = false }; off += m * inStrides[ax] }
                values.append(inside ? src[off] : padValue)
                var d = r - 1
                while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
            }
            return [Tensor(shape: shape, storage: .int64(values)).converted(to: x.elementType)]
        }
    }
}

/// A padded copy row by row along the last axis: the interior of each row is one contiguous copy,
/// only the padded ends are gathered through the per-axis source maps (-1 = the constant).
private struct PadRows {
    let shape: [Int], inShape: [Int], maps: [[Int]]
    let interiorStart: Int, interiorSource: Int, interiorCount: Int, edgeIndices: [Int]

    init(shape: [Int], inShape: [Int], pads: [Int], maps: [[Int]]) {
        (self.shape, self.inShape, self.maps) = (shape, inShape, maps)
        let last = shape.count - 1, rowLen = shape[last], inLen = inShape[last]
        interiorStart = max(0, pads[last])
        interiorSource = max(0, -pads[last])
        interiorCount = max(0, min(rowLen - interiorStart, inLen - interiorSource))
        let (start, count) = (interiorStart, interiorCount)
        edgeIndices = (0..<rowLen).filter { $0 < start || $0 >= start + count }
    }

    /// The same copy with the trailing axes that have no padding folded into the last padded one, so
    /// rows are long: an NHWC photo padded in H and W copies rows of W·C values, not of C.
    func mergingUnpaddedTrailingAxes(pads: [Int]) -> PadRows {
        let r = shape.count
        var k = r - 1
        while k >= 1, pads[k] == 0, pads[k + r] == 0 { k -= 1 }
        guard k < r - 1 else { return self }
        let n = shape[(k + 1)...].reduce(1, *), outer = maps[k]
        let merged = (0..<shape[k] * n).map { o in outer[o / n] < 0 ? -1 : outer[o / n] * n + o % n }
        var newPads = [Int](repeating: 0, count: 2 * (k + 1))
        (newPads[k], newPads[2 * k + 1]) = (pads[k] * n, pads[k + r] * n)
        return PadRows(shape: Array(shape[..<k]) + [shape[k] * n], inShape: Array(inShape[..<k]) + [inShape[k] * n],
                       pads: newPads, maps: Array(maps[..<k]) + [merged])
    }

    func copy<T>(from xp: UnsafePointer<T>, to op: UnsafeMutablePointer<T>, value: T, _ ctx: ExecutionContext) {
        let last = shape.count - 1, rowLen = shape[last], inLen = inShape[last]
        let rows = shape.dropLast().reduce(1, *)
        let lastMap = maps[last]
        ctx.parallel(rows, minimumPerThread: max(1, 16_384 / max(1, rowLen))) { range in
            var idx = [Int](repeating: 0, count: max(0, last))
            for row in range {
                var q = row, srcRow = 0, valid = true, mul = inLen
                for ax in stride(from: last - 1, through: 0, by: -1) {
                    idx[ax] = q % shape[ax]; q /= shape[ax]
                    let s = maps[ax][idx[ax]]
                    if s < 0 { valid = false }
                    srcRow += s * mul
                    mul *= inShape[ax]
                }
                let d = op + row * rowLen
                guard valid else { d.update(repeating: value, count: rowLen); continue }
                let s = xp + srcRow
                if interiorCount > 0 { (d + interiorStart).update(from: s + interiorSource, count: interiorCount) }
                for o in edgeIndices {
                    let j = lastMap[o]
                    d[o] = j < 0 ? value : s[j]
                }
            }
        }
    }
}

/// Resize (opset 11+; opset 10 Upsample-style scales also work): nearest and linear, N-D,
/// coordinate modes half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nearest.
struct ResizeKernel: RegisteredKernel {
    /// Upsample is Resize with the opset 10 defaults.
    static let opTypes = ["Resize", "Upsample"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ResizeKernel(a, opset: a.node.opType == "Upsample" ? 9 : opset) }

    let mode: String
    let coordinateMode: String
    let nearestMode: String
    let excludeOutside: Bool

    init(_ a: AttributeReader, opset: Int) throws {
        mode = try a.string("mode", "nearest")
        coordinateMode = try a.string("coordinate_transformation_mode", opset < 11 ? "asymmetric" : "half_pixel")
        nearestMode = try a.string("nearest_mode", opset < 11 ? "floor" : "round_prefer_floor")
        excludeOutside = try a.int("exclude_outside", 0) != 0
        _ = try a.float("cubic_coeff_a", -0.75)
        _ = try a.float("extrapolation_value", 0)
        guard ["nearest", "linear"].contains(mode) else { throw a.error("mode \(mode) is not supported") }
        guard ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"].contains(coordinateMode) else {
            throw a.error("coordinate_transformation_mode \(coordinateMode) is not supported")
        }
        guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearestMode) else {
            throw a.error("nearest_mode \(nearestMode) is not supported")
        }
        if try a.ints("axes") != nil { throw a.error("the axes attribute is not supported") }
        if try a.string("keep_aspect_ratio_policy", "stretch") != "stretch" { throw a.error("keep_aspect_ratio_policy is not supported") }
    }

    /// The output shape and, per axis, the source coordinate of every output index.
    func plan(_ x: Tensor, _ inputs: [Tensor?]) throws -> (shape: [Int], coords: [[Float]]) {
        let r = x.shape.count
        var scales: [Float] = []
        var shape: [Int] = []
        // Inputs: X, roi, scales, sizes (opset 11+); X, scales (opset 10).
        let scaleInput = inputs.count == 2 ? inputs[1] : (inputs.count > 2 ? inputs[2] : nil)
        if inputs.count > 3, let sizes = inputs[3], sizes.count > 0 {
            shape = sizes.ints
            guard shape.count == r else { throw ModelError("Resize: sizes \(shape) for rank \(r)") }
            try TensorLimits.elementCount(shape, "Resize")
            scales = (0..<r).map { Float(shape[$0]) / Float(x.shape[$0]) }
        } else if let s = scaleInput, s.count > 0 {
            scales = s.floats
            guard scales.count == r else { throw ModelError("Resize: \(scales.count) scales for rank \(r)") }
            // Sizes in Double first: NaN, ∞ or an overflowing size is refused before any Int conversion.
            let sizes = (0..<r).map { (Double(x.shape[$0]) * Double(scales[$0])).rounded(.down) }
            guard scales.allSatisfy({ $0.isFinite && $0 > 0 }), sizes.allSatisfy({ $0 < Double(1 << 52) }) else {
                throw ModelError("Resize: scales \(scales) for input \(x.shape) are not finite positive or too large")
            }
            shape = sizes.map { Int($0) }
            try TensorLimits.elementCount(shape, "Resize")
        } else {
            throw ModelError("Resize: neither scales nor sizes given")
        }
        for ax in 0..<r where x.shape[ax] == 0 && shape[ax] > 0 {
            throw ModelError("Resize: cannot resize an empty axis \(ax) of \(x.shape) to \(shape[ax])")
        }
        // Per axis: source coordinate of every output index.
        let coords: [[Float]] = (0..<r).map { ax in
            // align_corners uses the unrounded output length (input · scale), as the ONNX reference does.
            let inSize = Float(x.shape[ax]), scale = scales[ax], outSize = inSize * scale
            return (0..<shape[ax]).map { o in
                let xo = Float(o)
                switch coordinateMode {
                case "align_corners": return outSize > 1 ? xo * (inSize - 1) / (outSize - 1) : 0
                case "asymmetric": return xo / scale
                case "pytorch_half_pixel": return outSize > 1 ? (xo + 0.5) / scale - 0.5 : 0
                case "tf_half_pixel_for_nn": return (xo + 0.5) / scale
                default: return (xo + 0.5) / scale - 0.5
                }
            }
        }
        return (shape, coords)
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Resize")
        let r = x.shape.count
        let (shape, coords) = try plan(x, inputs)
        var inStrides = [Int](repeating: 1, count: r)
        for i in stride(from: r - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }
        if mode == "nearest" {
            let index: [[Int]] = (0..<r).map { ax in
                coords[ax].map { c in
                    let n = x.shape[ax]
                    var i: Int
                    switch nearestMode {
                    case "floor": i = Int(c.rounded(.down))
                    case "ceil": i = Int(c.rounded(.up))
                    case "round_prefer_ceil": i = c - c.rounded(.down) == 0.5 ? Int(c.rounded(.up)) : Int(c.rounded())
                    default: i = c - c.rounded(.down) == 0.5 ? Int(c.rounded(.down)) : Int(c.rounded())
                    }
                    return min(max(i, 0), n - 1) * inStrides[ax]
                }
            }
            let nearest = NearestCopy(shape: shape, index: index)
            // 8-bit maps: a QDQ model's (see Session.quantizeBeforeCopies).
            if let moved = x.movingBytes(to: shape, { nearest.copy(from: $0, to: $1, ctx) }) { return [moved] }
            let out = try ctx.tensor(shape)
            nearest.copy(from: try x.floatData(), to: out.buffer.pointer, ctx)
            return [out]
        }
        let out = try ctx.tensor(shape)
        let xp = (try x.floatData()), op = out.buffer.pointer
        // Linear: separable weights per axis; axes with scale 1 and identity coordinates stay exact.
        let taps: [[(Int, Int, Float)]] = (0..<r).map { ax in
            let n = x.shape[ax]
            return coords[ax].map { c in
                let cc = min(max(c, 0), Float(n - 1))
                let i0 = Int(cc.rounded(.down)), i1 = min(i0 + 1, n - 1)
                return (i0 * inStrides[ax], i1 * inStrides[ax], cc - Float(i0))
            }
        }
        let total = out.count
        ctx.parallel(total) { range in
            var idx = [Int](repeating: 0, count: r)
            for o in range {
                var q = o
                for ax in stride(from: r - 1, through: 0, by: -1) { idx[ax] = q % shape[ax]; q /= shape[ax] }
                // Sum over the 2^r corners, skipping axes without interpolation.
                var acc: Float = 0
                let corners = 1 << r
                for cnr in 0..<corners {
                    var w: Float = 1, off = 0
                    for ax in 0..<r {
                        let (a, b, f) = taps[ax][idx[ax]]
                        if cnr & (1 << ax) != 0 { if f == 0 { w = 0; break }; w *= f; off += b } else { w *= 1 - f; off += a }
                    }
                    if w != 0 { acc += w * xp[off] }
                }
                op[o] = acc
            }
        }
        return [out]
    }
}

/// Nearest-neighbour resampling row by row along the last axis, through per-axis source offsets.
private struct NearestCopy {
    let shape: [Int], index: [[Int]]

    func copy<T>(from xp: UnsafePointer<T>, to op: UnsafeMutablePointer<T>, _ ctx: ExecutionContext) {
        let last = shape.count - 1, rowLen = shape[last], rows = shape.dropLast().reduce(1, *)
        ctx.parallel(rows, minimumPerThread: max(1, 16_384 / max(1, rowLen))) { range in
            for row in range {
                var q = row, base = 0
                for ax in stride(from: last - 1, through: 0, by: -1) { base += index[ax][q % shape[ax]]; q /= shape[ax] }
                let d = op + row * rowLen, s = xp + base, li = index[last]
                for o in 0..<rowLen { d[o] = s[li[o]] }
            }
        }
    }
}
