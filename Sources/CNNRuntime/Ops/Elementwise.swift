import CConvKernels
import Foundation

// MARK: binary ops with numpy broadcasting

protocol BinaryFloatOp {
    static func apply(_ a: Float, _ b: Float) -> Float
    /// The C kernel (CP_ADD …) that computes `apply` over runs in the CPU's widest lanes, or nil.
    static var vectorKernel: Int32? { get }
}

extension BinaryFloatOp {
    static var vectorKernel: Int32? { nil }
}

/// A binary op that is an ONNX op of its own (BinaryKernel<Op> registers itself under this name).
protocol NamedBinaryOp: BinaryFloatOp {
    static var opType: String { get }
    /// Whether nodes may carry the opset < 7 `broadcast` and `axis` attributes.
    static var hasLegacyBroadcast: Bool { get }
}

extension NamedBinaryOp {
    static var hasLegacyBroadcast: Bool { true }
}

enum AddOp: NamedBinaryOp {
    static let opType = "Add"
    static let vectorKernel: Int32? = Int32(CP_ADD)
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b }
}
enum SubOp: NamedBinaryOp {
    static let opType = "Sub"
    static let vectorKernel: Int32? = Int32(CP_SUB)
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b }
}
enum MulOp: NamedBinaryOp {
    static let opType = "Mul"
    static let vectorKernel: Int32? = Int32(CP_MUL)
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b }
}
enum DivOp: NamedBinaryOp {
    static let opType = "Div"
    static let vectorKernel: Int32? = Int32(CP_DIV)
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b }
}
enum PowOp: NamedBinaryOp {
    static let opType = "Pow"
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { b == 2 ? a * a : (b == 0.5 ? a.squareRoot() : powf(a, b)) }
}
enum PReluOp: NamedBinaryOp {
    static let opType = "PRelu"
    static let hasLegacyBroadcast = false
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < 0 ? a * b : a }
}

/// The broadcast shape of two shapes (numpy rules), or nil when incompatible.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let x = i < r - a.count ? 1 : a[i - (r - a.count)]
        let y = i < r - b.count ? 1 : b[i - (r - b.count)]
        if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
    }
    return out
}

/// Strides of `shape` broadcast to `outShape` (0 along broadcast dimensions).
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let r = outShape.count
    var strides = [Int](repeating: 0, count: r)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let o = i + (r - shape.count)
        strides[o] = shape[i] == 1 ? 0 : s
        s *= shape[i]
    }
    return strides
}

/// Visits an output of `shape` in contiguous inner runs; `body(outOffset, offsets, runLength, innerStrides)`.
/// Dimensions are merged where every operand stays contiguous, so runs are as long as possible.
func forEachRun(shape: [Int], strides: [[Int]], _ body: (Int, [Int], Int, [Int]) -> Void) {
    var dims: [Int] = []
    var st: [[Int]] = Array(repeating: [], count: strides.count)
    for (i, d) in shape.enumerated() where d != 1 {
        if let last = dims.last, strides.indices.allSatisfy({ k in
            let inner = strides[k][i], outer = st[k].last!
            return outer == inner * d
        }) {
            dims[dims.count - 1] = last * d
            for k in strides.indices { st[k][st[k].count - 1] = strides[k][i] }
        } else {
            dims.append(d)
            for k in strides.indices { st[k].append(strides[k][i]) }
        }
    }
    let count = shape.reduce(1, *)
    if count == 0 { return }
    guard let inner = dims.last else { body(0, strides.map { _ in 0 }, 1, strides.map { _ in 0 }); return }
    let innerStrides = st.map { $0.last! }
    let outer = dims.dropLast()
    var index = [Int](repeating: 0, count: outer.count)
    var offsets = [Int](repeating: 0, count: strides.count)
    var out = 0
    while true {
        body(out, offsets, inner, innerStrides)
        out += inner
        var d = outer.count - 1
        while d >= 0 {
            index[d] += 1
            for k in offsets.indices { offsets[k] += st[k][d] }
            if index[d] < outer[outer.index(outer.startIndex, offsetBy: d)] { break }
            for k in offsets.indices { offsets[k] -= st[k][d] * index[d] }
            index[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}

struct BinaryKernel<Op: BinaryFloatOp>: Kernel {
    let name: String
    /// Opset < 7 `axis`: B's dimensions line up with A's starting there.
    var legacyAxis: Int? = nil

    init(name: String) { self.name = name }

    init(name: String, _ a: AttributeReader) throws {
        self.name = name
        _ = try a.int("broadcast", 0)
        legacyAxis = try a.ints("axis")?.first
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        var a = try inputs.required(0, name), b = try inputs.required(1, name)
        if let axis = legacyAxis, b.shape.count < a.shape.count {
            let ax = axis < 0 ? axis + a.shape.count : axis
            b = b.reshaped(b.shape + Array(repeating: 1, count: max(0, a.shape.count - ax - b.shape.count)))
        }
        // PRelu's slope may be one value per channel (axis 1) in older exporters.
        if Op.self == PReluOp.self, broadcastShape(a.shape, b.shape) == nil, b.shape.count == 1, a.shape.count > 1, b.shape[0] == a.shape[1] {
            b = b.reshaped([b.shape[0]] + Array(repeating: 1, count: a.shape.count - 2))
        }
        // Pow: base and exponent may differ in type; the result has the base's type.
        if Op.self == PowOp.self, a.elementType != b.elementType || a.elementType != .float {
            let base = a.elementType
            let r = try BinaryKernel<PowOp>(name: name).run([a.converted(to: .float, pool: ctx.pool), b.converted(to: .float, pool: ctx.pool)], ctx)[0]
            return [base == .float ? r : Tensor(shape: r.shape, storage: .int64(r.floats.map { Int64($0.rounded(.towardZero)) })).converted(to: base)]
        }
        guard let shape = broadcastShape(a.shape, b.shape) else {
            throw ModelError("\(name): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        guard a.elementType == .float, b.elementType == .float else {
            return [try integerBinary(a, b, shape)]
        }
        let out = try ctx.tensor(shape)
        let pa = (try a.floatData()), pb = (try b.floatData()), po = out.buffer.pointer
        if a.shape == b.shape {
            ctx.parallel(out.count) { r in Self.loop(pa + r.lowerBound, 1, pb + r.lowerBound, 1, po + r.lowerBound, r.count) }
            return [out]
        }
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        // Split the outermost dimension across threads when it is large enough.
        let total = out.count
        if total >= 65_536 && shape.count > 1 && shape[0] > 1 {
            let rest = Array(shape.dropFirst()), per = total / shape[0]
            ctx.parallel(shape[0], minimumPerThread: 1) { r in
                for i in r {
                    forEachRun(shape: rest, strides: [Array(sa.dropFirst()), Array(sb.dropFirst())]) { o, offs, n, inner in
                        Self.loop(pa + i * sa[0] + offs[0], inner[0], pb + i * sb[0] + offs[1], inner[1], po + i * per + o, n)
                    }
                }
            }
        } else if total >= 65_536 {
            forEachRun(shape: shape, strides: [sa, sb]) { o, offs, n, inner in
                let a0 = pa + offs[0], b0 = pb + offs[1], o0 = po + o
                ctx.parallel(n) { r in
                    Self.loop(a0 + r.lowerBound * inner[0], inner[0], b0 + r.lowerBound * inner[1], inner[1], o0 + r.lowerBound, r.count)
                }
            }
        } else {
            forEachRun(shape: shape, strides: [sa, sb]) { o, offs, n, inner in
                Self.loop(pa + offs[0], inner[0], pb + offs[1], inner[1], po + o, n)
            }
        }
        return [out]
    }

    /// The inner loop, specialised for the stride patterns so the compiler vectorises it.
    @inline(__always)
    static func loop(_ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                     _ o: UnsafeMutablePointer<Float>, _ n: Int) {
        if let op = Op.vectorKernel, 0...1 ~= sa, 0...1 ~= sb { return cp_binary(op, a, sa, b, sb, o, n, DirectConv.isa) }
        switch (sa, sb) {
        case (1, 1): for i in 0..<n { o[i] = Op.apply(a[i], b[i]) }
        case (0, 1): let x = a[0]; for i in 0..<n { o[i] = Op.apply(x, b[i]) }
        case (1, 0): let y = b[0]; for i in 0..<n { o[i] = Op.apply(a[i], y) }
        case (0, 0): let v = Op.apply(a[0], b[0]); for i in 0..<n { o[i] = v }
        default: for i in 0..<n { o[i] = Op.apply(a[i * sa], b[i * sb]) }
        }
    }

    /// Integer arithmetic (shape computations): small, so a plain loop.
    private func integerBinary(_ a: Tensor, _ b: Tensor, _ shape: [Int]) throws -> Tensor {
        guard a.elementType != .float, b.elementType != .float else {
            throw ModelError("\(name): mixed element types \(a.elementType) and \(b.elementType)")
        }
        let x = a.int64s, y = b.int64s
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        var out = [Int64](repeating: 0, count: shape.reduce(1, *))
        var failed = false
        forEachRun(shape: shape, strides: [sa, sb]) { o, offs, n, inner in
            for i in 0..<n {
                let p = x[offs[0] + i * inner[0]], q = y[offs[1] + i * inner[1]]
                switch Op.self {
                case is AddOp.Type: out[o + i] = p &+ q
                case is SubOp.Type: out[o + i] = p &- q
                case is MulOp.Type: out[o + i] = p &* q
                case is DivOp.Type:
                    if q == 0 { failed = true } else { out[o + i] = p / q }
                default: out[o + i] = Int64(Op.apply(Float(p), Float(q)))
                }
            }
        }
        if failed { throw ModelError("\(name): integer division by zero") }
        return Tensor(shape: shape, storage: .int64(out)).converted(to: a.elementType)
    }
}

extension BinaryKernel: RegisteredKernel where Op: NamedBinaryOp {
    static var opTypes: [String] { [Op.opType] }
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel {
        Op.hasLegacyBroadcast ? try BinaryKernel(name: Op.opType, a) : BinaryKernel(name: Op.opType)
    }
}

// MARK: unary ops

/// An attribute-free ONNX op applied to every element; UnaryKernel<Op> registers itself under `opType`.
protocol UnaryFloatOp {
    static var opType: String { get }
    static func apply(_ x: Float) -> Float
}
enum ReluOp: VectorizedUnaryOp {
    static let opType = "Relu"
    @inline(__always) static func apply(_ x: Float) -> Float { max(x, 0) }
    static func apply(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        cp_relu(x, out, count, DirectConv.isa)
    }
}
enum SigmoidOp: VectorizedUnaryOp {
    static let opType = "Sigmoid"
    @inline(__always) static func apply(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
    static func apply(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        // 1 / (1 + VectorMath.exp(-x)) in C: on the baseline target Swift's rounding in exp is a libm call.
        cp_sigmoid(x, out, count, DirectConv.isa)
    }
}
enum TanhOp: UnaryFloatOp {
    static let opType = "Tanh"
    @inline(__always) static func apply(_ x: Float) -> Float { tanhf(x) }
}
enum SqrtOp: UnaryFloatOp {
    static let opType = "Sqrt"
    @inline(__always) static func apply(_ x: Float) -> Float { x.squareRoot() }
}
enum ReciprocalOp: UnaryFloatOp {
    static let opType = "Reciprocal"
    @inline(__always) static func apply(_ x: Float) -> Float { 1 / x }
}
enum NegOp: UnaryFloatOp {
    static let opType = "Neg"
    @inline(__always) static func apply(_ x: Float) -> Float { -x }
}
enum ExpOp: UnaryFloatOp {
    static let opType = "Exp"
    @inline(__always) static func apply(_ x: Float) -> Float { expf(x) }
}
enum AbsOp: UnaryFloatOp {
    static let opType = "Abs"
    @inline(__always) static func apply(_ x: Float) -> Float { abs(x) }
}

struct UnaryKernel<Op: UnaryFloatOp>: RegisteredKernel {
    static var opTypes: [String] { [Op.opType] }
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { UnaryKernel(name: Op.opType) }

    let name: String

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, name)
        guard x.elementType == .float else { throw ModelError("\(name): needs float input, got \(x.elementType)") }
        let out = try ctx.tensor(x.shape)
        let p = (try x.floatData()), o = out.buffer.pointer
        if let vectorized = Op.self as? any VectorizedUnaryOp.Type {
            ctx.parallel(x.count) { r in vectorized.apply(p + r.lowerBound, o + r.lowerBound, count: r.count) }
            return [out]
        }
        ctx.parallel(x.count) { r in
            for i in r { o[i] = Op.apply(p[i]) }
        }
        return [out]
    }
}

/// Clip(min, max) — ReLU6 in MobileNets. Bounds from inputs (opset ≥ 11) or attributes (older).
struct ClipKernel: RegisteredKernel {
    static let opTypes = ["Clip"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try ClipKernel(a) }

    let attributeMin: Float, attributeMax: Float

    init(_ a: AttributeReader) throws {
        attributeMin = try a.float("min", -.greatestFiniteMagnitude)
        attributeMax = try a.float("max", .greatestFiniteMagnitude)
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Clip")
        let lo = inputs.count > 1 ? inputs[1]?.floats.first ?? attributeMin : attributeMin
        let hi = inputs.count > 2 ? inputs[2]?.floats.first ?? attributeMax : attributeMax
        if x.elementType != .float {       // integer tensors: clamp exactly in Int64
            let l = inputs.count > 1 ? inputs[1]?.int64s.first ?? Int64.min : Int64.min
            let h = inputs.count > 2 ? inputs[2]?.int64s.first ?? Int64.max : Int64.max
            return [Tensor(shape: x.shape, storage: .int64(x.int64s.map { min(max($0, l), h) })).converted(to: x.elementType)]
        }
        let out = try ctx.tensor(x.shape)
        let p = (try x.floatData()), o = out.buffer.pointer
        ctx.parallel(x.count) { r in for i in r { o[i] = min(max(p[i], lo), hi) } }
        return [out]
    }
}

struct LeakyReluKernel: RegisteredKernel {
    static let opTypes = ["LeakyRelu"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try LeakyReluKernel(a) }

    let alpha: Float
    init(_ a: AttributeReader) throws { alpha = try a.float("alpha", 0.01) }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "LeakyRelu")
        let out = try ctx.tensor(x.shape)
        let p = (try x.floatData()), o = out.buffer.pointer, k = alpha
        ctx.parallel(x.count) { r in for i in r { o[i] = p[i] < 0 ? p[i] * k : p[i] } }
        return [out]
    }
}

/// Softmax over one axis (opset ≥ 13 semantics; older opsets flatten from the axis, handled by the caller).
struct SoftmaxKernel: RegisteredKernel {
    static let opTypes = ["Softmax"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try SoftmaxKernel(a, opset: opset) }

    let axis: Int
    let flattenFromAxis: Bool     // opset < 13: the input is treated as 2D [outer, inner] from `axis`

    init(_ a: AttributeReader, opset: Int) throws {
        flattenFromAxis = opset < 13
        axis = try a.int("axis", flattenFromAxis ? 1 : -1)
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "Softmax")
        let r = x.shape.count
        let ax = try normalizeAxis(axis, rank: r, "Softmax")
        let (outer, n, inner): (Int, Int, Int)
        if flattenFromAxis {
            (outer, n, inner) = (x.shape[..<ax].reduce(1, *), x.shape[ax...].reduce(1, *), 1)
        } else {
            (outer, n, inner) = (x.shape[..<ax].reduce(1, *), x.shape[ax], x.shape[(ax + 1)...].reduce(1, *))
        }
        let out = try ctx.tensor(x.shape)
        let p = (try x.floatData()), o = out.buffer.pointer
        for b in 0..<outer {
            for j in 0..<inner {
                let base = b * n * inner + j
                var m = -Float.infinity
                for i in 0..<n { m = max(m, p[base + i * inner]) }
                var sum: Float = 0
                for i in 0..<n {
                    let e = expf(p[base + i * inner] - m)
                    o[base + i * inner] = e
                    sum += e
                }
                let inv = 1 / sum
                for i in 0..<n { o[base + i * inner] *= inv }
            }
        }
        return [out]
    }
}
