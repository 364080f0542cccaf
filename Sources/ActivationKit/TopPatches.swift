import FrameModel

/// Mode `top-patches`: for each of the first `units` channels, the `keep` (9) input patches with the
/// highest activation over every frame seen. A patch is the receptive field of the unit, cut from the
/// frame in frame pixels and stored at `side`×`side`; only patches, never frames, are kept, so memory
/// is units × keep × side² × 3 floats however long the stream.
public struct TopPatches: Sendable {
    public struct Patch: Sendable {
        public var value: Float
        public var pixels: FloatImage
        public var source: String
        /// Where in the source frame (x, y, width, height), and which unit of the map.
        public var rectangle: (x: Double, y: Double, width: Double, height: Double)
        public var row: Int, column: Int
    }

    public let units: Int
    public let keep: Int
    public let side: Int
    public let perFrame: Int
    /// Per unit, best first.
    public private(set) var best: [[Patch]]
    public private(set) var framesSeen = 0
    public var padding: SIMD3<Float> = [0.5, 0.5, 0.5]

    public init(units: Int, keep: Int = 9, side: Int, perFrame: Int = 1) {
        self.units = units; self.keep = keep; self.side = side; self.perFrame = max(1, perFrame)
        best = Array(repeating: [], count: units)
    }

    /// Floats held in patches (the whole state, apart from a few numbers per patch).
    public var storedFloats: Int { best.reduce(0) { $0 + $1.reduce(0) { $0 + $1.pixels.samples.count } } }

    /// Offers the frame's strongest units (up to `perFrame` places per unit, at least half a field
    /// apart) to each unit's list; a patch is cut only when it makes the list.
    public mutating func add(_ a: Activations, frame: FloatImage, source: String) throws {
        guard a.field != nil else { throw ActivationError("the receptive field of this layer cannot be computed from the graph") }
        framesSeen += 1
        let plane = a.height * a.width
        for unit in 0..<min(units, a.channels) {
            for (index, value) in peaks(a.values[unit * plane..<(unit + 1) * plane], a) {
                if best[unit].count == keep, let last = best[unit].last, value <= last.value { break }
                let row = index / a.width, column = index % a.width
                guard let rect = a.frameRectangle(row: row, column: column) else { continue }
                let patch = Patch(value: value, pixels: cut(frame, rect), source: source, rectangle: rect, row: row, column: column)
                let at = best[unit].firstIndex { $0.value < value } ?? best[unit].count
                best[unit].insert(patch, at: at)
                if best[unit].count > keep { best[unit].removeLast() }
            }
        }
    }

    /// The strongest positions of one map, best first, each at least half a field from the others.
    func peaks(_ map: ArraySlice<Float>, _ a: Activations) -> [(Int, Float)] {
        let base = map.startIndex
        guard perFrame > 1, let field = a.field else {
            guard let i = map.indices.max(by: { map[$0] < map[$1] || (map[$0] == map[$1] && $0 > $1) }) else { return [] }
            return [(i - base, map[i])]
        }
        let apartX = max(1, Int((field.x.size / 2 / field.x.jump).rounded(.up)))
        let apartY = max(1, Int((field.y.size / 2 / field.y.jump).rounded(.up)))
        let order = map.indices.sorted { map[$0] > map[$1] }
        var chosen: [(Int, Float)] = []
        for i in order {
            let r = (i - base) / a.width, c = (i - base) % a.width
            if chosen.contains(where: { abs($0.0 / a.width - r) < apartY && abs($0.0 % a.width - c) < apartX }) { continue }
            chosen.append((i - base, map[i]))
            if chosen.count == perFrame { break }
        }
        return chosen
    }

    /// The frame rectangle resampled (bilinear) to side×side; outside the frame: the padding grey.
    func cut(_ frame: FloatImage, _ r: (x: Double, y: Double, width: Double, height: Double)) -> FloatImage {
        var out = FloatImage(width: side, height: side, channels: 3)
        let c = frame.channels
        func tap(_ p: Int, origin: Double, extent: Double, limit: Int) -> (Int, Int, Float, Bool) {
            let s = origin + (Double(p) + 0.5) * extent / Double(side) - 0.5
            let i = Int(s.rounded(.down))
            let inside = s > -0.5 && s < Double(limit) - 0.5
            return (min(limit - 1, max(0, i)), min(limit - 1, max(0, i + 1)), Float(s - Double(i)), inside)
        }
        let xs = (0..<side).map { tap($0, origin: r.x, extent: r.width, limit: frame.width) }
        let ys = (0..<side).map { tap($0, origin: r.y, extent: r.height, limit: frame.height) }
        frame.samples.withUnsafeBufferPointer { src in
            out.samples.withUnsafeMutableBufferPointer { dst in
                for y in 0..<side {
                    let (y0, y1, wy, insideY) = ys[y]
                    for x in 0..<side {
                        let (x0, x1, wx, insideX) = xs[x]
                        let d = (y * side + x) * 3
                        guard insideX && insideY else {
                            dst[d] = padding.x; dst[d + 1] = padding.y; dst[d + 2] = padding.z
                            continue
                        }
                        for k in 0..<3 {
                            let a = src[(y0 * frame.width + x0) * c + k], b = src[(y0 * frame.width + x1) * c + k]
                            let e = src[(y1 * frame.width + x0) * c + k], f = src[(y1 * frame.width + x1) * c + k]
                            let top = a + wx * (b - a), bottom = e + wx * (f - e)
                            dst[d + k] = top + wy * (bottom - top)
                        }
                    }
                }
            }
        }
        return out
    }
}
