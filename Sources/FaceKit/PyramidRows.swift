import CNNRuntime

/// The tiled pyramid image made a row at a time, top to bottom, so the detector never holds more
/// than a band of it: a 50 MP photo doubled twice has a 2.9-gigapixel pyramid (35 GB as floats).
/// Each placed level is streamed from its own chain of row generators back to the photo (two rows
/// kept per link), recomputing the bigger levels per chain; levels of at most `storedArea` pixels
/// are kept whole and shared. The values are those of TiledPyramid.render on the upsampled photo.
final class PyramidRows {
    let pyramid: TiledPyramid
    let width: Int
    private let mean: [Float]
    private let source: () -> ByteRows
    private var chains: [LevelRows?]
    private var stored: [Int: LevelRows] = [:]
    private let storedArea: Int
    private(set) var next = 0

    static let defaultStoredArea = 1 << 20

    /// `rgb` doubled `upsample` times is the pyramid's level 0.
    init(rgb: [UInt8], width: Int, height: Int, upsample: Int, pyramid: TiledPyramid, mean: [Float],
         storedArea: Int = PyramidRows.defaultStoredArea) {
        self.pyramid = pyramid
        self.storedArea = storedArea
        self.width = pyramid.width
        self.mean = mean
        source = {
            var rows = ByteRows(rgb: rgb, width: width, height: height)
            for _ in 0..<upsample { rows = ByteRows(doubling: rows) }
            return rows
        }
        chains = Array(repeating: nil, count: pyramid.levels.count)
    }

    /// Writes the next pyramid row's three planes at `planes`, `planes + stride`, `planes + 2·stride`.
    func writeNextRow(into planes: UnsafeMutablePointer<Float>, stride: Int) {
        let y = next
        next += 1
        for c in 0..<3 { (planes + c * stride).update(repeating: mean[c], count: width) }
        for (i, r) in pyramid.levels.enumerated() where y >= r.top && y <= r.bottom {
            let level = chains[i] ?? makeLevel(i)
            chains[i] = y == r.bottom ? nil : level
            level.row(y - r.top).withUnsafeBufferPointer { row in
                for c in 0..<3 { (planes + c * stride + r.left).update(from: row.baseAddress! + c * r.width, count: r.width) }
            }
        }
    }

    private func makeLevel(_ i: Int) -> LevelRows {
        if let s = stored[i] { return s }
        let r = pyramid.levels[i]
        let level = i == 0 ? LevelRows(source(), width: r.width, height: r.height)
                           : LevelRows(resampling: makeLevel(i - 1), from: pyramid.levels[i - 1], to: r)
        guard r.width * r.height <= storedArea else { return level }
        let whole = LevelRows(storing: level)
        stored[i] = whole
        return whole
    }
}

/// Interleaved RGB8 rows of the photo, or of another ByteRows doubled (FaceDetector.upsampled's
/// arithmetic). Rows are asked for in non-decreasing order; the last two made are kept.
final class ByteRows {
    let width: Int, height: Int
    private let image: [UInt8]
    private let parent: ByteRows?
    private let columns: [(Int, Int, Double)]
    private var recent: [(Int, [UInt8])] = []

    init(rgb: [UInt8], width: Int, height: Int) {
        (image, self.width, self.height, parent, columns) = (rgb, width, height, nil, [])
    }

    init(doubling parent: ByteRows) {
        self.parent = parent
        image = []
        width = 2 * parent.width + 2; height = 2 * parent.height + 1
        let xs = Double(parent.width - 1) / Double(max(width - 1, 1))
        columns = (0..<width).map { c in
            let x = Double(c) * xs, left = Int(x.rounded(.down))
            return (left, min(left + 1, parent.width - 1), x - Double(left))
        }
    }

    func row(_ r: Int) -> [UInt8] {
        guard let parent else { return Array(image[3 * width * r..<3 * width * (r + 1)]) }
        if let hit = recent.first(where: { $0.0 == r }) { return hit.1 }
        let ys = Double(parent.height - 1) / Double(max(height - 1, 1))
        let y = Double(r) * ys, top = Int(y.rounded(.down)), fy = y - Double(top)
        let t = parent.row(top), b = parent.row(min(top + 1, parent.height - 1))
        var out = [UInt8](repeating: 0, count: 3 * width)
        for (c, (l, rr, fx)) in columns.enumerated() {
            for k in 0..<3 {
                let tl = Double(t[l * 3 + k]), tr = Double(t[rr * 3 + k]), bl = Double(b[l * 3 + k]), br = Double(b[rr * 3 + k])
                out[c * 3 + k] = UInt8((1 - fy) * ((1 - fx) * tl + fx * tr) + fy * ((1 - fx) * bl + fx * br))
            }
        }
        remember(r, out)
        return out
    }

    private func remember(_ r: Int, _ row: [UInt8]) {
        recent.append((r, row))
        if recent.count > 2 { recent.removeFirst() }
    }
}

/// Planar float rows (three planes of `width`) of one pyramid level: the photo's rows converted,
/// a bilinear resampling of the previous level (TiledPyramid.resizeBilinear's arithmetic, a row
/// at a time), or a whole level kept in memory.
final class LevelRows {
    let width: Int, height: Int
    private enum Kind {
        case bytes(ByteRows)
        case resampled(LevelRows, columns: [(Int, Int, Float)], ys: Double)
        case stored([Float])
    }
    private let kind: Kind
    private var recent: [(Int, [Float])] = []

    init(_ bytes: ByteRows, width: Int, height: Int) {
        precondition(bytes.width == width && bytes.height == height)
        (kind, self.width, self.height) = (.bytes(bytes), width, height)
    }

    init(resampling parent: LevelRows, from a: DlibRectangle, to b: DlibRectangle) {
        let xs = Double(a.width - 1) / Double(max(b.width - 1, 1)), ys = Double(a.height - 1) / Double(max(b.height - 1, 1))
        let columns = (0..<b.width).map { c -> (Int, Int, Float) in
            let x = Double(c) * xs, left = Int(x.rounded(.down))
            return (left, min(left + 1, a.width - 1), Float(x - Double(left)))
        }
        (kind, width, height) = (.resampled(parent, columns: columns, ys: ys), b.width, b.height)
    }

    init(storing level: LevelRows) {
        var all: [Float] = []
        all.reserveCapacity(3 * level.width * level.height)
        for r in 0..<level.height { all += level.row(r) }
        (kind, width, height) = (.stored(all), level.width, level.height)
    }

    func row(_ r: Int) -> [Float] {
        if case .stored(let all) = kind { return Array(all[3 * width * r..<3 * width * (r + 1)]) }
        if let hit = recent.first(where: { $0.0 == r }) { return hit.1 }
        var out = [Float](repeating: 0, count: 3 * width)
        switch kind {
        case .stored: break
        case .bytes(let bytes):
            let b = bytes.row(r)
            for c in 0..<3 { for x in 0..<width { out[c * width + x] = Float(b[3 * x + c]) } }
        case .resampled(let parent, let columns, let ys):
            let y = Double(r) * ys, top = Int(y.rounded(.down)), fy = Float(y - Double(top))
            let t = parent.row(top), u = parent.row(min(top + 1, parent.height - 1))
            let pw = parent.width
            for ch in 0..<3 {
                let o = ch * pw
                for (c, (l, rr, fx)) in columns.enumerated() {
                    let upper = (1 - fx) * t[o + l] + fx * t[o + rr], lower = (1 - fx) * u[o + l] + fx * u[o + rr]
                    out[ch * width + c] = (1 - fy) * upper + fy * lower
                }
            }
        }
        recent.append((r, out))
        if recent.count > 2 { recent.removeFirst() }
        return out
    }
}
