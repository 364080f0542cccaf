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

    private func photo(_ name: String) throws -> (bytes: [UInt8], width: Int, height: Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: FaceDetectorTests.corpus + "/faces/" + name))
        let image = try Codec.decode([UInt8](data)).image.converted(to: .rgb8)
        return (image.bytes, image.width, image.height)
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

    /// The pyramid made a row at a time (upsampled rows, level chains, small levels kept whole)
    /// is the whole-image rendering, bit for bit.
    func testStreamedPyramidIsTheRenderedOne() throws {
        let image = try photo("group/2008_002470.jpg")
        let mean: [Float] = [122.782, 117.001, 104.298]
        for upsample in [0, 1] {
            var rgb = image.bytes, w = image.width, h = image.height
            for _ in 0..<upsample { (rgb, w, h) = FaceDetector.upsampled(rgb, width: w, height: h) }
            let pyramid = TiledPyramid(imageWidth: w, imageHeight: h, padding: 10, outerPadding: 11)
            let plane = pyramid.width * pyramid.height
            var whole = [Float](repeating: 0, count: 3 * plane), streamed = whole
            whole.withUnsafeMutableBufferPointer { out in rgb.withUnsafeBufferPointer { pyramid.render(rgb: $0, mean: mean, into: out.baseAddress!) } }
            let rows = PyramidRows(rgb: image.bytes, width: image.width, height: image.height, upsample: upsample,
                                   pyramid: pyramid, mean: mean, storedArea: 20_000)
            streamed.withUnsafeMutableBufferPointer { out in
                for y in 0..<pyramid.height { rows.writeNextRow(into: out.baseAddress! + y * pyramid.width, stride: plane) }
            }
            XCTAssertEqual(whole, streamed, "upsample \(upsample)")
        }
    }

    /// Tiles of 8×8 score cells (about 250×250 pixels with the field) against one run: the same
    /// rectangles, and confidences within 1e-5: OpenBLAS blocks a GEMM by its size, so a tile's
    /// sums can round differently in the last bits (seen: up to 5e-7).
    func testTiledDetectionsEqualUntiled() throws {
        let path = try detectorPath()
        let whole = try FaceDetector(path: path, threads: 2, tileCells: 1 << 30)
        let tiled = try FaceDetector(path: path, threads: 2, tileCells: 8)
        var compared = 0
        for (name, upsample) in [("group/2008_002470.jpg", 1), ("group/2007_007763.jpg", 1), ("group/obama_biden_two_people.jpg", 0)] {
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

    /// Each pixel of a photo doubled into 2×2: its copy at detect-size = the photo's long side is
    /// the photo again, exactly, so detect-size must give the photo's detections scaled by 2.
    func testDetectSizeMapsBoxesToTheFullPhoto() throws {
        let finder = try FaceFinder(detectorPath: try detectorPath(), landmarkPath: nil, threads: 2)
        for name in ["group/obama_biden_two_people.jpg", "group/bald_guys.jpg"] {
            let image = try photo(name)
            let doubled = Self.doubled(image)
            let expected = try finder.find(rgb: image.bytes, width: image.width, height: image.height, detectSize: 0)
            let found = try finder.find(rgb: doubled.bytes, width: doubled.width, height: doubled.height,
                                        detectSize: max(image.width, image.height))
            XCTAssertFalse(expected.isEmpty, name)
            XCTAssertEqual(found.map(\.rect), expected.map { r in
                DlibRectangle(left: 2 * r.rect.left, top: 2 * r.rect.top, right: 2 * r.rect.right + 1, bottom: 2 * r.rect.bottom + 1)
            }, name)
            XCTAssertEqual(found.map(\.confidence), expected.map(\.confidence), name)
        }
    }

    /// A face found on a smaller copy is the face found at full resolution, its box within the
    /// detector's own scale jitter (windows come in pyramid steps of 6/5) plus a few pixels.
    func testDetectSizeBoxesAreNearTheFullResolutionBoxes() throws {
        let finder = try FaceFinder(detectorPath: try detectorPath(), landmarkPath: nil, threads: 2)
        let image = try photo("group/bald_guys.jpg")
        let full = try finder.find(rgb: image.bytes, width: image.width, height: image.height, detectSize: 0)
        let small = try finder.find(rgb: image.bytes, width: image.width, height: image.height, detectSize: 1200)
        var matched = 0
        for f in small {
            guard let best = full.max(by: { iou($0.rect, f.rect) < iou($1.rect, f.rect) }), iou(best.rect, f.rect) > 0.5 else { continue }
            matched += 1
            XCTAssertLessThanOrEqual(distance(best.rect, f.rect), 4 + Double(best.rect.width) / 4, "\(f.rect) vs \(best.rect)")
        }
        XCTAssertGreaterThanOrEqual(matched, small.count * 9 / 10)
    }

    static func doubled(_ image: (bytes: [UInt8], width: Int, height: Int)) -> (bytes: [UInt8], width: Int, height: Int) {
        let w = 2 * image.width
        var out = [UInt8](repeating: 0, count: 3 * w * 2 * image.height)
        for y in 0..<2 * image.height {
            for x in 0..<w {
                let s = 3 * ((y / 2) * image.width + x / 2), d = 3 * (y * w + x)
                out[d] = image.bytes[s]; out[d + 1] = image.bytes[s + 1]; out[d + 2] = image.bytes[s + 2]
            }
        }
        return (out, w, 2 * image.height)
    }

    private func iou(_ a: DlibRectangle, _ b: DlibRectangle) -> Double {
        let i = Double(a.intersection(b).area)
        return i / (Double(a.area + b.area) - i)
    }

    private func distance(_ a: DlibRectangle, _ b: DlibRectangle) -> Double {
        Double([abs(a.left - b.left), abs(a.top - b.top), abs(a.right - b.right), abs(a.bottom - b.bottom)].max()!)
    }
}
