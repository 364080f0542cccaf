import ActivationKit
import Drawing
import FrameModel
import XCTest

final class SheetLayoutTests: XCTestCase {
    private func activations(channels: Int, side: Int) -> Activations {
        var values: [Float] = []
        for c in 0..<channels { values += (0..<(side * side)).map { Float(c) + Float($0 % side) / Float(side) } }
        return Activations(channels: channels, height: side, width: side, values: values, field: nil,
                           view: InputView(frameWidth: side, frameHeight: side, fixed: nil, workingSize: 0))
    }

    func testFeatureMapGridLayoutAndLabels() throws {
        let grid = FeatureMapGrid(cell: 40)
        let l = grid.layout(count: 10, mapWidth: 8, mapHeight: 8)
        XCTAssertEqual([l.columns, l.rows, l.tileWidth, l.tileHeight], [4, 3, 40, 40])
        XCTAssertEqual(l.origin(5, gap: 4).x, 4 + 44)
        XCTAssertEqual(l.origin(5, gap: 4).y, l.titleHeight + 4 + 40 + l.labelHeight + 4)
        let a = activations(channels: 10, side: 8)
        let text = try TextRenderer()
        let image = grid.render(a, channels: Array(0..<10), title: "layer", text: text)
        XCTAssertEqual(image.height, l.height)
        // A tile runs dark to bright left to right (each channel normalised), and its label is drawn below it.
        let o = l.origin(5, gap: 4)
        func luma(_ x: Int, _ y: Int) -> Float { image.samples[(y * image.width + x) * 3 ..< (y * image.width + x) * 3 + 3].reduce(0, +) / 3 }
        XCTAssertLessThan(luma(o.x + 1, o.y + 20), 0.05)
        XCTAssertGreaterThan(luma(o.x + 38, o.y + 20), 0.7)
        let labelBand = (o.y + l.tileHeight)..<(o.y + l.tileHeight + l.labelHeight)
        XCTAssertTrue(labelBand.contains { y in (o.x..<(o.x + l.tileWidth)).contains { luma($0, y) > 0.5 } }, "no label under tile 5")
        // Without labels the band stays background.
        let plain = grid.render(a, channels: Array(0..<10), title: "layer", text: nil)
        XCTAssertFalse(labelBand.contains { y in (o.x..<(o.x + l.tileWidth)).contains { x in plain.samples[(y * plain.width + x) * 3] > 0.5 } })
    }

    func testChannelChoice() throws {
        let a = activations(channels: 6, side: 4)
        XCTAssertEqual(try FeatureMapGrid.channels(a, listed: [], top: 3, limit: 64), [5, 4, 3])
        XCTAssertEqual(try FeatureMapGrid.channels(a, listed: [2, 0], top: 3, limit: 64), [2, 0])
        XCTAssertEqual(try FeatureMapGrid.channels(a, listed: [], top: 0, limit: 4), [0, 1, 2, 3])
        XCTAssertThrowsError(try FeatureMapGrid.channels(a, listed: [9], top: 0, limit: 4)) {
            XCTAssertEqual("\($0)", "channel 9 is out of range: layer has channels 0-5")
        }
    }

    func testPatchSheetIsThreeByThreeBlocksPerUnit() throws {
        let sheet = PatchSheet()
        let l = sheet.layout(units: 9, keep: 9, side: 10)
        XCTAssertEqual([l.blockColumns, l.blockRows, l.perSide, l.blockWidth], [3, 3, 3, 34])
        // Patch 4 of unit 4 is the centre of the centre block.
        let centre = sheet.origin(unit: 4, patch: 4, l), first = sheet.origin(unit: 4, patch: 0, l)
        XCTAssertEqual(centre.x - first.x, 12); XCTAssertEqual(centre.y - first.y, 12)
        XCTAssertEqual(sheet.origin(unit: 1, patch: 0, l).x - sheet.origin(unit: 0, patch: 0, l).x, 34 + 10)
        XCTAssertEqual(sheet.origin(unit: 3, patch: 0, l).y - sheet.origin(unit: 0, patch: 0, l).y, 34 + l.labelHeight + 10)
    }
}
