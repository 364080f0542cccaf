import Foundation

/// A box in image pixels as dlib gives it: right and bottom are inclusive.
public struct DlibRectangle: Sendable, Equatable {
    public var left: Int, top: Int, right: Int, bottom: Int

    public init(left: Int, top: Int, right: Int, bottom: Int) {
        self.left = left; self.top = top; self.right = right; self.bottom = bottom
    }
}

/// dlib's landmark model (shape_predictor_5_face_landmarks.dat): a cascade of regression-tree
/// forests (Kazemi & Sullivan). dlib-format.md §7. Given an image and a face box it returns the
/// landmarks (5: the outer and inner corners of the eye on the image's right, the same for the eye
/// on the left, the bottom of the nose) as dlib does.
public struct DlibShapePredictor: Sendable {
    struct Split {
        let featureA: Int, featureB: Int
        let threshold: Float
    }

    struct Tree {
        /// A complete binary tree, breadth-first: the children of split i are 2i+1 and 2i+2;
        /// node indices from splits.count on are leaves.
        let splits: [Split]
        /// leaves.count × (2 × landmarks) shape increments.
        let leaves: [Float]
    }

    struct Cascade {
        let trees: [Tree]
        /// Feature pixel i sits at anchors[i]'s landmark plus deltas[i] (in the mean-shape frame).
        let anchors: [Int]
        let deltas: [(x: Float, y: Float)]
        /// The same trees in flat arrays when they all have the same depth (dlib's always do).
        let forest: FlatForest?

        init(trees: [Tree], anchors: [Int], deltas: [(x: Float, y: Float)], values: Int) {
            self.trees = trees
            self.anchors = anchors
            self.deltas = deltas
            forest = FlatForest(trees, values: values)
        }
    }

    /// x0, y0, x1, y1, … in box-normalised coordinates (0,0 top-left, 1,1 bottom-right of the box).
    let initialShape: [Float]
    let cascades: [Cascade]

    public var landmarkCount: Int { initialShape.count / 2 }

    public static func load(path: String) throws -> DlibShapePredictor {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError("\(path): cannot read file") }
        do { return try DlibShapePredictor(bytes: [UInt8](data)) } catch let e as ModelError {
            throw ModelError("\(path): \(e.description)")
        }
    }

    public init(bytes: [UInt8]) throws {
        var r = DlibReader(bytes)
        try r.expectInt(1, "shape predictor version")
        let shapeStart = r.offset
        let shape = try r.floatMatrix("initial_shape")
        guard shape.columns == 1, shape.rows >= 2, shape.rows % 2 == 0 else {
            throw r.error("initial_shape is \(shape.rows)×\(shape.columns), expected (2 × landmarks)×1", at: shapeStart)
        }
        initialShape = shape.values
        let values = shape.rows
        // Each tree takes at least 4 bytes (two counts); each split 8 (three values), each leaf 8.
        var forests: [[Tree]] = []
        for c in 0..<(try r.elementCount("cascades", minimumElementBytes: 2)) {
            var trees: [Tree] = []
            for t in 0..<(try r.elementCount("cascade \(c) trees", minimumElementBytes: 4)) {
                trees.append(try r.regressionTree(values: values, "cascade \(c) tree \(t)"))
            }
            forests.append(trees)
        }
        let anchorsStart = r.offset
        var anchors: [[Int]] = []
        for c in 0..<(try r.elementCount("anchor_idx", minimumElementBytes: 2)) {
            let n = try r.elementCount("cascade \(c) anchor_idx", minimumElementBytes: 2)
            anchors.append(try (0..<n).map { _ in
                let at = r.offset
                let i = try r.count("anchor index")
                guard i < values / 2 else { throw r.error("anchor index \(i) is not one of the \(values / 2) landmarks", at: at) }
                return i
            })
        }
        var deltas: [[(x: Float, y: Float)]] = []
        for c in 0..<(try r.elementCount("deltas", minimumElementBytes: 2)) {
            let n = try r.elementCount("cascade \(c) deltas", minimumElementBytes: 8)
            deltas.append(try (0..<n).map { _ in (try r.float("delta x"), try r.float("delta y")) })
        }
        guard anchors.count == forests.count, deltas.count == forests.count,
              zip(anchors, deltas).allSatisfy({ $0.count == $1.count }) else {
            throw r.error("\(forests.count) cascades but \(anchors.count) anchor lists and \(deltas.count) delta lists of "
                + "matching lengths", at: anchorsStart)
        }
        for (c, trees) in forests.enumerated() {
            let features = anchors[c].count
            for (t, tree) in trees.enumerated() where tree.splits.contains(where: { $0.featureA >= features || $0.featureB >= features }) {
                throw r.error("cascade \(c) tree \(t) compares a feature pixel beyond the cascade's \(features)", at: anchorsStart)
            }
        }
        guard r.isAtEnd else { throw r.error("\(r.remaining) unexpected bytes after the shape predictor") }
        cascades = forests.indices.map { Cascade(trees: forests[$0], anchors: anchors[$0], deltas: deltas[$0], values: values) }
    }
}

extension DlibReader {
    /// A regression tree: splits (idx1, idx2, thresh) then leaf vectors of `values` floats each;
    /// a complete tree has one leaf more than it has splits.
    mutating func regressionTree(values: Int, _ what: @autoclosure () -> String) throws -> DlibShapePredictor.Tree {
        let start = offset
        var splits: [DlibShapePredictor.Split] = []
        for _ in 0..<(try elementCount(what() + " splits", minimumElementBytes: 8)) {
            splits.append(.init(featureA: try count("split idx1"), featureB: try count("split idx2"), threshold: try float("split thresh")))
        }
        let leafCount = try elementCount(what() + " leaves", minimumElementBytes: 4)
        guard leafCount == splits.count + 1 else {
            throw error("\(what()) has \(splits.count) splits and \(leafCount) leaves (expected one more leaf than splits)", at: start)
        }
        var leaves: [Float] = []
        leaves.reserveCapacity(leafCount * values)
        for _ in 0..<leafCount {
            let leafStart = offset
            let leaf = try floatMatrix(what() + " leaf")
            guard leaf.values.count == values, leaf.columns == 1 else {
                throw error("\(what()) has a leaf of \(leaf.rows)×\(leaf.columns) values, expected \(values)×1", at: leafStart)
            }
            leaves += leaf.values
        }
        return DlibShapePredictor.Tree(splits: splits, leaves: leaves)
    }
}
