import Foundation

/// A pixel position.
public struct DlibPoint: Sendable, Equatable, CustomStringConvertible {
    public var x: Int, y: Int
    public init(x: Int, y: Int) { self.x = x; self.y = y }
    public var description: String { "(\(x), \(y))" }
}

extension DlibShapePredictor {
    /// The landmarks of the face in `box`, in image pixels, for interleaved 8-bit RGB rows.
    /// The cascade (dlib-format.md §7): starting from the mean shape, each stage fits the similarity
    /// from the mean shape to the current one, reads the intensity of its feature pixels (placed
    /// relative to their anchor landmarks), and adds the leaf each tree's pixel-difference tests reach.
    public func landmarks(rgb: [UInt8], width: Int, height: Int, box: DlibRectangle) throws -> [DlibPoint] {
        guard width > 0, height > 0, rgb.count == 3 * width * height else {
            throw ModelError("RGB image of \(rgb.count) bytes does not match \(width)×\(height)")
        }
        return rgb.withUnsafeBufferPointer { pixels in
            // dlib's intensity of an RGB pixel: the integer mean of the three samples.
            func intensity(_ x: Int, _ y: Int) -> Float {
                guard x >= 0, y >= 0, x < width, y < height else { return 0 }
                let i = 3 * (y * width + x)
                return Float((Int(pixels[i]) + Int(pixels[i + 1]) + Int(pixels[i + 2])) / 3)
            }
            return landmarks(box: box, intensity: intensity)
        }
    }

    /// The cascade over any image, given its intensity at a pixel (0 outside the image).
    func landmarks(box: DlibRectangle, intensity: (Int, Int) -> Float) -> [DlibPoint] {
        let values = initialShape.count
        let mean = stride(from: 0, to: values, by: 2).map { (x: Double(initialShape[$0]), y: Double(initialShape[$0 + 1])) }
        let toImage = BoxMapping(box)
        var shape = initialShape
        var features = [Float](repeating: 0, count: cascades.map(\.anchors.count).max() ?? 0)
        for cascade in cascades {
            // Only the linear part of the fit matters (the deltas are offsets), in float as dlib keeps it.
            let current = stride(from: 0, to: values, by: 2).map { (x: Double(shape[$0]), y: Double(shape[$0 + 1])) }
            let fit = SimilarityTransform.leastSquares(from: mean, to: current)
            let (a, b) = (Float(fit.a), Float(fit.b))
            for (i, (anchor, delta)) in zip(cascade.anchors, cascade.deltas).enumerated() {
                let u = (a * delta.x + -b * delta.y) + shape[2 * anchor]
                let v = (b * delta.x + a * delta.y) + shape[2 * anchor + 1]
                let p = toImage.pixel(Double(u), Double(v))
                features[i] = intensity(p.x, p.y)
            }
            features.withUnsafeBufferPointer { f in
                shape.withUnsafeMutableBufferPointer { s in
                    if let forest = cascade.forest {
                        forest.addLeaves(for: f, to: s)
                    } else {
                        for tree in cascade.trees { tree.addLeaf(for: f, to: s) }
                    }
                }
            }
        }
        return stride(from: 0, to: values, by: 2).map { toImage.pixel(Double(shape[$0]), Double(shape[$0 + 1])) }
    }
}

extension DlibShapePredictor.Tree {
    /// Walks from the root (left when feature A − feature B > threshold) and adds the leaf reached.
    @inline(__always)
    func addLeaf(for features: UnsafeBufferPointer<Float>, to shape: UnsafeMutableBufferPointer<Float>) {
        var node = 0
        while node < splits.count {
            let s = splits[node]
            node = features[s.featureA] - features[s.featureB] > s.threshold ? 2 * node + 1 : 2 * node + 2
        }
        let n = shape.count, start = (node - splits.count) * n
        leaves.withUnsafeBufferPointer { l in
            for j in 0..<n { shape[j] += l[start + j] }
        }
    }
}

/// A cascade's trees in flat arrays (split features, thresholds, leaves back to back): the walk
/// touches no array headers or reference counts, which is most of the time of per-tree structs.
/// Leaves are added in tree order, so the sums equal the per-tree walk's bit for bit.
struct FlatForest: Sendable {
    let treeCount: Int, splitsPerTree: Int, values: Int
    let featureA: [Int32], featureB: [Int32], thresholds: [Float]
    let leaves: [Float]

    init?(_ trees: [DlibShapePredictor.Tree], values: Int) {
        guard let first = trees.first, first.splits.count > 0, trees.allSatisfy({
            $0.splits.count == first.splits.count && $0.leaves.count == (first.splits.count + 1) * values
        }) else { return nil }
        treeCount = trees.count
        splitsPerTree = first.splits.count
        self.values = values
        let splits = trees.flatMap(\.splits)
        featureA = splits.map { Int32($0.featureA) }
        featureB = splits.map { Int32($0.featureB) }
        thresholds = splits.map(\.threshold)
        leaves = trees.flatMap(\.leaves)
    }

    /// Four trees walk in lockstep (their loads overlap instead of waiting on each other); the
    /// leaves are then added in tree order.
    func addLeaves(for f: UnsafeBufferPointer<Float>, to shape: UnsafeMutableBufferPointer<Float>) {
        let sp = splitsPerTree, n = values, s = shape.baseAddress!
        featureA.withUnsafeBufferPointer { fa in
            featureB.withUnsafeBufferPointer { fb in
                thresholds.withUnsafeBufferPointer { th in
                    leaves.withUnsafeBufferPointer { l in
                        @inline(__always) func step(_ node: Int, _ base: Int) -> Int {
                            let k = base + node
                            return f[Int(fa[k])] - f[Int(fb[k])] > th[k] ? 2 * node + 1 : 2 * node + 2
                        }
                        @inline(__always) func add(_ t: Int, _ node: Int) {
                            let leaf = l.baseAddress! + (t * (sp + 1) + node - sp) * n
                            for j in 0..<n { s[j] += leaf[j] }
                        }
                        var t = 0
                        while t + 4 <= treeCount {
                            var n0 = 0, n1 = 0, n2 = 0, n3 = 0
                            let b0 = t * sp, b1 = b0 + sp, b2 = b1 + sp, b3 = b2 + sp
                            while n0 < sp {              // complete trees of equal depth: all four leave together
                                n0 = step(n0, b0); n1 = step(n1, b1); n2 = step(n2, b2); n3 = step(n3, b3)
                            }
                            add(t, n0); add(t + 1, n1); add(t + 2, n2); add(t + 3, n3)
                            t += 4
                        }
                        while t < treeCount {
                            var node = 0
                            while node < sp { node = step(node, t * sp) }
                            add(t, node)
                            t += 1
                        }
                    }
                }
            }
        }
    }
}

/// Box-normalised (u, v) → image pixel: (left + u·(right − left), top + v·(bottom − top)), rounded
/// half up as dlib rounds points.
struct BoxMapping {
    let left: Double, top: Double, width: Double, height: Double

    init(_ box: DlibRectangle) {
        left = Double(box.left); top = Double(box.top)
        width = Double(box.right) - Double(box.left); height = Double(box.bottom) - Double(box.top)
    }

    func pixel(_ u: Double, _ v: Double) -> DlibPoint {
        DlibPoint(x: Self.round(left + u * width), y: Self.round(top + v * height))
    }

    /// floor(x + 0.5), clamped so that absurd boxes cannot trap the Int conversion.
    static func round(_ x: Double) -> Int {
        let r = (x + 0.5).rounded(.down)
        guard r.isFinite else { return Int.min / 2 }
        return Int(max(-4e18, min(4e18, r)))
    }
}
