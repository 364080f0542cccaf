import Foundation

/// Moves elements of any type: the shape ops work on every element type through these.
extension Tensor {
    /// Builds a tensor of the same element type from gathered indices into this one.
    func gathered(_ shape: [Int], _ indices: [Int], pool: BufferPool) -> Tensor {
        switch storage {
        case .float(let b):
            let out = Tensor(uninitialized: shape, pool: pool)
            let o = out.buffer.pointer, p = b.pointer
            for (i, j) in indices.enumerated() { o[i] = p[j] }
            return out
        case .int64(let v): return Tensor(shape: shape, storage: .int64(indices.map { v[$0] }))
        case .int32(let v): return Tensor(shape: shape, storage: .int32(indices.map { v[$0] }))
        case .int8(let v): return Tensor(shape: shape, storage: .int8(indices.map { v[$0] }))
        case .uint8(let v): return Tensor(shape: shape, storage: .uint8(indices.map { v[$0] }))
        case .bool(let v): return Tensor(shape: shape, storage: .bool(indices.map { v[$0] }))
        }
    }

    /// For an int8 or uint8 tensor (a QDQ model's quantised maps): a tensor of the same type and `shape`
    /// whose bytes `move` writes from this one's — moving values does not care about their sign. nil for
    /// other types and for empty tensors, which take the caller's general path.
    func movingBytes(to shape: [Int], _ move: (UnsafePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> Void) -> Tensor? {
        let n = shape.reduce(1, *)
        guard n > 0, count > 0 else { return nil }
        func moved<T>(_ values: [T]) -> [T] {
            [T](unsafeUninitializedCapacity: n) { out, initialized in
                values.withUnsafeBytes { source in
                    UnsafeMutableRawBufferPointer(out).withMemoryRebound(to: UInt8.self) { destination in
                        move(source.baseAddress!.assumingMemoryBound(to: UInt8.self), destination.baseAddress!)
                    }
                }
                initialized = n
            }
        }
        switch storage {
        case .int8(let v): return Tensor(shape: shape, storage: .int8(moved(v)))
        case .uint8(let v): return Tensor(shape: shape, storage: .uint8(moved(v)))
        default: return nil
        }
    }
}

struct IdentityKernel: RegisteredKernel {
    static let opTypes = ["Identity"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { IdentityKernel() }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] { [try inputs.required(0, "Identity")] }
}

struct ReshapeKernel: RegisteredKernel {
    static let opTypes = ["Reshape"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ReshapeKernel(a) }

    let allowZero: Bool
    init(_ a: AttributeReader) throws { allowZero = try a.int("allowzero", 0) != 0 }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Reshape")
        var shape = try inputs.required(1, "Reshape").ints
        for i in shape.indices where shape[i] == 0 && !allowZero {
            guard i < x.shape.count else { throw ModelError("Reshape: 0 at position \(i) beyond input rank") }
            shape[i] = x.shape[i]
        }
        return [x.reshaped(try resolveShape(shape, count: x.count, "Reshape", from: x.shape))]
    }
}

/// Replaces one -1 with what makes the element count match.
func resolveShape(_ shape: [Int], count: Int, _ op: String, from: [Int]) throws -> [Int] {
    var s = shape
    guard s.filter({ $0 == -1 }).count <= 1 else { throw ModelError("\(op): cannot reshape \(from) to \(shape)") }
    if let i = s.firstIndex(of: -1) {
        var rest = s
        rest.remove(at: i)
        let known = try TensorLimits.elementCount(rest, op)
        guard known > 0, count % known == 0 else { throw ModelError("\(op): cannot reshape \(from) to \(shape)") }
        s[i] = count / known
    }
    guard try TensorLimits.elementCount(s, op) == count else {
        throw ModelError("\(op): cannot reshape \(from) to \(shape)")
    }
    return s
}

struct FlattenKernel: RegisteredKernel {
    static let opTypes = ["Flatten"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try FlattenKernel(a) }

    let axis: Int
    init(_ a: AttributeReader) throws { axis = try a.int("axis", 1) }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Flatten")
        let ax = axis < 0 ? axis + x.shape.count : axis
        guard ax >= 0, ax <= x.shape.count else { throw ModelError("Flatten: axis \(axis) out of range") }
        return [x.reshaped([x.shape[..<ax].reduce(1, *), x.shape[ax...].reduce(1, *)])]
    }
}

/// Squeeze and Unsqueeze: axes from an attribute (opset < 13) or the second input.
struct SqueezeKernel: RegisteredKernel {
    static let opTypes = ["Squeeze", "Unsqueeze"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try SqueezeKernel(a, unsqueeze: a.node.opType == "Unsqueeze") }

    let unsqueeze: Bool
    let attributeAxes: [Int]?

    init(_ a: AttributeReader, unsqueeze: Bool) throws {
        self.unsqueeze = unsqueeze
        attributeAxes = try a.ints("axes")
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let op = unsqueeze ? "Unsqueeze" : "Squeeze"
        let x = try inputs.required(0, op)
        let axes = attributeAxes ?? (inputs.count > 1 ? inputs[1]?.ints : nil)
        if unsqueeze {
            guard let axes else { throw ModelError("Unsqueeze: no axes") }
            let rank = x.shape.count + axes.count
            let norm = try Set(axes.map { try normalizeAxis($0, rank: rank, op) })
            guard norm.count == axes.count else { throw ModelError("Unsqueeze: repeated axis in \(axes)") }
            var shape: [Int] = [], it = x.shape.makeIterator()
            for i in 0..<rank { shape.append(norm.contains(i) ? 1 : it.next()!) }
            return [x.reshaped(shape)]
        }
        let rank = x.shape.count
        let norm = try Set((axes ?? x.shape.indices.filter { x.shape[$0] == 1 }).map { try normalizeAxis($0, rank: rank, op) })
        for a in norm where x.shape[a] != 1 { throw ModelError("Squeeze: axis \(a) has size \(x.shape[a])") }
        return [x.reshaped(x.shape.indices.filter { !norm.contains($0) }.map { x.shape[$0] })]
    }
}

struct TransposeKernel: RegisteredKernel {
    static let opTypes = ["Transpose"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try TransposeKernel(a) }

    let perm: [Int]?
    init(_ a: AttributeReader) throws { perm = try a.ints("perm") }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Transpose")
        let r = x.shape.count
        let p = perm ?? Array((0..<r).reversed())
        guard p.count == r, Set(p) == Set(0..<r) else { throw ModelError("Transpose: bad perm \(p) for rank \(r)") }
        let outShape = p.map { x.shape[$0] }
        var inStrides = [Int](repeating: 1, count: r)
        for i in stride(from: r - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }
        let strides = p.map { inStrides[$0] }
        // 8-bit activations (a QDQ model's quantised input and output maps) move as bytes in strided runs.
        if let moved = x.movingBytes(to: outShape, { Self.permute($0, $1, outShape, strides) }) { return [moved] }
        guard case .float(let src) = x.storage else {
            var idx: [Int] = []
            idx.reserveCapacity(x.count)
            forEachRun(shape: outShape, strides: [strides]) { _, offs, n, inner in
                for i in 0..<n { idx.append(offs[0] + i * inner[0]) }
            }
            return [x.gathered(outShape, idx, pool: ctx.pool)]
        }
        let out = try ctx.tensor(outShape)
        Self.permute(src.pointer, out.buffer.pointer, outShape, strides)
        return [out]
    }

    /// The output in order, each run gathered from the input at its stride (a plain copy at stride 1).
    private static func permute<T>(_ s: UnsafePointer<T>, _ o: UnsafeMutablePointer<T>, _ outShape: [Int], _ strides: [Int]) {
        forEachRun(shape: outShape, strides: [strides]) { off, offs, n, inner in
            let base = s + offs[0], st = inner[0], dst = o + off
            if st == 1 { dst.update(from: base, count: n) } else { for i in 0..<n { dst[i] = base[i * st] } }
        }
    }
}

struct ConcatKernel: RegisteredKernel {
    static let opTypes = ["Concat"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ConcatKernel(a) }

    let axis: Int
    init(_ a: AttributeReader) throws { axis = try a.int("axis", 0) }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw ModelError("Concat: no inputs") }
        let r = first.shape.count
        let ax = try normalizeAxis(axis, rank: r, "Concat")
        var shape = first.shape
        shape[ax] = 0
        for p in parts {
            guard p.shape.count == r, (0..<r).allSatisfy({ $0 == ax || p.shape[$0] == first.shape[$0] }) else {
                throw ModelError("Concat: shapes \(parts.map(\.shape)) do not match outside axis \(ax)")
            }
            shape[ax] += p.shape[ax]
        }
        try TensorLimits.elementCount(shape, elementSize: 8, "Concat")
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        if first.elementType != .float {
            let all = parts.map(\.int64s)     // small integer tensors: concatenate through Int64
            var values: [Int64] = []
            for o in 0..<outer {
                for (k, p) in parts.enumerated() {
                    let n = p.shape[ax] * inner
                    values += all[k][(o * n)..<(o * n + n)]
                }
            }
            return [Tensor(shape: shape, storage: .int64(values)).converted(to: first.elementType)]
        }
        let out = try ctx.tensor(shape)
        let o = out.buffer.pointer
        var offset = 0
        for oi in 0..<outer {
            for p in parts {
                let n = p.shape[ax] * inner
                guard case .float(let b) = p.storage else { throw ModelError("Concat: mixed element types") }
                (o + offset).update(from: b.pointer + oi * n, count: n)
                offset += n
            }
        }
        return [out]
    }
}

/// Slice (opset ≥ 10: starts/ends/axes/steps as inputs; older: attributes).
struct SliceKernel: RegisteredKernel {
    static let opTypes = ["Slice"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try SliceKernel(a) }

    let attrStarts: [Int]?, attrEnds: [Int]?, attrAxes: [Int]?

    init(_ a: AttributeReader) throws {
        attrStarts = try a.ints("starts")
        attrEnds = try a.ints("ends")
        attrAxes = try a.ints("axes")
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Slice")
        let r = x.shape.count
        guard let starts = attrStarts ?? (inputs.count > 1 ? inputs[1]?.ints : nil),
              let ends = attrEnds ?? (inputs.count > 2 ? inputs[2]?.ints : nil) else { throw ModelError("Slice: no starts/ends") }
        let axes = try (attrAxes ?? (inputs.count > 3 ? inputs[3]?.ints : nil) ?? Array(0..<starts.count))
            .map { try normalizeAxis($0, rank: r, "Slice") }
        let steps = (inputs.count > 4 ? inputs[4]?.ints : nil) ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw ModelError("Slice: \(starts.count) starts, \(ends.count) ends, \(axes.count) axes, \(steps.count) steps")
        }
        var begin = [Int](repeating: 0, count: r), step = [Int](repeating: 1, count: r), shape = x.shape
        for (k, ax) in axes.enumerated() {
            let d = x.shape[ax]
            guard steps[k] != 0 else { throw ModelError("Slice: step 0") }
            // A step longer than the axis takes one element, like a step of exactly its length.
            let s = steps[k] > 0 ? min(steps[k], d + 1) : max(steps[k], -(d + 1))
            var b = starts[k] < 0 ? starts[k] + d : starts[k]
            var e = ends[k] < 0 ? ends[k] + d : ends[k]
            if s > 0 {
                b = min(max(b, 0), d); e = min(max(e, 0), d)
                shape[ax] = max(0, (e - b + s - 1) / s)
            } else {
                b = min(max(b, -1), d - 1); e = min(max(e, -1), d - 1)
                shape[ax] = max(0, (b - e + (-s) - 1) / (-s))
            }
            begin[ax] = b; step[ax] = s
        }
        var inStrides = [Int](repeating: 1, count: r)
        for i in stride(from: r - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }
        let base = zip(begin, inStrides).map { $0 * $1 }.reduce(0, +)
        let strides = zip(step, inStrides).map { $0 * $1 }
        var idx: [Int] = []
        idx.reserveCapacity(shape.reduce(1, *))
        forEachRun(shape: shape, strides: [strides]) { _, offs, n, inner in
            for i in 0..<n { idx.append(base + offs[0] + i * inner[0]) }
        }
        return [x.gathered(shape, idx, pool: ctx.pool)]
    }
}

struct GatherKernel: RegisteredKernel {
    static let opTypes = ["Gather"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try GatherKernel(a) }

    let axis: Int
    init(_ a: AttributeReader) throws { axis = try a.int("axis", 0) }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Gather"), indices = try inputs.required(1, "Gather")
        let r = x.shape.count
        let ax = try normalizeAxis(axis, rank: r, "Gather")
        let d = x.shape[ax]
        let outer = x.shape[..<ax].reduce(1, *), inner = x.shape[(ax + 1)...].reduce(1, *)
        let ids = try indices.ints.map { i -> Int in
            let j = i < 0 ? i + d : i
            guard j >= 0, j < d else { throw ModelError("Gather: index \(i) out of range for size \(d)") }
            return j
        }
        let shape = Array(x.shape[..<ax]) + indices.shape + Array(x.shape[(ax + 1)...])
        try TensorLimits.elementCount(shape, elementSize: 8, "Gather")
        var idx: [Int] = []
        idx.reserveCapacity(outer * ids.count * inner)
        for o in 0..<outer { for j in ids { for i in 0..<inner { idx.append((o * d + j) * inner + i) } } }
        return [x.gathered(shape, idx, pool: ctx.pool)]
    }
}

struct ShapeKernel: RegisteredKernel {
    static let opTypes = ["Shape"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ShapeKernel(a) }

    let start: Int, end: Int?
    init(_ a: AttributeReader) throws {
        start = try a.int("start", 0)
        end = try a.ints("end")?.first
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Shape")
        let r = x.shape.count
        let s = min(max(start < 0 ? start + r : start, 0), r)
        let e = min(max((end ?? r) < 0 ? (end ?? r) + r : (end ?? r), 0), r)
        let dims = s < e ? Array(x.shape[s..<e]) : []
        return [Tensor(shape: [dims.count], int64s: dims.map(Int64.init))]
    }
}

struct ConstantKernel: RegisteredKernel {
    static let opTypes = ["Constant"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ConstantKernel(a) }

    let value: Tensor

    init(_ a: AttributeReader) throws {
        if let t = try a.tensor("value") { value = t }
        else if let f = try a.floats("value_floats") { value = Tensor(shape: [f.count], floats: f) }
        else if let i = try a.ints("value_ints") { value = Tensor(shape: [i.count], int64s: i.map(Int64.init)) }
        else if case .float(let f)? = a.node.attributes["value_float"] { _ = try a.float("value_float", 0); value = .scalar(f) }
        else if case .int(let i)? = a.node.attributes["value_int"] { _ = try a.int("value_int", 0); value = Tensor(shape: [], int64s: [Int64(i)]) }
        else { throw a.error("no value attribute (or an unsupported kind such as sparse or string)") }
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] { [value] }
}

struct ConstantOfShapeKernel: RegisteredKernel {
    static let opTypes = ["ConstantOfShape"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ConstantOfShapeKernel(a) }

    let value: Tensor
    init(_ a: AttributeReader) throws { value = try a.tensor("value") ?? .scalar(0) }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let shape = try inputs.required(0, "ConstantOfShape").ints
        let n = try TensorLimits.elementCount(shape, elementSize: value.elementType.storageSize, "ConstantOfShape")
        switch value.storage {
        case .float:
            let out = try ctx.tensor(shape)
            out.buffer.pointer.update(repeating: value.floats.first ?? 0, count: n)
            return [out]
        case .int64(let v): return [Tensor(shape: shape, storage: .int64(Array(repeating: v.first ?? 0, count: n)))]
        case .int32(let v): return [Tensor(shape: shape, storage: .int32(Array(repeating: v.first ?? 0, count: n)))]
        case .int8(let v): return [Tensor(shape: shape, storage: .int8(Array(repeating: v.first ?? 0, count: n)))]
        case .uint8(let v): return [Tensor(shape: shape, storage: .uint8(Array(repeating: v.first ?? 0, count: n)))]
        case .bool(let v): return [Tensor(shape: shape, storage: .bool(Array(repeating: v.first ?? false, count: n)))]
        }
    }
}

struct CastKernel: RegisteredKernel {
    static let opTypes = ["Cast"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try CastKernel(a) }

    let to: ElementType

    init(_ a: AttributeReader) throws {
        let code = try a.int("to", 1)
        guard let t = ElementType(rawValue: code) else { throw a.error("cast to element type \(code) is not supported") }
        to = t
        _ = try a.int("saturate", 1)
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        [try inputs.required(0, "Cast").converted(to: to, pool: ctx.pool)]
    }
}

extension Tensor {
    /// Element type conversion with ONNX Cast semantics (float → int truncates toward zero).
    func converted(to type: ElementType, pool: BufferPool? = nil) -> Tensor {
        if type == elementType { return self }
        switch type {
        case .float:
            let out = Tensor(uninitialized: shape, pool: pool)
            let f = floats
            f.withUnsafeBufferPointer { out.buffer.pointer.update(from: $0.baseAddress!, count: f.count) }
            return out
        case .int64:
            if case .float = storage { return Tensor(shape: shape, storage: .int64(floats.map { Int64($0.isFinite ? $0 : 0) })) }
            return Tensor(shape: shape, storage: .int64(int64s))
        case .int32:
            if case .float = storage { return Tensor(shape: shape, storage: .int32(floats.map { Int32(clamping: Int64($0.isFinite ? $0 : 0)) })) }
            return Tensor(shape: shape, storage: .int32(int64s.map { Int32(truncatingIfNeeded: $0) }))
        case .int8: return Tensor(shape: shape, storage: .int8(int64s.map { Int8(truncatingIfNeeded: $0) }))
        case .uint8: return Tensor(shape: shape, storage: .uint8(int64s.map { UInt8(truncatingIfNeeded: $0) }))
        case .bool:
            if case .float = storage { return Tensor(shape: shape, storage: .bool(floats.map { $0 != 0 })) }
            return Tensor(shape: shape, storage: .bool(int64s.map { $0 != 0 }))
        }
    }
}
