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
    /// Score cells per tile side. 128 cells are about 1,200×1,200 input pixels with the 189-pixel
    /// field: a few hundred MB of activations whatever the photo size (benchmarks/faces-memory.sh).
    let tileCells: Int
    static let defaultTileCells = 128

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
        var image = rgb, w = width, h = height
        for _ in 0..<upsample { (image, w, h) = Self.upsampled(image, width: w, height: h) }
        var found = try detectAtScale(image, width: w, height: h, threshold: threshold)
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

    private func detectAtScale(_ rgb: [UInt8], width: Int, height: Int, threshold: Double) throws -> [FaceDetection] {
        let pyramid = TiledPyramid(imageWidth: width, imageHeight: height, padding: padding, outerPadding: outerPadding)
        let input = Tensor(uninitialized: [1, 3, pyramid.height, pyramid.width])
        rgb.withUnsafeBufferPointer { pyramid.render(rgb: $0, mean: mean, into: input.buffer.pointer) }
        let (s, rows, columns) = try scoreMap(input)
        var candidates: [FaceDetection] = []
        for r in 0..<rows {
            for c in 0..<columns where Double(s[r * columns + c]) > threshold {
                let window = DoubleRectangle.centered(x: Double(stride * c + offset), y: Double(stride * r + offset),
                                                      width: Double(self.window.width), height: Double(self.window.height))
                candidates.append(FaceDetection(rect: DlibRectangle(pyramid.toImage(window)), confidence: Double(s[r * columns + c])))
            }
        }
        return nonMaximumSuppression(candidates)
    }

    /// The network's score map for the whole input, computed tile by tile (ScoreMapTiles.swift) so
    /// that memory is bounded by the tile size; the cells are the ones of a single run.
    func scoreMap(_ input: Tensor) throws -> (scores: [Float], rows: Int, columns: Int) {
        let height = input.shape[2], width = input.shape[3]
        guard let footprint else { return try run(input) }
        let rowSpans = footprint.spans(input: height, cellsPerTile: tileCells)
        let columnSpans = footprint.spans(input: width, cellsPerTile: tileCells)
        if rowSpans.count <= 1 && columnSpans.count <= 1 { return try run(input) }
        let rows = footprint.outputLength(height), columns = footprint.outputLength(width)
        var scores = [Float](repeating: 0, count: rows * columns)
        for r in rowSpans {
            for c in columnSpans {
                let tile = Self.crop(input, rows: r.input, columns: c.input)
                let (t, tileRows, tileColumns) = try run(tile)
                let r0 = r.input.lowerBound / footprint.stride, c0 = c.input.lowerBound / footprint.stride
                guard r.cells.upperBound - r0 <= tileRows, c.cells.upperBound - c0 <= tileColumns else {
                    throw ModelError("detector: a tile's score map is smaller than its footprint says")
                }
                for row in r.cells {
                    let from = (row - r0) * tileColumns + c.cells.lowerBound - c0
                    scores.replaceSubrange(row * columns + c.cells.lowerBound..<row * columns + c.cells.upperBound,
                                           with: t[from..<from + c.cells.count])
                }
            }
        }
        return (scores, rows, columns)
    }

    private func run(_ input: Tensor) throws -> (scores: [Float], rows: Int, columns: Int) {
        guard let scores = try session.run([session.inputs[0].name: input]).values.first, scores.shape.count == 4 else {
            throw ModelError("detector: the network gave no score map")
        }
        return (scores.floats, scores.shape[2], scores.shape[3])
    }

    /// Rows × columns of an NCHW tensor, copied row by row.
    static func crop(_ input: Tensor, rows: Range<Int>, columns: Range<Int>) -> Tensor {
        let channels = input.shape[1], height = input.shape[2], width = input.shape[3]
        let out = Tensor(uninitialized: [1, channels, rows.count, columns.count])
        let src = input.buffer.pointer, dst = out.buffer.pointer
        for ch in 0..<channels {
            for (i, row) in rows.enumerated() {
                (dst + (ch * rows.count + i) * columns.count)
                    .update(from: src + (ch * height + row) * width + columns.lowerBound, count: columns.count)
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
    /// samples truncated) to (2w + 2) × (2h + 1).
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
