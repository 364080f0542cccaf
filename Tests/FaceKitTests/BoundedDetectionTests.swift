import CNNRuntime
@testable import FaceKit
import Foundation
import ImageIO
import XCTest

/// Detection with bounded memory: the network run over the pyramid in tiles gives the untiled
/// detections, and detect-size (detection on a smaller copy) maps boxes back to the photo.
final class BoundedDetectionTests: XCTestCase {
    private func detectorPath() throws -> String {
        let path = FaceDetectorTests.models + "/" + FaceFinder.detectorFile
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) is missing (scripts/setup-models.sh)") }
        return path
    }

    private func photo(_ name: String) throws -> Image {
        let data = try Data(contentsOf: URL(fileURLWithPath: FaceDetectorTests.corpus + "/faces/" + name))
        return try Codec.decode([UInt8](data)).image.converted(to: .rgb8)
    }

    func testFootprintIsTheDetectorsReceptiveField() throws {
        let d = try FaceDetector(path: try detectorPath(), threads: 2)
        let f = try XCTUnwrap(d.footprint)
        XCTAssertEqual(f.stride, 8)
        XCTAssertEqual(f.receptiveField, 189)
        XCTAssertEqual((f.low + f.high) / 2, d.offset)
        // Spans cover every cell once, start on the stride and hold the field of their cells.
        let spans = f.spans(input: 1000, cellsPerTile: 7)
        XCTAssertEqual(spans.flatMap { Array($0.cells) }, Array(0..<f.outputLength(1000)))
        for s in spans {
            XCTAssertEqual(s.input.lowerBound % 8, 0)
            if s.input.lowerBound > 0 { XCTAssertLessThanOrEqual(s.input.lowerBound, 8 * s.cells.lowerBound + f.low) }
            if s.input.upperBound < 1000 { XCTAssertGreaterThan(s.input.upperBound, 8 * (s.cells.upperBound - 1) + f.high) }
        }
    }

    /// Tiles of 8×8 score cells (about 250×250 pixels with the field) against one run: the same
    /// rectangles and the same confidences.
    func testTiledDetectionsEqualUntiled() throws {
        let path = try detectorPath()
        let whole = try FaceDetector(path: path, threads: 2, tileCells: 1 << 30)
        let tiled = try FaceDetector(path: path, threads: 2, tileCells: 8)
        var compared = 0
        for (name, upsample) in [("group/2008_002470.jpg", 0), ("group/2007_007763.jpg", 1), ("group/obama_biden_two_people.jpg", 0)] {
            let image = try photo(name)
            let a = try whole.detect(rgb: image.bytes, width: image.width, height: image.height, upsample: upsample)
            let b = try tiled.detect(rgb: image.bytes, width: image.width, height: image.height, upsample: upsample)
            XCTAssertFalse(a.isEmpty, name)
            XCTAssertEqual(a.map(\.rect), b.map(\.rect), name)
            for (x, y) in zip(a, b) { XCTAssertEqual(x.confidence, y.confidence, accuracy: 1e-5, name) }
            compared += a.count
        }
        XCTAssertGreaterThan(compared, 5)
    }

    /// Boxes found on a smaller copy land within a few pixels (of the full-resolution scale) of the
    /// boxes found at full resolution.
    func testDetectSizeMapsBoxesToTheFullPhoto() throws {
        let finder = try FaceFinder(detectorPath: try detectorPath(), landmarkPath: nil, threads: 2)
        for (name, size) in [("group/bald_guys.jpg", 1200), ("group/obama_biden_two_people.jpg", 800)] {
            let image = try photo(name)
            let full = try finder.find(rgb: image.bytes, width: image.width, height: image.height, detectSize: 0)
            let small = try finder.find(rgb: image.bytes, width: image.width, height: image.height, detectSize: size)
            XCTAssertFalse(small.isEmpty, name)
            let scale = Double(max(image.width, image.height)) / Double(size)
            for f in small {
                let best = try XCTUnwrap(full.min { distance($0.rect, f.rect) < distance($1.rect, f.rect) })
                // The detector's own box jitters by about a pyramid step (1/6 of the box) between scales.
                XCTAssertLessThanOrEqual(distance(best.rect, f.rect), max(4 * scale, Double(best.rect.width) / 6), "\(name): \(f.rect) vs \(best.rect)")
            }
        }
    }

    private func distance(_ a: DlibRectangle, _ b: DlibRectangle) -> Double {
        Double([abs(a.left - b.left), abs(a.top - b.top), abs(a.right - b.right), abs(a.bottom - b.bottom)].max()!)
    }
}
