import Foundation
import FuzzSupport
import Gallery

/// Gallery JSON exports: decode, the import's checks, and for a valid document an exact round trip.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    Fuzz.writeSeeds {
        let date = Date(timeIntervalSince1970: 1_700_000_000.25)
        let vector = (0..<Embedding.dimension).map { Float($0 % 11) / 11 - 0.5 }
        let people = ["Ann", "Bob \"the builder\"", "Zoë"].enumerated().map { i, name in
            GalleryDocument.PersonRecord(name: name, notes: i == 1 ? "line one\nline two" : nil, createdAt: date, updatedAt: date,
                                         embeddings: [.init(source: i == 0 ? nil : "p\(i).jpg", createdAt: date, vector: vector)])
        }
        let doc = GalleryDocument(modelIdentity: String(repeating: "ab", count: 32), people: people, head: nil)
        return ["three-people.json": [UInt8](GalleryJSON.encode(doc)),
                "empty.json": [UInt8](GalleryJSON.encode(GalleryDocument(modelIdentity: "x", people: [], head: nil)))]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size > 0, let data, let doc = try? GalleryJSON.decode(Data(bytes: data, count: size)) else { return 0 }
    // The checks `gallery import` makes before writing anything.
    guard doc.dimension == Embedding.dimension,
          (try? doc.people.forEach { p in
              try Gallery.validateName(p.name)
              for e in p.embeddings { try Embedding.validate(e.vector, p.name) }
          }) != nil,
          (try? doc.head?.head()) != nil || doc.head == nil else { return 0 }
    // What passed the checks is written and read back; after that first normalisation (dates to
    // milliseconds) writing and reading changes nothing.
    let once = try! GalleryJSON.decode(GalleryJSON.encode(doc))
    let twice = try! GalleryJSON.decode(GalleryJSON.encode(once))
    precondition(twice == once, "gallery JSON round trip changed the document")
    return 0
}
