/// The 2-D case of MaxPool/AveragePool without per-element index arithmetic: for every output row
/// (and column) the input rows (columns) its window covers inside the image are listed once, with
/// how many window positions fall inside the explicit padding (for count_include_pad). The inner
/// loops then read the plane directly.
struct Pool2DPlan {
    /// Input rows of output row r: rows[rowStart[r] ..< rowStart[r + 1]]; likewise for columns.
    private let rows: [Int], rowStart: [Int], paddedRows: [Int]
    private let columns: [Int], columnStart: [Int], paddedColumns: [Int]
    let width: Int, outputHeight: Int, outputWidth: Int

    init(_ g: Geometry) {
        (rows, rowStart, paddedRows) = Self.windows(g, dimension: 0)
        (columns, columnStart, paddedColumns) = Self.windows(g, dimension: 1)
        width = g.input[1]
        outputHeight = g.output[0]
        outputWidth = g.output[1]
    }

    private static func windows(_ g: Geometry, dimension d: Int) -> ([Int], [Int], [Int]) {
        var inside: [Int] = [], start = [0], padded: [Int] = []
        for o in 0..<g.output[d] {
            var count = 0
            for k in 0..<g.kernel[d] {
                let pos = o * g.strides[d] - g.padBegin[d] + k * g.dilations[d]
                if pos >= 0 && pos < g.input[d] { inside.append(pos) }
                // Positions beyond the explicit padding (ceil_mode overhang) never count.
                if pos >= -g.padBegin[d] && pos < g.input[d] + g.padEnd[d] { count += 1 }
            }
            start.append(inside.count)
            padded.append(count)
        }
        return (inside, start, padded)
    }

    /// Pools one plane of `width`-wide rows into `outputHeight × outputWidth` values.
    func run(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, isMax: Bool, countIncludePad: Bool) {
        rows.withUnsafeBufferPointer { rows in
            columns.withUnsafeBufferPointer { columns in
                for oy in 0..<outputHeight {
                    let ys = rowStart[oy]..<rowStart[oy + 1]
                    for ox in 0..<outputWidth {
                        let xs = columnStart[ox]..<columnStart[ox + 1]
                        var best = -Float.infinity, sum: Float = 0
                        for yi in ys {
                            let line = src + rows[yi] * width
                            for xi in xs {
                                let v = line[columns[xi]]
                                best = max(best, v); sum += v
                            }
                        }
                        let count = countIncludePad ? paddedRows[oy] * paddedColumns[ox] : ys.count * xs.count
                        dst[oy * outputWidth + ox] = isMax ? best : sum / Float(max(1, count))
                    }
                }
            }
        }
    }
}
