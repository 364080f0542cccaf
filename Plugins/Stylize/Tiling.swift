import CNNRuntime

/// Runs a fully convolutional network over a large image in overlapping tiles.
///
/// Every tile is the network's input with a `margin` of context on each side (so the pixels kept
/// from it do not see the tile's edge), and neighbouring tiles cross-fade over `2 · feather`
/// pixels at their common border (the weights of the tiles covering a pixel sum to 1).
/// Instance normalisation is the one non-local thing in these networks: the tiles use statistics
/// of the whole image, measured over the tiles layer by layer (see `SpatialStatistics`), so a tiled
/// result matches an untiled one instead of changing tone per tile.
struct Tiling {
    /// Interior size of a tile; tiles are made equal and a multiple of `alignment`.
    var tileSize: Int
    var margin = 64
    var feather = 8
    /// The network's total stride: tile origins must fall on its grid to compute the same samples.
    var alignment = 4

    /// A tile: the input region it runs on and the region it contributes to, with weights.
    struct Tile {
        let input: (x: Int, y: Int, width: Int, height: Int)
        /// The part of the image this tile alone stands for (tiles partition the image), in input coordinates.
        let owned: (x: Int, y: Int, width: Int, height: Int)
        /// Blend weight of every column / row of the input region (0 outside its share).
        let columnWeights: [Float]
        let rowWeights: [Float]
    }

    func tiles(width: Int, height: Int) -> [Tile] {
        let columns = spans(width), rows = spans(height)
        return rows.flatMap { r in columns.map { c in
            Tile(input: (c.start, r.start, c.weights.count, r.weights.count),
                 owned: (c.owned.lowerBound - c.start, r.owned.lowerBound - r.start, c.owned.count, r.owned.count),
                 columnWeights: c.weights, rowWeights: r.weights)
        } }
    }

    /// Along one axis: each tile's input start, the samples it owns, and per-sample weights.
    func spans(_ length: Int) -> [(start: Int, owned: Range<Int>, weights: [Float])] {
        let count = max(1, (length + tileSize - 1) / tileSize)
        let step = ((length + count - 1) / count + alignment - 1) / alignment * alignment
        var result: [(start: Int, owned: Range<Int>, weights: [Float])] = []
        var lo = 0
        while lo < length {
            let hi = min(length, lo + step)
            let start = max(0, lo - margin), end = min(length, hi + margin)
            let ramp = Float(2 * feather)
            let weights = (start..<end).map { x -> Float in
                let position = Float(x) + 0.5
                let rising = lo == 0 ? 1 : min(max((position - Float(lo - feather)) / ramp, 0), 1)
                let falling = hi == length ? 1 : min(max((Float(hi + feather) - position) / ramp, 0), 1)
                return min(rising, falling)
            }
            result.append((start, lo..<hi, weights))
            lo = hi
        }
        return result
    }

    /// Where the tiles' normalisation statistics come from.
    enum Statistics {
        /// Measured over the tiles, one pass per reduction (exact at any size); the small copy's run
        /// says how many reductions there are; tiles resume each pass from checkpoints of the image input.
        case measured(countedOn: PlanarRGB, imageInput: String)
        /// Each tile its own (tone changes from tile to tile; for comparison).
        case perTile
    }

    /// Runs `network` on every tile of `image` and blends the results into one image of the same size.
    /// `progress` gets the fraction done after every tile run (and may throw to stop).
    func run(_ image: PlanarRGB, statistics: Statistics, progress: (Double) throws -> Void = { _ in },
             network: (PlanarRGB, SpatialStatistics?) throws -> PlanarRGB) throws -> PlanarRGB {
        let tiles = tiles(width: image.width, height: image.height)
        func input(_ tile: Tile) -> PlanarRGB {
            image.region(x: tile.input.x, y: tile.input.y, width: tile.input.width, height: tile.input.height)
        }
        var known: [[Float]]?
        var checkpoints: TileCheckpoints?
        var runs = 0, totalRuns = tiles.count
        switch statistics {
        case .perTile: break
        case .measured(let small, let imageInput):
            let recorder = SpatialStatistics.recorder()
            _ = try network(small, recorder)
            var entries: [[Float]] = []
            totalRuns += recorder.entries.count * tiles.count
            // Checkpoints up to 2 floats per input pixel: the quarter-resolution feature maps, not the full-resolution ones.
            let largest = tiles.map { $0.input.width * $0.input.height }.max() ?? 0
            let store = TileCheckpoints(imageInput: imageInput, maximumFloats: 2 * largest)
            checkpoints = store
            for _ in recorder.entries {
                let pass = SpatialStatistics.measuring(after: entries, checkpoints: store)
                for (index, tile) in tiles.enumerated() {
                    pass.startTile(index, owned: tile.owned, inputSize: (tile.input.width, tile.input.height))
                    do { _ = try network(input(tile), pass) } catch is StatisticsMeasured {}
                    runs += 1
                    try progress(Double(runs) / Double(totalRuns))
                }
                entries = try pass.finishMeasurement()
            }
            known = entries
        }
        var out = PlanarRGB(width: image.width, height: image.height, planes: [Float](repeating: 0, count: image.planes.count))
        checkpoints?.capturing = false
        for (index, tile) in tiles.enumerated() {
            let tileImage = input(tile)
            checkpoints?.start(tile: index)
            let replay = known.map { SpatialStatistics.replaying($0, checkpoints: checkpoints) }
            let styled = try network(tileImage, replay)
            guard styled.width == tileImage.width, styled.height == tileImage.height else {
                throw StyleError("tiling: the network turned a \(tileImage.width)x\(tileImage.height) tile into \(styled.width)x\(styled.height)")
            }
            if let replay, !replay.isExhausted { throw StyleError("tiling: a tile used fewer statistics than the whole image has") }
            out.accumulate(styled, at: tile.input.x, tile.input.y, columnWeights: tile.columnWeights, rowWeights: tile.rowWeights)
            runs += 1
            try progress(Double(runs) / Double(totalRuns))
        }
        return out
    }
}

extension PlanarRGB {
    /// A copy of a rectangle.
    func region(x: Int, y: Int, width w: Int, height h: Int) -> PlanarRGB {
        var p = [Float](repeating: 0, count: 3 * w * h)
        planes.withUnsafeBufferPointer { src in
            p.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 { for row in 0..<h {
                    let s = src.baseAddress! + c * width * height + (y + row) * width + x
                    (dst.baseAddress! + c * w * h + row * w).update(from: s, count: w)
                } }
            }
        }
        return PlanarRGB(width: w, height: h, planes: p)
    }

    /// self[region at (x, y)] += tile · rowWeight · columnWeight.
    mutating func accumulate(_ tile: PlanarRGB, at x: Int, _ y: Int, columnWeights: [Float], rowWeights: [Float]) {
        let w = tile.width, h = tile.height, fullWidth = width, fullHeight = height
        planes.withUnsafeMutableBufferPointer { dst in
            tile.planes.withUnsafeBufferPointer { src in
                columnWeights.withUnsafeBufferPointer { cw in
                    for c in 0..<3 { for row in 0..<h where rowWeights[row] > 0 {
                        let rw = rowWeights[row]
                        let s = src.baseAddress! + c * w * h + row * w
                        let d = dst.baseAddress! + c * fullWidth * fullHeight + (y + row) * fullWidth + x
                        for i in 0..<w { d[i] += s[i] * (cw[i] * rw) }
                    } }
                }
            }
        }
    }
}
