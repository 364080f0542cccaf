/// An undirected graph in the form Chinese whispers reads it: for every node, the list of its
/// neighbours in increasing order (a node joined to itself lists itself), each edge with a weight.
public struct NeighbourGraph: Sendable, Equatable {
    public let nodeCount: Int
    /// Node i's neighbours are `neighbours[offsets[i] ..< offsets[i + 1]]`.
    public let offsets: [Int]
    public let neighbours: [Int32]
    /// One weight per entry of `neighbours`; nil when every edge weighs 1.
    public let weights: [Double]?

    /// A graph of undirected edges (i, j, weight), each pair once; (i, i) joins a node to itself.
    /// As in dlib, the nodes are 0 ... the largest index in an edge.
    public init(edges: [(Int, Int, Double)]) {
        let n = (edges.map { max($0.0, $0.1) }.max() ?? -1) + 1
        precondition(edges.allSatisfy { $0.0 >= 0 && $0.1 >= 0 }, "negative node index")
        // Both directions of every edge, sorted by (node, neighbour) as dlib orders them.
        var directed: [(Int, Int, Double)] = []
        directed.reserveCapacity(edges.count * 2)
        for (i, j, w) in edges {
            directed.append((i, j, w))
            if i != j { directed.append((j, i, w)) }
        }
        directed.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var offsets = [Int](repeating: 0, count: n + 1)
        for e in directed { offsets[e.0 + 1] += 1 }
        for i in 0..<n { offsets[i + 1] += offsets[i] }
        self.init(nodeCount: n, offsets: offsets, neighbours: directed.map { Int32($0.1) },
                  weights: directed.allSatisfy { $0.2 == 1 } ? nil : directed.map(\.2))
    }

    init(nodeCount: Int, offsets: [Int], neighbours: [Int32], weights: [Double]?) {
        self.nodeCount = nodeCount
        self.offsets = offsets
        self.neighbours = neighbours
        self.weights = weights
    }

    public var edgeCount: Int { neighbours.count }

    public func neighbours(of node: Int) -> ArraySlice<Int32> { neighbours[offsets[node] ..< offsets[node + 1]] }
}
