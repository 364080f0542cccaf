@testable import FileHashing
import Foundation
import XCTest

/// The model identity galleries store: known answers (FIPS 180-4 examples), files across the read
/// chunks, and the same text as coreutils' sha256sum, the reference existing galleries were made with.
final class FileSHA256Tests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "file-sha256-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func file(_ name: String, _ bytes: Data) throws -> String {
        let path = folder + "/" + name
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    func testStandardVectors() throws {
        XCTAssertEqual(try FileSHA256.hex(ofFileAt: file("empty", Data())),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(try FileSHA256.hex(ofFileAt: file("abc", Data("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(try FileSHA256.hex(ofFileAt: file("two-blocks", Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(try FileSHA256.hex(ofFileAt: file("million-a", Data(repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Sizes around the 1 MiB read: the digest does not depend on where the reads split the file.
    func testFilesAcrossReadChunksMatchSha256sum() throws {
        let mib = 1 << 20
        for size in [mib - 1, mib, mib + 1, 5 << 19] {
            let path = try file("bytes-\(size)", Data((0..<size).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 8)) }))
            XCTAssertEqual(try FileSHA256.hex(ofFileAt: path), try sha256sum(path), "\(size) bytes")
        }
    }

    /// The face model (when installed, 22 MB): the identity every gallery enrolled with it holds (the
    /// value scripts/setup-models.sh checks the file against).
    func testModelFileIsTheIdentityGalleriesHold() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = root.appendingPathComponent("models/dlib_face_recognition_resnet_model_v1.dat").path
        guard FileManager.default.fileExists(atPath: model) else { throw XCTSkip("no face model in models/ (scripts/setup.sh)") }
        let identity = try FileSHA256.hex(ofFileAt: model)
        XCTAssertEqual(identity, "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30")
        XCTAssertEqual(identity, try sha256sum(model))
    }

    func testMissingFileIsAnErrorNamingIt() {
        XCTAssertThrowsError(try FileSHA256.hex(ofFileAt: folder + "/missing")) { error in
            XCTAssertEqual("\(error)", folder + "/missing: cannot open file")
        }
    }

    func testHexOfDigestBytes() {
        XCTAssertEqual(FileSHA256.hex([0x00, 0x0f, 0xa5, 0xff]), "000fa5ff")
    }

    /// coreutils' sha256sum: the first 64 characters of its line.
    func sha256sum(_ path: String) throws -> String {
        let sum = Process()
        sum.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        sum.arguments = [path]
        let out = Pipe()
        sum.standardOutput = out
        try sum.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sum.waitUntilExit()
        XCTAssertEqual(sum.terminationStatus, 0)
        return String(text.prefix(64))
    }
}
