import Foundation
import FrameModel
import FuzzSupport
import ImageIO

/// MWG face regions in XMP: read any packet; what is read writes back and reads the same.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    Fuzz.writeSeeds {
        let faces = [Face(box: .init(x: 10, y: 20, width: 30, height: 40), name: "Ann"),
                     Face(box: .init(x: 50, y: 5, width: 12, height: 12), name: nil)]
        let packet = Array("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:dc=\"http://purl.org/dc/elements/1.1/\" dc:format=\"image/jpeg\"/></rdf:RDF></x:xmpmeta>".utf8)
        return ["two-faces.xmp": XMPFaceRegions.write(faces, width: 100, height: 80, into: nil) ?? [],
                "merged.xmp": XMPFaceRegions.write(faces, width: 100, height: 80, into: packet) ?? []]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Fuzz.bytes(data, size)
    let faces = XMPFaceRegions.read(bytes, width: 640, height: 480)
    _ = XMPFaceRegions.hasRegions(bytes)
    // A packet that is not well-formed is left alone (nil); one that is gets the regions written back.
    if let written = XMPFaceRegions.write(faces, width: 640, height: 480, into: bytes) {
        _ = XMPFaceRegions.read(written, width: 640, height: 480)
    }
    return 0
}
