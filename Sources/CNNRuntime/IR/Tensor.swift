/// Element types the runtime computes with (values are ONNX TensorProto.DataType numbers).
public enum ElementType: Int, Sendable, CustomStringConvertible {
    case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, bool = 9

    public var description: String {
        switch self {
        case .float: "float32"
        case .uint8: "uint8"
        case .int8: "int8"
        case .int32: "int32"
        case .int64: "int64"
        case .bool: "bool"
        }
    }
}

/// A tensor: a shape and its elements in row-major order. Float data lives in a pooled buffer
/// (reused once the last reference is gone); the small integer tensors (shapes, indices,
/// quantized weights) are plain arrays.
public struct Tensor: @unchecked Sendable {
    public enum Storage {
        case float(FloatBuffer)
        case int64([Int64])
        case int32([Int32])
        case int8([Int8])
        case uint8([UInt8])
        case bool([Bool])
    }

    public var shape: [Int]
    public var storage: Storage

    public init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    public var count: Int { shape.reduce(1, *) }

    public var elementType: ElementType {
        switch storage {
        case .float: .float
        case .int64: .int64
        case .int32: .int32
        case .int8: .int8
        case .uint8: .uint8
        case .bool: .bool
        }
    }

    // MARK: construction

    public init(shape: [Int], floats: [Float]) {
        precondition(floats.count == shape.reduce(1, *), "tensor data does not match shape \(shape)")
        let buffer = FloatBuffer(count: floats.count)
        floats.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: floats.count) }
        self.init(shape: shape, storage: .float(buffer))
    }

    /// Uninitialised float tensor from the pool.
    public init(uninitialized shape: [Int], pool: BufferPool? = nil) {
        let n = shape.reduce(1, *)
        self.init(shape: shape, storage: .float(pool?.take(n) ?? FloatBuffer(count: n)))
    }

    public init(shape: [Int], int64s: [Int64]) { self.init(shape: shape, storage: .int64(int64s)) }

    public static func scalar(_ v: Float) -> Tensor { Tensor(shape: [], floats: [v]) }

    // MARK: access

    /// The float buffer; the caller has checked the element type.
    public var buffer: FloatBuffer {
        guard case .float(let b) = storage else { preconditionFailure("not a float tensor") }
        return b
    }

    public var floatBuffer: FloatBuffer? {
        if case .float(let b) = storage { return b }
        return nil
    }

    /// Elements as Float (copies).
    public var floats: [Float] {
        switch storage {
        case .float(let b): Array(UnsafeBufferPointer(start: b.pointer, count: count))
        case .int64(let v): v.map { Float($0) }
        case .int32(let v): v.map { Float($0) }
        case .int8(let v): v.map { Float($0) }
        case .uint8(let v): v.map { Float($0) }
        case .bool(let v): v.map { $0 ? 1 : 0 }
        }
    }

    /// Elements as Int64 (for shapes, axes, indices).
    public var int64s: [Int64] {
        switch storage {
        case .float(let b): UnsafeBufferPointer(start: b.pointer, count: count).map { Int64($0) }
        case .int64(let v): v
        case .int32(let v): v.map { Int64($0) }
        case .int8(let v): v.map { Int64($0) }
        case .uint8(let v): v.map { Int64($0) }
        case .bool(let v): v.map { $0 ? 1 : 0 }
        }
    }

    public var ints: [Int] { int64s.map { Int($0) } }

    /// A copy of the same elements with another shape (no data copy for floats).
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, storage: storage) }
}

/// Float storage with a stable address. Returned to its pool when released.
public final class FloatBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let capacity: Int
    weak var pool: BufferPool?

    public convenience init(count: Int) {
        self.init(pointer: .allocate(capacity: max(1, count)), capacity: max(1, count), pool: nil)
    }

    convenience init(capacity: Int, pool: BufferPool) {
        self.init(pointer: .allocate(capacity: capacity), capacity: capacity, pool: pool)
    }

    init(pointer: UnsafeMutablePointer<Float>, capacity: Int, pool: BufferPool?) {
        self.pointer = pointer
        self.capacity = capacity
        self.pool = pool
    }

    deinit {
        if let pool, pool.give(pointer, capacity: capacity) { return }
        pointer.deallocate()
    }
}

extension Tensor {
    /// The float elements' address, or an error naming the element type found.
    func floatData() throws -> UnsafeMutablePointer<Float> {
        guard case .float(let b) = storage else { throw ModelError("needs a float32 tensor, got \(elementType)") }
        return b.pointer
    }
}
