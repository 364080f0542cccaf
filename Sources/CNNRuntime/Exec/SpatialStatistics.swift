import CConvKernels

/// Whole-image statistics for tiled inference.
///
/// Instance normalisation and global pooling reduce over the whole feature map, so running a
/// large image tile by tile changes every tile's tone unless each tile uses the statistics of the
/// whole image. Everything else in these networks is local: a tile with enough margin computes
/// what the whole-image run computes, given the same statistics.
///
/// - `record` (a whole-image run) keeps every spatial reduction's values in execution order.
/// - `replay` (a tile) uses held values instead of computing its own.
/// - `measure` (a tile) replays the reductions already known, and at the first unknown one sums
///   the tile's *own* positions (`startTile`, scaled to that layer's resolution) and stops the
///   run by throwing `StatisticsMeasured`. After every tile, `finishMeasurement()` turns the sums
///   into the whole image's values for that reduction. One such pass per reduction gives exactly
///   the full-resolution statistics without ever holding a whole-image activation.
/// - `smooth` (frames of a video, in order) computes each reduction, then uses and keeps
///   `weight` × the previous frame's value + (1 − weight) × this frame's: an exponential moving
///   average that steadies the tone from frame to frame at no extra network run.
public final class SpatialStatistics: @unchecked Sendable {
    public enum Mode: Sendable { case record, replay, measure, smooth }

    /// What a reduction keeps per plane.
    enum Kind {
        case mean, sum, max
        case moments    // mean and variance: entry = [means..., variances...]
    }

    public let mode: Mode
    /// One entry per spatial reduction, in the order the session ran them.
    public private(set) var entries: [[Float]]
    /// `smooth`: this frame's own values, before they were averaged in.
    public private(set) var measured: [[Float]] = []
    private var cursor = 0
    private var smoothingWeight: Float = 0

    /// For `measure`: the tile's own part of the image, in the tile's input pixels, and that input's size.
    private var ownedRegion = (x: 0, y: 0, width: 0, height: 0)
    private var inputSize = (width: 0, height: 0)
    private var accumulator: Accumulator?

    private struct Accumulator {
        let kind: Kind
        var sum: [Double]
        var squares: [Double]
        var count = 0
    }

    private init(mode: Mode, entries: [[Float]]) {
        self.mode = mode
        self.entries = entries
    }

    /// An empty recorder.
    public static func recorder() -> SpatialStatistics { SpatialStatistics(mode: .record, entries: []) }

    /// A replay of `entries` (from a recorder, or a finished measurement).
    public static func replaying(_ entries: [[Float]], checkpoints: TileCheckpoints? = nil) -> SpatialStatistics {
        let s = SpatialStatistics(mode: .replay, entries: entries)
        s.checkpoints = checkpoints
        return s
    }

    /// Measures the reduction after `known` ones over the tiles that follow (`startTile` before each).
    public static func measuring(after known: [[Float]], checkpoints: TileCheckpoints? = nil) -> SpatialStatistics {
        let s = SpatialStatistics(mode: .measure, entries: known)
        s.checkpoints = checkpoints
        return s
    }

    /// A moving average over frames: `previous` (the last frame's `entries`; empty for the first
    /// frame, or after a scene cut) weighted by `weight`, this frame's values by 1 − weight.
    public static func smoothing(_ previous: [[Float]], weight: Float) -> SpatialStatistics {
        let s = SpatialStatistics(mode: .smooth, entries: previous)
        s.smoothingWeight = weight
        return s
    }

    /// The moving average `previous` (entries) moved on by one frame's `measured` values:
    /// weight · previous + (1 − weight) · measured, entry by entry; the measured values alone
    /// where the previous frame had no entry of that size.
    public static func movingAverage(_ previous: [[Float]], _ measured: [[Float]], weight: Float) -> [[Float]] {
        measured.enumerated().map { k, values in
            guard k < previous.count, previous[k].count == values.count else { return values }
            return zip(previous[k], values).map { weight * $0 + (1 - weight) * $1 }
        }
    }

    /// A fresh replay of what `self` holds (each tile needs its own cursor).
    public func replay() -> SpatialStatistics { Self.replaying(entries) }

    /// Rewinds for the next tile of a measurement pass.
    public func startTile(_ index: Int, owned: (x: Int, y: Int, width: Int, height: Int), inputSize: (width: Int, height: Int)) {
        cursor = 0
        checkpoints?.start(tile: index)
        ownedRegion = owned
        self.inputSize = inputSize
    }

    /// Resume points of the tiles (see `TileCheckpoints`); nil = every run starts from the pixels.
    public var checkpoints: TileCheckpoints?

    /// Reductions passed so far in this run.
    var position: Int { cursor }

    /// Continues a run resumed after `count` reductions.
    func skip(to count: Int) { cursor = count }

    /// Whether a replay used every entry (a shorter run means a different model or graph).
    public var isExhausted: Bool { cursor == entries.count }

    /// After every tile of a measurement pass: the known entries plus the measured one.
    public func finishMeasurement() throws -> [[Float]] {
        guard mode == .measure, let a = accumulator else {
            throw ModelError("whole-image statistics: no tile reached reduction \(entries.count)")
        }
        let n = Double(max(1, a.count))
        let values: [Float]
        switch a.kind {
        case .mean: values = a.sum.map { Float($0 / n) }
        case .sum, .max: values = a.sum.map { Float($0) }
        case .moments:
            let means = a.sum.map { $0 / n }
            values = means.map { Float($0) } + zip(a.squares, means).map { Float(max(0, $0 / n - $1 * $1)) }
        }
        return entries + [values]
    }

    /// Records what `compute` writes to `values`, or writes the held values there without
    /// computing; a measuring run sums the owned part of `input` (planes × height × width) at the first unknown one.
    func exchange(_ kind: Kind, input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                  values: UnsafeMutablePointer<Float>, count: Int, compute: () throws -> Void) throws {
        switch mode {
        case .record:
            try compute()
            entries.append(Array(UnsafeBufferPointer(start: values, count: count)))
        case .smooth:
            try compute()
            measured.append(Array(UnsafeBufferPointer(start: values, count: count)))
            if cursor < entries.count && entries[cursor].count == count {
                let w = smoothingWeight
                entries[cursor].withUnsafeMutableBufferPointer { held in
                    for i in 0..<count {
                        held[i] = w * held[i] + (1 - w) * values[i]
                        values[i] = held[i]
                    }
                }
            } else {
                // A different graph or size than the last frame's: start over from here.
                entries = Array(entries.prefix(cursor)) + [Array(UnsafeBufferPointer(start: values, count: count))]
            }
            cursor += 1
        case .replay, .measure:
            if mode == .measure && cursor == entries.count {
                accumulate(kind, input, planes: planes, height: height, width: width)
                throw StatisticsMeasured()
            }
            guard cursor < entries.count else {
                throw ModelError("whole-image statistics: the run needs more than the \(entries.count) recorded reductions")
            }
            let entry = entries[cursor]
            guard entry.count == count else {
                throw ModelError("whole-image statistics: reduction \(cursor) has \(entry.count) values, this run needs \(count)")
            }
            entry.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) }
            cursor += 1
        }
    }

    /// Adds the owned rectangle of every plane (scaled to this layer's resolution) to the cursor's accumulator.
    private func accumulate(_ kind: Kind, _ x: UnsafePointer<Float>, planes: Int, height: Int, width: Int) {
        var a = accumulator ?? Accumulator(kind: kind, sum: Array(repeating: kind == .max ? -.infinity : 0, count: planes),
                                           squares: Array(repeating: 0, count: planes))
        let sx = Double(width) / Double(max(1, inputSize.width)), sy = Double(height) / Double(max(1, inputSize.height))
        let x0 = Int((Double(ownedRegion.x) * sx).rounded()), x1 = Int((Double(ownedRegion.x + ownedRegion.width) * sx).rounded())
        let y0 = Int((Double(ownedRegion.y) * sy).rounded()), y1 = Int((Double(ownedRegion.y + ownedRegion.height) * sy).rounded())
        let n = (x1 - x0) * (y1 - y0)
        for p in 0..<planes {
            var sum = 0.0, squares = 0.0, top = -Float.infinity
            for row in y0..<y1 {
                let r = x + p * height * width + row * width + x0
                switch kind {
                case .max: for i in 0..<(x1 - x0) { top = max(top, r[i]) }
                case .mean, .sum: sum += accurateSum(r, x1 - x0)
                case .moments:
                    sum += accurateSum(r, x1 - x0)
                    squares += accurateSumOfSquares(r, x1 - x0)
                }
            }
            if kind == .max { a.sum[p] = max(a.sum[p], Double(top)) } else { a.sum[p] += sum; a.squares[p] += squares }
        }
        a.count += n
        accumulator = a
    }
}

/// Thrown by a measuring run once it has summed the reduction it measures (the rest is not needed).
public struct StatisticsMeasured: Error {}

/// Σ x² accumulated in Double over 8 lanes, in accurateSum's order (C, the CPU's widest lanes).
func accurateSumOfSquares(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
    cp_sum_of_squares(p, n, DirectConv.isa)
}
