import Foundation
import XCTest
@testable import Gallery

/// Known answers from FIPS 180-4 / NIST examples and (boundary lengths) from sha256sum.
final class SHA256Tests: XCTestCase {
    func hex(_ s: String) -> String { SHA256.hex(SHA256.hash(Data(s.utf8))) }

    func testStandardVectors() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(hex(String(repeating: "a", count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 56-byte padding boundary and the 64-byte block.
    func testPaddingBoundaries() {
        let expected: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
            119: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            120: "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
            128: "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e",
        ]
        for (n, digest) in expected { XCTAssertEqual(hex(String(repeating: "a", count: n)), digest, "length \(n)") }
    }

    /// Fed in pieces of every size, the digest is the same as in one piece.
    func testStreamingInPieces() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = SHA256.hash(bytes)
        for piece in [1, 3, 63, 64, 65, 200] {
            var h = SHA256()
            var i = 0
            while i < bytes.count { h.update(bytes[i..<min(i + piece, bytes.count)]); i += piece }
            XCTAssertEqual(h.finalize(), whole, "pieces of \(piece)")
        }
    }

    func testFileHashMatchesSha256sum() throws {
        let path = NSTemporaryDirectory() + "sha-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // 2.5 MiB: several 1 MiB reads.
        let bytes = Data((0..<(5 << 19)).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 8)) })
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SHA256.hexOfFile(atPath: path), SHA256.hex(SHA256.hash(bytes)))
        let sum = Process()
        sum.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        sum.arguments = [path]
        let out = Pipe()
        sum.standardOutput = out
        guard (try? sum.run()) != nil else { throw XCTSkip("no sha256sum") }
        sum.waitUntilExit()
        let reference = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        XCTAssertEqual(try SHA256.hexOfFile(atPath: path), String(reference))
        XCTAssertThrowsError(try SHA256.hexOfFile(atPath: path + "-missing"))
    }
}
