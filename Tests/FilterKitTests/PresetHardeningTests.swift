import Foundation
import XCTest
@testable import FilterKit

/// Hostile and ambiguous presets (issue 15).
final class PresetHardeningTests: XCTestCase {
    /// Nine levels of eight aliases each, used as mapping keys: 8^9 copies once expanded (1.3 KB of text).
    static func anchorBomb(levels: Int = 9) -> String {
        var yaml = "a0: &a0 {x: 1}\n"
        for level in 1...levels {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) {? \(previous) : 1, ? [\(previous), 1] : 2, ? [\(previous), 2] : 3, ? [\(previous), 3] : 4, "
                + "? [\(previous), 4] : 5, ? [\(previous), 5] : 6, ? [\(previous), 6] : 7, ? [\(previous), 7] : 8}\n"
        }
        return yaml + "stages: [passthrough]\n"
    }

    func testAnAnchorBombIsRefusedQuickly() throws {
        let yaml = Self.anchorBomb()
        XCTAssertLessThan(yaml.utf8.count, 4096)
        let done = expectation(description: "parsed")
        DispatchQueue.global().async {
            var message = "accepted"
            do { _ = try PresetParser.parse(yaml, file: "bomb.yaml") } catch { message = "\(error)" }
            XCTAssertTrue(message.hasPrefix("bomb.yaml:") && message.contains("anchor bomb"), message)
            done.fulfill()
        }
        wait(for: [done], timeout: 20)
        // Ordinary anchors still work.
        XCTAssertNoThrow(try PresetParser.parse("stages:\n  - resize: &s {width: 64}\n  - resize: *s\n", file: "ok.yaml"))
    }

    func testAHugePresetIsRefused() {
        let yaml = "description: \"" + String(repeating: "x", count: 2 << 20) + "\"\nstages: [passthrough]\n"
        XCTAssertThrowsError(try PresetParser.parse(yaml, file: "big.yaml")) { XCTAssertTrue("\($0)".contains("larger than"), "\($0)") }
    }

    func testRelativeExtendsResolvesNextToAPresetGivenWithoutADirectory() throws {
        let dir = NSTemporaryDirectory() + "cnnpipe-extends-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "stages: [passthrough]\n".write(toFile: dir + "/base.yaml", atomically: true, encoding: .utf8)
        try "extends: base.yaml\nstages: [passthrough]\n".write(toFile: dir + "/child.yaml", atomically: true, encoding: .utf8)
        let saved = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(dir)
        defer { FileManager.default.changeCurrentDirectoryPath(saved) }
        let preset = try PresetParser.load(path: "child.yaml")
        XCTAssertEqual(preset.nodes.count, 2)
    }

    func testAFileInTheCurrentDirectoryDoesNotShadowABundledPreset() throws {
        let dir = NSTemporaryDirectory() + "cnnpipe-shadow-\(UUID().uuidString)"
        let bundled = dir + "/bundled"
        try FileManager.default.createDirectory(atPath: bundled, withIntermediateDirectories: true)
        try "stages: [passthrough]\n".write(toFile: bundled + "/sketch.yaml", atomically: true, encoding: .utf8)
        try "stages: [passthrough]\n".write(toFile: dir + "/sketch", atomically: true, encoding: .utf8)
        try "stages: [passthrough]\n".write(toFile: dir + "/mine", atomically: true, encoding: .utf8)
        let saved = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(dir)
        defer { FileManager.default.changeCurrentDirectoryPath(saved) }
        let env = CNNPipeEnvironment(environment: ["CNNPIPE_PRESET_PATH": bundled])
        XCTAssertEqual(env.resolvePreset("sketch"), bundled + "/sketch.yaml")
        XCTAssertEqual(env.resolvePreset("./sketch"), "./sketch")
        XCTAssertEqual(env.resolvePreset("mine"), "mine", "a name no bundled preset has falls back to the file")
        XCTAssertNil(env.resolvePreset("missing.yaml"))
    }
}
