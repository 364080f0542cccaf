import CNNRuntime
import FuzzSupport

/// dlib's DNN serialisation (the face detector and face ResNet files): read, import as a graph,
/// prepare a session and run it once on a small image. Seeds: the models folder (scripts/fuzz.sh).
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    TensorLimits.maximumBytes = 64 << 20
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let network = try? DlibImporter.network(bytes: Fuzz.bytes(data, size)),
          let session = try? Session(network.graph, threads: 1),
          let input = try? DlibImporter.inputTensor(rgb: [UInt8](repeating: 90, count: 24 * 20 * 3), width: 24, height: 20) else { return 0 }
    _ = try? session.run([network.inputName: input])
    return 0
}
