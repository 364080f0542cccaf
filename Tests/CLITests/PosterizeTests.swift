import Foundation
import FrameModel
import ImageIO
import XCTest

/// The README's example stage: built, registered, checked against hand-computed levels, and the
/// README's code block is the file itself.
final class PosterizeTests: XCTestCase {
    /// An 8x1 grey ramp: 0, 36, 73, ... 255.
    private let ramp = Image(width: 8, height: 1, format: .rgb8,
                             bytes: (0..<8).flatMap { i in [UInt8](repeating: UInt8(i * 255 / 7), count: 3) })

    private func posterize(_ settings: String) throws -> [UInt8] {
        let r = try cnnpipe(["run", "-e", "posterize " + settings, "--format", "png"], stdin: Data(try Codec.encode(ramp, as: .png)))
        XCTAssertEqual(r.status, 0, r.stderr)
        return try Codec.decode([UInt8](r.stdout)).image.bytes.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
    }

    func testLevelsAreTheReference() throws {
        // Three levels are 0, 127.5 and 255: each ramp value goes to the nearest, or the one below.
        XCTAssertEqual(try posterize("levels=3"), [0, 0, 128, 128, 128, 128, 255, 255])
        XCTAssertEqual(try posterize("levels=3 rounding=down"), [0, 0, 0, 0, 128, 128, 128, 255])
        XCTAssertEqual(try posterize("levels=2 amount=0"), ramp.bytes.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
    }

    func testTheDeclarationIsTheContract() throws {
        let bad = try cnnpipe(["run", "-e", "posterize levels=1"], stdin: Data(try Codec.encode(ramp, as: .png)))
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("levels"), bad.stderr)
        let inspect = String(decoding: try cnnpipe(["inspect", "posterize"]).stdout, as: UTF8.self)
        XCTAssertTrue(inspect.contains("rounding: choice nearest|down = nearest"), inspect)
    }

    func testReadmeShowsTheBuiltFile() throws {
        let readme = try String(contentsOfFile: TestEnv.root + "/README.md", encoding: .utf8)
        let file = try String(contentsOfFile: TestEnv.root + "/Plugins/Basics/Posterize.swift", encoding: .utf8)
        XCTAssertTrue(readme.contains("```swift\n" + file + "```"), "README's Swift plugin example differs from Plugins/Basics/Posterize.swift")
    }
}
