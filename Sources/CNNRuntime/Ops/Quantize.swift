import CConvKernels
import Foundation

/// Per-tensor or per-axis quantization parameters, broadcast over a tensor's elements.
struct QuantParams {
    let scales: [Float]
    let zeroPoints: [Int32]
    let axis: Int
    let signed: Bool

    init(scale: Tensor, zeroPoint: Tensor?, axis: Int, rank: Int, op: String) throws {
        scales = scale.floats
        let zp = zeroPoint?.int64s.map { Int32($0) } ?? Array(repeating: 0, count: scales.count)
        zeroPoints = zp.count == scales.count ? zp : Array(repeating: zp.first ?? 0, count: scales.count)
        signed = zeroPoint?.elementType == .int8
        self.axis = scales.count > 1 ? try normalizeAxis(axis, rank: rank, op) : 0
    }

    /// (elements per channel step, channel count) for per-axis parameters over `shape`.
    func layout(_ shape: [Int]) -> (inner: Int, channels: Int) {
        guard scales.count > 1 else { return (shape.reduce(1, *), 1) }
        return (shape[(axis + 1)...].reduce(1, *), shape[axis])
    }
}

/// QuantizeLinear: saturate(round_half_to_even(x / scale) + zero_point) to uint8 or int8.
struct QuantizeKernel: RegisteredKernel {
    static let opTypes = ["QuantizeLinear"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try QuantizeKernel(a) }

    let axis: Int
    init(_ a: AttributeReader) throws {
        axis = try a.int("axis", 1)
        _ = try a.int("saturate", 1)
    }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "QuantizeLinear")
        let q = try QuantParams(scale: try inputs.required(1, "QuantizeLinear"), zeroPoint: inputs.count > 2 ? inputs[2] : nil,
                                axis: axis, rank: x.shape.count, op: "QuantizeLinear")
        if q.scales.count == 1, x.elementType == .float {
            return [Quantization.quantize(x, scale: q.scales[0], zeroPoint: q.zeroPoints[0], signed: q.signed, ctx)]
        }
        let (inner, channels) = q.layout(x.shape)
        let (lo, hi): (Float, Float) = q.signed ? (-128, 127) : (0, 255)
        let v = x.floats
        var out = [Int32](repeating: 0, count: v.count)
        for i in v.indices {
            let c = (i / inner) % channels
            let r = (v[i] / q.scales[c]).rounded(.toNearestOrEven) + Float(q.zeroPoints[c])
            out[i] = Int32(min(max(r, lo), hi))
        }
        return [q.signed ? Tensor(shape: x.shape, storage: .int8(out.map { Int8($0) }))
                         : Tensor(shape: x.shape, storage: .uint8(out.map { UInt8($0) }))]
    }
}

/// DequantizeLinear: (q − zero_point) · scale.
struct DequantizeKernel: RegisteredKernel {
    static let opTypes = ["DequantizeLinear"]
    static func make(_ a: AttributeReader, opset: Int) throws -> Kernel { try DequantizeKernel(a) }

    let axis: Int
    init(_ a: AttributeReader) throws { axis = try a.int("axis", 1) }

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "DequantizeLinear")
        let q = try QuantParams(scale: try inputs.required(1, "DequantizeLinear"), zeroPoint: inputs.count > 2 ? inputs[2] : nil,
                                axis: axis, rank: x.shape.count, op: "DequantizeLinear")
        if q.scales.count == 1, x.elementType == .int8 || x.elementType == .uint8 {
            return [try Quantization.dequantize(x, scale: q.scales[0], zeroPoint: q.zeroPoints[0], ctx)]
        }
        let (inner, channels) = q.layout(x.shape)
        let v = x.int64s
        let out = try ctx.tensor(x.shape)
        let o = out.buffer.pointer
        for i in v.indices {
            let c = (i / inner) % channels
            o[i] = Float(Int32(v[i]) - q.zeroPoints[c]) * q.scales[c]
        }
        return [out]
    }
}

/// A QuantizeLinear → DequantizeLinear pair on float activations, fused: the value rounded to the
/// quantization grid without leaving float (bit-identical to running the two ops).
struct FakeQuantKernel: Kernel {
    let scale: Float, zeroPoint: Float, lo: Float, hi: Float

    func run(_ inputs: [Tensor?], _ ctx: ExecutionContext) throws -> [Tensor] {
        let x = try inputs.required(0, "QDQ")
        let out = try ctx.tensor(x.shape)
        let p = (try x.floatData()), o = out.buffer.pointer
        ctx.parallel(x.count) { r in apply(p + r.lowerBound, o + r.lowerBound, count: r.count) }
        return [out]
    }

    /// o[i] = the grid value of p[i], for i < count (o may be p).
    @inline(__always)
    func apply(_ p: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, count: Int) {
        cp_fake_quant(p, o, count, scale, zeroPoint, lo, hi, DirectConv.isa)
    }
}

/// Per-tensor QuantizeLinear and DequantizeLinear on whole tensors, in the C kernels of
/// elementwise_kernels.c (round half to even by adding 1.5·2²³; the byte is read from the sum's bit
/// pattern, so there is no trapping float→int conversion).
enum Quantization {
    /// saturate(round_half_to_even(x / scale) + zeroPoint) as int8 or uint8.
    static func quantize(_ x: Tensor, scale: Float, zeroPoint: Int32, signed: Bool, _ ctx: ExecutionContext) -> Tensor {
        let n = x.count, p = x.floatBuffer!.pointer
        func fill<T: FixedWidthInteger>(_: T.Type) -> [T] {
            var values = [T](repeating: 0, count: n)
            values.withUnsafeMutableBufferPointer { o in
                let o = o.baseAddress!
                ctx.parallel(n) { r in
                    quantize(p + r.lowerBound, o + r.lowerBound, count: r.count, scale: scale, zeroPoint: zeroPoint)
                }
            }
            return values
        }
        return Tensor(shape: x.shape, storage: signed ? .int8(fill(Int8.self)) : .uint8(fill(UInt8.self)))
    }

    /// o[i] = saturate(round_half_to_even(p[i] / scale) + zeroPoint) for i < count; T is Int8 or UInt8.
    @inline(__always)
    static func quantize<T: FixedWidthInteger>(_ p: UnsafePointer<Float>, _ o: UnsafeMutablePointer<T>, count: Int,
                                               scale: Float, zeroPoint: Int32) {
        if T.self == Int8.self {
            o.withMemoryRebound(to: Int8.self, capacity: count) { cp_quantize_s8(p, $0, count, scale, zeroPoint, DirectConv.isa) }
        } else {
            precondition(T.self == UInt8.self, "quantize writes Int8 or UInt8, not \(T.self)")
            o.withMemoryRebound(to: UInt8.self, capacity: count) { cp_quantize_u8(p, $0, count, scale, zeroPoint, DirectConv.isa) }
        }
    }

    /// (q − zeroPoint) · scale for an int8 or uint8 tensor.
    static func dequantize(_ x: Tensor, scale: Float, zeroPoint: Int32, _ ctx: ExecutionContext) throws -> Tensor {
        let out = try ctx.tensor(x.shape)
        let o = out.buffer.pointer, n = x.count
        switch x.storage {
        case .int8(let v):
            v.withUnsafeBufferPointer { v in
                let v = v.baseAddress!
                ctx.parallel(n) { r in cp_dequantize_s8(v + r.lowerBound, o + r.lowerBound, r.count, scale, zeroPoint, DirectConv.isa) }
            }
        case .uint8(let v):
            v.withUnsafeBufferPointer { v in
                let v = v.baseAddress!
                ctx.parallel(n) { r in cp_dequantize_u8(v + r.lowerBound, o + r.lowerBound, r.count, scale, zeroPoint, DirectConv.isa) }
            }
        default: throw ModelError("DequantizeLinear: \(x.elementType) is not 8-bit")
        }
        return out
    }
}
