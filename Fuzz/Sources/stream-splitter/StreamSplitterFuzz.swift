import FuzzSupport
import ImageIO
import FrameModel

/// The image stream splitter: any bytes split into chunks or fail with an error, never a crash.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    Fuzz.writeSeeds {
        var seeds: [String: [UInt8]] = [:]
        for format in ImageFormat.allCases {
            let image = Image(width: 7, height: 5, format: .rgb8, bytes: (0..<105).map { UInt8($0 * 7 % 256) })
            let one = try Codec.encode(image, as: format)
            seeds["one.\(format.rawValue)"] = one
            seeds["two.\(format.rawValue)"] = one + one
        }
        return seeds
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let reader = ImageStreamReader(bytes: Fuzz.bytes(data, size))
    var chunks = 0
    while chunks < 64, let chunk = try? reader.next() {
        precondition(!chunk.bytes.isEmpty)
        chunks += 1
    }
    return 0
}
