import Foundation

/// The one check every shape computed from a model goes through before anything is allocated:
/// dimensions are non-negative, their product does not overflow, and the tensor fits the limit.
/// Kernels compiled with -Ounchecked only ever see shapes that passed here.
public enum TensorLimits {
    /// Largest tensor in bytes. Default: half the machine's memory; `CNNPIPE_MAX_TENSOR_MB` overrides it.
    nonisolated(unsafe) public static var maximumBytes: Int = {
        if let text = ProcessInfo.processInfo.environment["CNNPIPE_MAX_TENSOR_MB"], let mb = Int(text), mb > 0 {
            return mb.multipliedReportingOverflow(by: 1 << 20).overflow ? Int.max : mb << 20
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory / 2)
    }()

    /// Largest value of a spatial attribute (pads, strides, dilations, kernel sizes): far above any
    /// real network, far below where the geometry arithmetic could overflow.
    public static let maximumAttribute = 1 << 24

    /// Element count of `shape`, or an error naming `what` when a dimension is negative, the product
    /// overflows, or the tensor would be larger than `maximumBytes`.
    @discardableResult
    public static func elementCount(_ shape: [Int], elementSize: Int = 4, _ what: @autoclosure () -> String) throws -> Int {
        var count = 1
        for d in shape {
            guard d >= 0 else { throw ModelError("\(what()): negative dimension in shape \(shape)") }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw ModelError("\(what()): shape \(shape) is too large") }
            count = p
        }
        // Zero-sized tensors are fine, whatever the other dimensions.
        if count == 0 { return 0 }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: max(1, elementSize))
        guard !overflow, bytes <= maximumBytes else {
            throw ModelError("\(what()): shape \(shape) needs \(describe(overflow ? nil : bytes)), above the tensor limit of "
                             + "\(describe(maximumBytes)) (CNNPIPE_MAX_TENSOR_MB)")
        }
        return count
    }

    /// A size from a model (shape value, attribute) as Int, refused when beyond `maximumAttribute`.
    static func attribute(_ values: [Int], _ what: @autoclosure () -> String, minimum: Int = 0) throws {
        for v in values where v < minimum || v > maximumAttribute {
            throw ModelError("\(what()) \(values): \(v) is out of range \(minimum)...\(maximumAttribute)")
        }
    }

    private static func describe(_ bytes: Int?) -> String {
        guard let bytes else { return "more than 8 EiB" }
        let mib = Double(bytes) / Double(1 << 20)
        return mib >= 1024 ? String(format: "%.1f GiB", mib / 1024) : String(format: "%.0f MiB", mib)
    }
}

extension ElementType {
    /// Bytes per element as the runtime stores it (Bool arrays take one byte).
    var storageSize: Int {
        switch self {
        case .float, .int32: 4
        case .int64: 8
        case .int8, .uint8, .bool: 1
        }
    }
}
