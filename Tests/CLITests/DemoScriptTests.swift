import Foundation
import XCTest

/// The README's demo command (samples/demo.sh) runs presets with `--set node.param=value`: every such
/// preset and override must still validate (a renamed node once broke the demo with no test failing).
final class DemoScriptTests: XCTestCase {
    func testEveryPresetTheDemoRunsValidatesWithItsOverrides() throws {
        let script = try String(contentsOfFile: TestEnv.root + "/samples/demo.sh", encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"run run ([a-z0-9][a-z0-9-]*)((?: --set \S+)*)"#)
        let matches = pattern.matches(in: script, range: NSRange(script.startIndex..., in: script))
        XCTAssertGreaterThanOrEqual(matches.count, 6, "the demo's preset runs")
        var overrides = 0
        for m in matches {
            let preset = String(script[Range(m.range(at: 1), in: script)!])
            let sets = String(script[Range(m.range(at: 2), in: script)!]).split(separator: " ").filter { $0 != "--set" }
            overrides += sets.count
            let r = try cnnpipe(["validate", preset] + sets.flatMap { ["--set", String($0)] })
            XCTAssertEqual(r.status, 0, "\(preset) \(sets): \(r.stderr)")
        }
        XCTAssertGreaterThanOrEqual(overrides, 1, "the demo's --set overrides")
    }
}
