import CNNRuntime
import Foundation
import FuzzSupport

/// The ONNX importer and session preparation (constant folding runs every kernel whose inputs are
/// known), then one run at a small size: every shape a model computes goes through the tensor limit.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    TensorLimits.maximumBytes = 64 << 20
    Fuzz.writeSeeds { try ONNXSeeds.all().mapValues { [UInt8]($0) } }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size > 0, let data else { return 0 }
    guard let graph = try? ONNXImporter.load(data: Data(bytes: data, count: size)),
          let session = try? Session(graph, threads: 1) else { return 0 }
    var feeds: [String: Tensor] = [:]
    for input in graph.inputs {
        let shape = (input.shape ?? [1, 3, 8, 8]).map { $0 ?? 8 }
        guard let n = try? TensorLimits.elementCount(shape, elementSize: 8, "input"), n <= 1 << 16 else { return 0 }
        switch input.elementType {
        case .int64?: feeds[input.name] = Tensor(shape: shape, int64s: (0..<n).map { Int64($0 % 3) })
        case .float?, nil: feeds[input.name] = Tensor(shape: shape, floats: (0..<n).map { Float($0 % 7) / 7 })
        default: return 0
        }
    }
    _ = try? session.run(feeds)
    return 0
}
