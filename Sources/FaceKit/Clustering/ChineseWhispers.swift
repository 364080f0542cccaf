/// Chinese whispers graph clustering (Biemann 2006), step for step as dlib's `chinese_whispers`
/// does it, so that with dlib's random numbers it gives dlib's labels:
///
/// every node starts with its own label; then nodeCount × `iterations` times a node is drawn at
/// random (dlib::rand's 64-bit number modulo the node count) and takes the label with the largest
/// total edge weight among its neighbours (itself included when it has a self-edge; on a tie the
/// smallest label; a node without neighbours keeps its label). Finally labels are renumbered 0, 1, …
/// in order of first appearance over the nodes.
public enum ChineseWhispers {
    /// dlib's default number of passes.
    public static let defaultIterations = 100

    /// One label per node, 0 ..< the number of clusters.
    public static func cluster(_ graph: NeighbourGraph, iterations: Int = defaultIterations,
                               random: inout DlibRandom) -> [Int] {
        let n = graph.nodeCount
        guard n > 0 else { return [] }
        var labels = Array(0..<n)
        // Per-step label scores, reset lazily: `stamp[l] == step` marks a label seen in this step.
        var score = [Double](repeating: 0, count: n)
        var stamp = [Int](repeating: -1, count: n)
        var seen: [Int] = []
        let offsets = graph.offsets, neighbours = graph.neighbours, weights = graph.weights
        for step in 0..<(n * iterations) {
            let node = Int(random.next64() % UInt64(n))
            seen.removeAll(keepingCapacity: true)
            for k in offsets[node]..<offsets[node + 1] {
                let label = labels[Int(neighbours[k])]
                if stamp[label] != step { stamp[label] = step; score[label] = 0; seen.append(label) }
                score[label] += weights?[k] ?? 1
            }
            guard var best = seen.first else { continue }
            for label in seen.dropFirst() where score[label] > score[best] || (score[label] == score[best] && label < best) {
                best = label
            }
            labels[node] = best
        }
        return renumberedByFirstAppearance(labels)
    }

    /// dlib's `chinese_whispers(edges, labels)`: its default random generator and 100 passes.
    public static func cluster(_ graph: NeighbourGraph) -> [Int] {
        var random = DlibRandom()
        return cluster(graph, random: &random)
    }

    /// dlib's Python `chinese_whispers_clustering(descriptors, threshold)`: descriptors closer than
    /// `threshold` (0.5 in dlib's face clustering example) are joined, then `cluster`.
    public static func cluster(descriptors: [[Float]], threshold: Float = 0.5) throws -> [Int] {
        cluster(try NeighbourGraph.closerThan(threshold, descriptors: descriptors))
    }

    /// Labels 0, 1, … in order of first appearance.
    public static func renumberedByFirstAppearance(_ labels: [Int]) -> [Int] {
        var map: [Int: Int] = [:]
        return labels.map { l in
            if let m = map[l] { return m }
            map[l] = map.count
            return map.count - 1
        }
    }
}
