import ActivationKit
import CNNRuntime
import FrameModel
import XCTest

final class TopPatchesTests: XCTestCase {
    /// Vertical edges at known columns among horizontal-edge distractors: unit 0 (the vertical-edge
    /// filter) keeps the vertical edges, each patch centred on its edge, dark left and bright right.
    func testVerticalEdgeUnitKeepsTheVerticalEdgesInTheRightPlaces() throws {
        let model = try ActivationModel(graph: EdgeModel.graph, layer: "relu")
        var top = TopPatches(units: 2, side: 12)
        var edgeColumn: [String: Int] = [:]
        for k in 0..<12 {
            let vertical = k % 2 == 0
            let position = 8 + 4 * k
            let frame = EdgeModel.step(at: vertical ? position : min(40, position), horizontal: !vertical)
            let name = "\(vertical ? "v" : "h")\(k)"
            if vertical { edgeColumn[name] = position }
            try top.add(try model.activations(of: frame, workingSize: 0), frame: frame, source: name)
        }
        XCTAssertEqual(top.framesSeen, 12)
        let unit0 = top.best[0]
        XCTAssertEqual(unit0.count, 9)
        // The six vertical-edge frames come first, at full strength.
        for patch in unit0.prefix(6) {
            let column = try XCTUnwrap(edgeColumn[patch.source], "unit 0 kept \(patch.source), not a vertical edge")
            XCTAssertEqual(patch.rectangle.width, 3)
            XCTAssertEqual(patch.rectangle.x + patch.rectangle.width / 2, Double(column), accuracy: 1)
            // Dark on the left, bright on the right of the stored patch.
            let p = patch.pixels
            XCTAssertLessThan(p.samples[(6 * p.width + 0) * 3], 0.3)
            XCTAssertGreaterThan(p.samples[(6 * p.width + p.width - 1) * 3], 0.7)
        }
        XCTAssertGreaterThan(unit0[5].value, 1)
        XCTAssertEqual(unit0[6].value, 0, "horizontal edges do not excite the vertical unit")
        // Unit 1 keeps the horizontal edges.
        XCTAssertTrue(top.best[1].prefix(6).allSatisfy { $0.source.hasPrefix("h") })
    }

    func testMemoryStaysBoundedOverALongStream() throws {
        let model = try ActivationModel(graph: EdgeModel.graph, layer: "relu")
        var top = TopPatches(units: 2, side: 16, perFrame: 3)
        let bound = 2 * 9 * 16 * 16 * 3
        for k in 0..<400 {
            let frame = EdgeModel.step(at: 4 + k % 56, width: 64, height: 32, horizontal: k % 3 == 0)
            try top.add(try model.activations(of: frame, workingSize: 0), frame: frame, source: "\(k)")
            XCTAssertLessThanOrEqual(top.storedFloats, bound)
        }
        XCTAssertEqual(top.framesSeen, 400)
        XCTAssertEqual(top.storedFloats, bound)
        XCTAssertTrue(top.best.allSatisfy { $0.count == 9 })
        // Best first.
        for list in top.best { XCTAssertEqual(list.map(\.value), list.map(\.value).sorted(by: >)) }
    }

    func testSeveralPlacesPerFrameAreHalfAFieldApart() throws {
        let model = try ActivationModel(graph: EdgeModel.graph, layer: "relu")
        var top = TopPatches(units: 1, side: 8, perFrame: 4)
        let frame = EdgeModel.step(at: 30)
        try top.add(try model.activations(of: frame, workingSize: 0), frame: frame, source: "one")
        let rows = top.best[0].map(\.row)
        XCTAssertEqual(top.best[0].count, 4)
        for (i, a) in rows.enumerated() { for b in rows[(i + 1)...] { XCTAssertGreaterThanOrEqual(abs(a - b), 2) } }
    }

    func testUnknownLayerListsSimilarNames() {
        XCTAssertThrowsError(try ActivationModel(graph: EdgeModel.graph, layer: "edgez")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("layer 'edgez' not found in edges"), text)
            XCTAssertTrue(text.contains("similar: edges"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }

    /// A requested Conv output is its own value even though a Relu follows (no fusion): negatives remain.
    func testIntermediateOutputIsThePreActivationValue() throws {
        let model = try ActivationModel(graph: EdgeModel.graph, layer: "edges")
        var frame = EdgeModel.step(at: 20)
        frame.samples = frame.samples.map { 1 - $0 }     // bright left, dark right: the vertical unit goes negative
        let a = try model.activations(of: frame, workingSize: 0)
        XCTAssertEqual([a.channels, a.height, a.width], [2, 46, 62])
        XCTAssertEqual(a.values[10 * 62 + 18], -0.8 * 4, accuracy: 1e-5)
        XCTAssertEqual(a.values[10 * 62 + 5], 0, accuracy: 1e-5)
    }

    func testFixedSizeModelsSeeACentreCropMappedBackToTheFrame() {
        let view = InputView(frameWidth: 400, frameHeight: 200, fixed: (height: 100, width: 100), workingSize: 0)
        XCTAssertEqual(view.offsetX, 100); XCTAssertEqual(view.offsetY, 0)
        XCTAssertEqual(view.scaleX, 2); XCTAssertEqual(view.scaleY, 2)
        let a = Activations(channels: 1, height: 50, width: 50, values: [], field: .init(y: .init(jump: 2, size: 7, start: -3),
                            x: .init(jump: 2, size: 7, start: -3)), view: view)
        let r = a.frameRectangle(row: 0, column: 10)!
        XCTAssertEqual(r.x, 100 + (20 - 3) * 2); XCTAssertEqual(r.y, -6); XCTAssertEqual(r.width, 14)
        let free = InputView(frameWidth: 800, frameHeight: 600, fixed: nil, workingSize: 400)
        XCTAssertEqual([free.modelWidth, free.modelHeight], [400, 300]); XCTAssertEqual(free.scaleX, 2)
    }
}
