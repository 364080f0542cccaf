import Dispatch

/// One node's compiled operation. Created once per model (attributes checked then), run per inference.
protocol Kernel {
    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor]
}

/// What a kernel may use while running.
public final class ExecutionContext: @unchecked Sendable {
    public let pool: BufferPool
    public let threads: Int
    /// Multiply-adds of conv/matmul work done (for GFLOP/s reports).
    public var multiplyAdds: Int = 0
    /// Whole-image statistics to record or replay (tiled inference); nil = compute as usual.
    public var statistics: SpatialStatistics?

    public init(pool: BufferPool = BufferPool(), threads: Int) {
        self.pool = pool
        self.threads = max(1, threads)
    }

    /// A float tensor from the pool; its shape goes through the tensor limit first.
    func tensor(_ shape: [Int]) throws -> Tensor {
        try TensorLimits.elementCount(shape, "tensor")
        return Tensor(uninitialized: shape, pool: pool)
    }

    /// Runs body over 0..<count split into contiguous ranges, one per thread it could get from
    /// the thread lender (up to `threads`; serially when small).
    func parallel(_ count: Int, minimumPerThread: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let wanted = min(threads, max(1, count / max(1, minimumPerThread)))
        if wanted <= 1 { body(0..<count); return }
        ThreadLender.withThreads(upTo: wanted) { parts in
            if parts == 1 { body(0..<count); return }
            let per = (count + parts - 1) / parts
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let lo = min(count, p * per), hi = min(count, lo + per)
                if lo < hi { body(lo..<hi) }
            }
        }
    }
}

/// Reads a node's attributes and remembers which were read, so unknown ones become errors.
final class AttributeReader {
    let node: Node
    private var used = Set<String>()

    init(_ node: Node) { self.node = node }

    func error(_ message: String) -> ModelError {
        ModelError("node '\(node.name)' (\(node.opType)): \(message)")
    }

    private func get(_ name: String) -> Attribute? {
        used.insert(name)
        return node.attributes[name]
    }

    func int(_ name: String, _ fallback: Int) throws -> Int {
        switch get(name) {
        case nil: return fallback
        case .int(let v): return v
        default: throw error("attribute \(name) is not an int")
        }
    }

    func float(_ name: String, _ fallback: Float) throws -> Float {
        switch get(name) {
        case nil: return fallback
        case .float(let v): return v
        case .int(let v): return Float(v)
        default: throw error("attribute \(name) is not a float")
        }
    }

    func string(_ name: String, _ fallback: String) throws -> String {
        switch get(name) {
        case nil: return fallback
        case .string(let v): return v
        default: throw error("attribute \(name) is not a string")
        }
    }

    func ints(_ name: String) throws -> [Int]? {
        switch get(name) {
        case nil: return nil
        case .ints(let v): return v
        case .int(let v): return [v]
        default: throw error("attribute \(name) is not a list of ints")
        }
    }

    func floats(_ name: String) throws -> [Float]? {
        switch get(name) {
        case nil: return nil
        case .floats(let v): return v
        default: throw error("attribute \(name) is not a list of floats")
        }
    }

    func tensor(_ name: String) throws -> Tensor? {
        switch get(name) {
        case nil: return nil
        case .tensor(let t): return t
        default: throw error("attribute \(name) is not a tensor")
        }
    }

    /// Accepts an attribute only with its default value (anything else is unsupported).
    func require(_ name: String, equals expected: Int) throws {
        let v = try int(name, expected)
        if v != expected { throw error("attribute \(name)=\(v) is not supported") }
    }

    /// Throws if the node has attributes the kernel did not read.
    func finish() throws {
        let unknown = Set(node.attributes.keys).subtracting(used)
        if let name = unknown.sorted().first { throw error("attribute '\(name)' is not supported") }
    }
}

extension Array where Element == Tensor? {
    func required(_ i: Int, _ op: String) throws -> Tensor {
        guard i < count, let t = self[i] else { throw ModelError("\(op): missing input \(i)") }
        return t
    }
}

/// Normalises a possibly negative axis.
func normalizeAxis(_ axis: Int, rank: Int, _ op: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    // A scalar has no axis: kernels index the shape with the result.
    guard a >= 0, a < rank else { throw ModelError("\(op): axis \(axis) out of range for rank \(rank)") }
    return a
}
