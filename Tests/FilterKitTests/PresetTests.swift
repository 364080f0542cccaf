import Foundation
import XCTest
@testable import FilterKit

/// Loads the real Basics plugin from the build folder once.
enum Plugins {
    static let buildDir: String = {
        for arg in CommandLine.arguments where arg.hasSuffix(".xctest") {
            return URL(fileURLWithPath: arg).deletingLastPathComponent().path
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/.build/debug"
    }()

    static let stages: [String: StageDefinition] = {
        var loader = PluginLoader()
        try! loader.load(file: buildDir + "/libBasics.so")
        return loader.stages
    }()
}

final class PresetTests: XCTestCase {
    private func graph(_ yaml: String) throws -> Graph {
        try Graph.build(try PresetParser.parse(yaml, file: "test.yaml"), stages: Plugins.stages)
    }

    /// Asserts that the YAML fails with an error at line:column containing `message`.
    private func assertError(_ yaml: String, at place: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try graph(yaml), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("test.yaml:\(place): "), "wrong place: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(message), "wrong message: \(text)", file: file, line: line)
        }
    }

    func testLinearPresetBuildsAChain() throws {
        let g = try graph("""
        description: small and turned
        stages:
          - resize: {width: 64}
          - rotate: {angle: 180}
          - passthrough
          - rotate
        """)
        XCTAssertEqual(g.nodes.map(\.id), ["resize", "rotate", "passthrough", "rotate-2"])
        XCTAssertEqual(g.nodes[0].inputs, [Graph.Connection(node: nil, pad: 0)])
        XCTAssertEqual(g.nodes[1].inputs, [Graph.Connection(node: 0, pad: 0)])
        XCTAssertEqual(g.output, Graph.Connection(node: 3, pad: 0))
        XCTAssertEqual(g.description, "small and turned")
        // Parameters are normalised and defaults filled in, in declaration order.
        XCTAssertEqual(g.nodes[0].values, ["64", "0", "fit", "lanczos3", "true"])
    }

    /// A file named in a preset with a folder part is relative to the preset's folder, so a preset
    /// runs from any folder; --set values, absolute paths and bare names are left as given.
    func testFilePathsInAPresetResolveAgainstItsFolder() throws {
        var preset = try PresetParser.parse("stages:\n  - annotate: {font: fonts/label.ttf}\n  - annotate: {font: /abs/x.ttf}\n"
                                            + "  - annotate: {font: plain.ttf}\n", file: "/presets/here/p.yaml")
        var g = try Graph.build(preset, stages: Plugins.stages)
        let font = Plugins.stages["annotate"]!.params.firstIndex { $0.name == "font" }!
        XCTAssertTrue(Plugins.stages["annotate"]!.params[font].isFilePath)
        XCTAssertEqual(g.nodes.map { $0.values[font] }, ["/presets/here/fonts/label.ttf", "/abs/x.ttf", "plain.ttf"])
        try preset.override("annotate.font=mine/x.ttf")
        g = try Graph.build(preset, stages: Plugins.stages)
        XCTAssertEqual(g.nodes[0].values[font], "mine/x.ttf", "a --set value is the user's, relative to the current folder")
        XCTAssertEqual(Graph.resolvingFilePaths(Located(value: "a/x.jpg:0.5,/b.jpg:0.5", location: SourceLocation(file: "p/s.yaml", line: 3, column: 1))),
                       "p/a/x.jpg:0.5,/b.jpg:0.5")
    }

    func testUnknownStageWithSuggestion() {
        assertError("stages:\n  - resize: {width: 10}\n  - rotte: {angle: 90}\n", at: "3:5", "unknown stage 'rotte' (did you mean 'rotate'?)")
    }

    func testUnknownParameter() {
        assertError("stages:\n  - resize: {widht: 10}\n", at: "2:14", "has no parameter 'widht' (did you mean 'width'?)")
    }

    func testIllTypedAndOutOfRangeValues() {
        assertError("stages:\n  - resize:\n      width: ten\n", at: "3:14", "width must be a whole number")
        assertError("stages:\n  - blend: {opacity: 1.5}\n", at: "2:22", "opacity must be between 0.0 and 1.0")
        assertError("stages:\n  - rotate: {angle: 45}\n", at: "2:21", "angle must be one of 0, 90, 180, 270")
        assertError("stages:\n  - annotate: {labels: maybe}\n", at: "2:24", "labels must be true or false")
    }

    func testMissingAndUnknownInputs() {
        assertError("""
        nodes:
          - id: a
            stage: resize
            params: {width: 10}
          - id: mix
            stage: blend
            inputs: [a]
        """, at: "5:5", "stage blend takes 2 inputs (base, top), got 1")
        assertError("""
        nodes:
          - id: a
            stage: resize
            params: {width: 10}
          - id: b
            stage: rotate
            inputs: [resise]
        """, at: "7:14", "no node 'resise'")
    }

    func testPadMismatch() {
        assertError("""
        nodes:
          - id: a
            stage: passthrough
          - id: b
            stage: rotate
            inputs: a.left
        """, at: "6:13", "has no output pad 'left' (pads: out)")
    }

    func testCycleIsFound() {
        assertError("""
        nodes:
          - id: a
            stage: rotate
            inputs: b
          - id: b
            stage: rotate
            inputs: a
        """, at: "2:5", "cycle")
    }

    func testYAMLSyntaxErrorHasAPlace() {
        XCTAssertThrowsError(try graph("stages:\n  - resize: {width: 10\n")) { error in
            XCTAssertTrue("\(error)".hasPrefix("test.yaml:"), "\(error)")
            XCTAssertTrue("\(error)".contains("YAML"), "\(error)")
        }
    }

    func testBranchAndMergeGraph() throws {
        let g = try graph("""
        nodes:
          - id: small
            stage: resize
            params: {width: 32, height: 32, mode: exact}
            inputs: input
          - id: turned
            stage: rotate
            inputs: small
          - id: mix
            stage: blend
            inputs: [small, turned.out]
        output: mix
        """)
        XCTAssertEqual(g.nodes.map(\.id), ["small", "turned", "mix"])
        XCTAssertEqual(g.nodes[2].inputs, [Graph.Connection(node: 0, pad: 0), Graph.Connection(node: 1, pad: 0)])
    }

    func testSeveralSinksNeedAnOutput() {
        assertError("""
        nodes:
          - {id: a, stage: rotate, inputs: input}
          - {id: b, stage: crop, inputs: input}
        """, at: "1:1", "several nodes end the graph (a, b)")
    }

    func testChainExpressionEqualsLinearPreset() throws {
        let chain = try Graph.build(try ChainExpression.parse("resize width=64 | rotate angle=180 | annotate caption='hello world'"),
                                    stages: Plugins.stages)
        XCTAssertEqual(chain.nodes.map(\.definition.name), ["resize", "rotate", "annotate"])
        XCTAssertEqual(chain.nodes[2].values[6], "hello world")
        XCTAssertThrowsError(try Graph.build(try ChainExpression.parse("resize width=64 | rotate angel=90"), stages: Plugins.stages)) {
            XCTAssertEqual("\($0)", "-e:1:26: stage rotate has no parameter 'angel' (did you mean 'angle'?)")
        }
    }

    func testExtendsAndOverrides() throws {
        let dir = NSTemporaryDirectory() + "cnnpipe-presets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "description: base\nstages:\n  - resize: {width: 100}\n  - rotate: {angle: 90}\n"
            .write(toFile: dir + "/base.yaml", atomically: true, encoding: .utf8)
        try "extends: base.yaml\nset:\n  resize.width: 50\nstages:\n  - crop: {width: 10}\n"
            .write(toFile: dir + "/child.yaml", atomically: true, encoding: .utf8)
        var preset = try PresetParser.load(path: dir + "/child.yaml")
        XCTAssertEqual(preset.description, "base")
        try preset.override("rotate.angle=270")
        let g = try Graph.build(preset, stages: Plugins.stages)
        XCTAssertEqual(g.nodes.map(\.id), ["resize", "rotate", "crop"])
        XCTAssertEqual(g.nodes[0].values[0], "50")
        XCTAssertEqual(g.nodes[1].values[0], "270")
        XCTAssertThrowsError(try preset.override("nosuch.width=1"))
        var bad = preset
        try bad.override("resize.width=-3")
        XCTAssertThrowsError(try Graph.build(bad, stages: Plugins.stages)) {
            XCTAssertTrue("\($0)".hasPrefix("--set: resize: width must be between 0 and 65535"), "\($0)")
        }
    }
}
