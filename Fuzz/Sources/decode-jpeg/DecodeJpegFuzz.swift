import FuzzSupport
import ImageIO

/// The jpeg decoder through its C shim (ASan on the shim and the library calls).
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    Fuzz.writeSeeds { try DecodeFuzz.seeds(.jpeg) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    DecodeFuzz.run(Fuzz.bytes(data, size), format: .jpeg)
    return 0
}
