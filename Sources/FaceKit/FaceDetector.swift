import CNNRuntime
import Foundation

/// A face found by the detector: dlib's rectangle (inclusive corners, in the image given) and the
/// network's score for it.
public struct FaceDetection: Equatable, Sendable {
    public var rect: DlibRectangle
    public var confidence: Double
}

/// dlib's MMOD CNN face detector (`mmod_human_face_detector.dat`) on CNNRuntime, computing what
/// `dlib.cnn_face_detection_model_v1(...)(image, upsample)` computes: the tiled 5/6 image pyramid,
/// one network run, every score-map cell above the threshold as an 80×80 window mapped back to the
/// image, then dlib's greedy non-maximum suppression. docs/research/dlib-mmod-detection.md has the
/// rules with their sources.
public final class FaceDetector: @unchecked Sendable {
    let session: Session
    let mean: [Float]
    let padding: Int, outerPadding: Int
    let window: (width: Int, height: Int)
    let nmsIoU: Double, nmsCovered: Double
    /// Score-map cell (c, r) looks at tiled-image point (stride·c + offset, stride·r + offset).
    let stride: Int, offset: Int
    /// nil: the graph is not one that can be tiled, so it runs on the whole pyramid at once.
    let footprint: ConvolutionalFootprint?
    /// Score cells per tile side. 96 cells are about 960×960 input pixels with the 189-pixel field:
    /// about 100 MB of activations whatever the photo size (benchmarks/faces-memory.sh). 128 cells
    /// (1,200 px) measured 943 MB peak for faces tag --threads 2 on 12 MP photos, 96 cells 772 MB,
    /// for about 4% more detector time (the overlap is computed twice).
    let tileCells: Int
    static let defaultTileCells = 96

    public convenience init(path: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        try self.init(path: path, threads: threads, tileCells: Self.defaultTileCells)
    }

    init(path: String, threads: Int, tileCells: Int) throws {
        let network = try DlibImporter.network(path: path)
        guard case .mmod(let options) = network.loss, case .imagePyramid(let mean, let padding, let outer) = network.input,
              let window = options.windows.first else {
            throw ModelError("\(path): not a dlib MMOD detector (its loss or input layer is of another kind)")
        }
        self.mean = mean
        self.padding = padding; outerPadding = outer
        self.window = (window.width, window.height)
        nmsIoU = Double(options.nmsIoU); nmsCovered = Double(options.nmsCovered)
        (stride, offset) = try Self.outputToInputMapping(network.graph)
        footprint = ConvolutionalFootprint(network.graph)
        self.tileCells = tileCells
        session = try Session(network.graph, threads: threads)
        session.acceptsAnyInputSize = true
    }

    /// Composes every convolution's output→input point map, p·stride − pad + kernel/2 (dlib's
    /// map_output_to_input), from the score map back to the input.
    static func outputToInputMapping(_ graph: ModelGraph) throws -> (stride: Int, offset: Int) {
        var stride = 1, offset = 0
        for node in graph.nodes.reversed() where node.opType == "Conv" {
            guard case .ints(let k)? = node.attributes["kernel_shape"], case .ints(let s)? = node.attributes["strides"],
                  case .ints(let p)? = node.attributes["pads"], k.count == 2, s[0] == s[1], p[0] == p[1] else {
                throw ModelError("detector: convolution '\(node.name)' is not square with symmetric padding")
            }
            // Composition with what is already mapped: q = p_out·stride + offset → q·s − pad + k/2.
            offset = offset * s[0] - p[0] + k[0] / 2
            stride *= s[0]
        }
        return (stride, offset)
    }

    /// Faces in an interleaved 8-bit RGB image. `upsample` doubles the image that many times first
    /// (finds faces down to about 40 px, then 20 px); `threshold` is the score a window must exceed.
    public func detect(rgb: [UInt8], width: Int, height: Int, upsample: Int = 0, threshold: Double = 0) throws -> [FaceDetection] {
        precondition(rgb.count == 3 * width * height)
        var w = width, h = height
        for _ in 0..<upsample { (w, h) = (2 * w + 2, 2 * h + 1) }
        let pyramid = TiledPyramid(imageWidth: w, imageHeight: h, padding: padding, outerPadding: outerPadding)
        let rows = PyramidRows(rgb: rgb, width: width, height: height, upsample: upsample, pyramid: pyramid, mean: mean)
        var found = nonMaximumSuppression(try candidates(rows, threshold: threshold))
        if upsample > 0 {
            for i in found.indices {
                var r = DoubleRectangle(left: Double(found[i].rect.left), top: Double(found[i].rect.top),
                                        right: Double(found[i].rect.right), bottom: Double(found[i].rect.bottom))
                for _ in 0..<upsample { r = r.mapped { ($0 / 2 - 1.25, $1 / 2 - 0.75) } }
                found[i].rect = DlibRectangle(r)
            }
        }
        return found
    }

    /// Every score-map cell above the threshold as a window in the image. The network runs on
    /// tiles of the pyramid (ScoreMapTiles.swift), band by band as PyramidRows makes it, so memory
    /// is bounded by the tile size and the pyramid's width; the cells are those of a single run.
    func candidates(_ rows: PyramidRows, threshold: Double) throws -> [FaceDetection] {
        let width = rows.pyramid.width, height = rows.pyramid.height
        let rowSpans = footprint?.spans(input: height, cellsPerTile: tileCells) ?? [.init(cells: 0..<Int.max, input: 0..<height)]
        let columnSpans = footprint?.spans(input: width, cellsPerTile: tileCells) ?? [.init(cells: 0..<Int.max, input: 0..<width)]
        let bandCapacity = rowSpans.map(\.input.count).max() ?? 0
        var band = [Float](repeating: 0, count: 3 * bandCapacity * width)
        var bandStart = 0, bandRows = 0
        var found: [FaceDetection] = []
        for r in rowSpans {
            try band.withUnsafeMutableBufferPointer { buffer in
                let planes = buffer.baseAddress!, plane = bandCapacity * width
                let keep = max(0, bandStart + bandRows - r.input.lowerBound)
                for c in 0..<3 {     // rows shared with the previous band move to the top
                    (planes + c * plane).update(from: planes + c * plane + (bandRows - keep) * width, count: keep * width)
                }
                (bandStart, bandRows) = (r.input.lowerBound, keep)
                while bandStart + bandRows < r.input.upperBound {
                    rows.writeNextRow(into: planes + bandRows * width, stride: plane)
                    bandRows += 1
                }
                for c in columnSpans {
                    let tile = Self.crop(planes, planeSize: plane, width: width, rows: 0..<bandRows, columns: c.input)
                    guard let scores = try session.run([session.inputs[0].name: tile]).values.first, scores.shape.count == 4 else {
                        throw ModelError("detector: the network gave no score map")
                    }
                    found += cells(scores, rows: r, columns: c, threshold: threshold, pyramid: rows.pyramid)
                }
            }
        }
        return found
    }

    /// The cells a tile owns that pass the threshold, as image windows.
    private func cells(_ scores: Tensor, rows r: ScoreMapSpan, columns c: ScoreMapSpan, threshold: Double,
                       pyramid: TiledPyramid) -> [FaceDetection] {
        let tileRows = scores.shape[2], tileColumns = scores.shape[3]
        let r0 = r.input.lowerBound / stride, c0 = c.input.lowerBound / stride
        let s = scores.buffer.pointer
        var found: [FaceDetection] = []
        for row in r.cells.clamped(to: r0..<r0 + tileRows) {
            for column in c.cells.clamped(to: c0..<c0 + tileColumns) {
                let score = Double(s[(row - r0) * tileColumns + column - c0])
                guard score > threshold else { continue }
                let window = DoubleRectangle.centered(x: Double(stride * column + offset), y: Double(stride * row + offset),
                                                      width: Double(self.window.width), height: Double(self.window.height))
                found.append(FaceDetection(rect: DlibRectangle(pyramid.toImage(window)), confidence: score))
            }
        }
        return found
    }

    /// Rows × columns of three planes (`planeSize` apart, `width` wide) as an NCHW tensor.
    static func crop(_ planes: UnsafePointer<Float>, planeSize: Int, width: Int, rows: Range<Int>, columns: Range<Int>) -> Tensor {
        let out = Tensor(uninitialized: [1, 3, rows.count, columns.count])
        let dst = out.buffer.pointer
        for ch in 0..<3 {
            for (i, row) in rows.enumerated() {
                (dst + (ch * rows.count + i) * columns.count)
                    .update(from: planes + ch * planeSize + row * width + columns.lowerBound, count: columns.count)
            }
        }
        return out
    }

    /// Greedy: highest score first, dropping a box that overlaps any box already kept.
    func nonMaximumSuppression(_ candidates: [FaceDetection]) -> [FaceDetection] {
        var kept: [FaceDetection] = []
        for d in candidates.sorted(by: { $0.confidence > $1.confidence }) where !kept.contains(where: { overlaps($0.rect, d.rect) }) {
            kept.append(d)
        }
        return kept
    }

    /// dlib's test_box_overlap: intersection over the *enclosing* box (not the union), or over either box.
    func overlaps(_ a: DlibRectangle, _ b: DlibRectangle) -> Bool {
        let inner = Double(a.intersection(b).area)
        guard inner > 0 else { return false }
        return inner / Double(a.enclosing(b).area) > nmsIoU || inner / Double(a.area) > nmsCovered || inner / Double(b.area) > nmsCovered
    }

    /// dlib's pyramid_up with pyramid_down<2>: the image bilinearly resampled (align corners,
    /// samples truncated) to (2w + 2) × (2h + 1). Detection streams the same rows (ByteRows); this
    /// whole-image form is the reference the streamed pyramid is tested against.
    static func upsampled(_ rgb: [UInt8], width: Int, height: Int) -> ([UInt8], Int, Int) {
        let w2 = 2 * width + 2, h2 = 2 * height + 1
        let xs = Double(width - 1) / Double(max(w2 - 1, 1)), ys = Double(height - 1) / Double(max(h2 - 1, 1))
        let columns = (0..<w2).map { c -> (Int, Int, Double) in
            let x = Double(c) * xs, left = Int(x.rounded(.down))
            return (left, min(left + 1, width - 1), x - Double(left))
        }
        var out = [UInt8](repeating: 0, count: 3 * w2 * h2)
        rgb.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<h2 {
                    let y = Double(r) * ys, top = Int(y.rounded(.down)), bottom = min(top + 1, height - 1), fy = y - Double(top)
                    for (c, (l, rr, fx)) in columns.enumerated() {
                        for k in 0..<3 {
                            let tl = Double(src[(top * width + l) * 3 + k]), tr = Double(src[(top * width + rr) * 3 + k])
                            let bl = Double(src[(bottom * width + l) * 3 + k]), br = Double(src[(bottom * width + rr) * 3 + k])
                            let v = (1 - fy) * ((1 - fx) * tl + fx * tr) + fy * ((1 - fx) * bl + fx * br)
                            dst[(r * w2 + c) * 3 + k] = UInt8(v)
                        }
                    }
                }
            }
        }
        return (out, w2, h2)
    }
}
