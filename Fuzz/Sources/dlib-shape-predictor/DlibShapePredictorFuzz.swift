import CNNRuntime
import FuzzSupport

/// dlib's shape predictor files: read, then landmarks in a small image.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    Fuzz.writeSeeds { ["five-landmarks-one-cascade": DlibSeeds.shapePredictor(landmarks: 5, cascades: 1),
                       "two-landmarks-three-cascades": DlibSeeds.shapePredictor(landmarks: 2, cascades: 3)] }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let predictor = try? DlibShapePredictor(bytes: Fuzz.bytes(data, size)) else { return 0 }
    let rgb = (0..<(24 * 24 * 3)).map { UInt8($0 % 251) }
    _ = try? predictor.landmarks(rgb: rgb, width: 24, height: 24, box: DlibRectangle(left: 2, top: 3, right: 20, bottom: 22))
    return 0
}
