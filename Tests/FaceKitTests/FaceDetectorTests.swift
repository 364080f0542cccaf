import CNNRuntime
@testable import FaceKit
import Foundation
import XCTest

/// The MMOD detector against dlib's own results (reference data made with dlib-bin by
/// scripts/make-reference.sh → .build-reference/dlib/cases.json), and its layout rules.
final class FaceDetectorTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let models = ProcessInfo.processInfo.environment["CNNPIPE_MODELS"] ?? root + "/models"
    static let references = root + "/.build-reference/dlib"
    static let corpus = root + "/../shared/corpus"

    struct Reference: Decodable {
        struct Case: Decodable {
            struct Face: Decodable { let box: [Int]; let confidence: Double }
            let photo: String, image: String, upsample: Int, faces: [Face]
        }
        let detections: [Case]
    }

    private func detector() throws -> FaceDetector {
        let path = Self.models + "/mmod_human_face_detector.dat"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) is missing (scripts/setup-models.sh)") }
        return try FaceDetector(path: path, threads: 2)
    }

    /// The worked example of docs/research/dlib-mmod-detection.md §9 (640×480, 24 levels).
    func testPyramidLayoutOf640x480() {
        let p = TiledPyramid(imageWidth: 640, imageHeight: 480, padding: 10, outerPadding: 11)
        XCTAssertEqual(p.levels.count, 24)
        XCTAssertEqual(p.height, 1782)
        XCTAssertEqual(p.width, 662)
        XCTAssertEqual(p.levels[4], DlibRectangle(left: 11, top: 1541, right: 318, bottom: 1770))
        XCTAssertEqual(p.levels[5], DlibRectangle(left: 395, top: 1580, right: 650, bottom: 1770))
        XCTAssertEqual(p.levels[23], DlibRectangle(left: 643, top: 512, right: 650, bottom: 516))
        // Cell → image, the sample mappings of §9.
        let window = { (c: Int, r: Int) in DlibRectangle(p.toImage(.centered(x: Double(8 * c + 14), y: Double(8 * r + 14), width: 80, height: 80))) }
        XCTAssertEqual(window(10, 10), DlibRectangle(left: 44, top: 44, right: 123, bottom: 123))
        XCTAssertEqual(window(4, 4), DlibRectangle(left: -5, top: -5, right: 75, bottom: 75))
        XCTAssertEqual(window(60, 205), DlibRectangle(left: 150, top: 88, right: 347, bottom: 285))
        XCTAssertEqual(window(70, 120), DlibRectangle(left: -88, top: -169, right: 401, bottom: 320))
    }

    func testScoreMapMappingComesFromTheNetwork() throws {
        let d = try detector()
        XCTAssertEqual(d.stride, 8)
        XCTAssertEqual(d.offset, 14)
        XCTAssertEqual(d.window.width, 80)
    }

    func testDetectionsMatchDlib() throws {
        guard let data = FileManager.default.contents(atPath: Self.references + "/cases.json") else {
            throw XCTSkip("no dlib reference data at \(Self.references) (run scripts/make-reference.sh)")
        }
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        let d = try detector()
        for c in reference.detections {
            let image = try NPY.read(path: Self.references + "/\(c.image).npy")
            guard case .uint8(let rgb) = image.storage, image.shape.count == 3, image.shape[2] == 3 else { return XCTFail(c.image) }
            let found = try d.detect(rgb: rgb, width: image.shape[1], height: image.shape[0], upsample: c.upsample)
            let label = "\(c.photo) upsample \(c.upsample)"
            XCTAssertEqual(found.count, c.faces.count, "\(label): \(found) vs \(c.faces.map(\.box))")
            for want in c.faces {
                let box = DlibRectangle(left: want.box[0], top: want.box[1], right: want.box[2], bottom: want.box[3])
                guard let match = found.max(by: { iou($0.rect, box) < iou($1.rect, box) }) else { continue }
                XCTAssertGreaterThanOrEqual(iou(match.rect, box), 0.9, "\(label): \(match.rect) vs dlib \(box)")
                XCTAssertEqual(match.confidence, want.confidence, accuracy: 0.02, "\(label): \(match.rect)")
                print("dlib parity \(label): \(match.rect) vs \(box), IoU \(iou(match.rect, box)), score \(match.confidence) vs \(want.confidence)")
            }
        }
    }

    private func iou(_ a: DlibRectangle, _ b: DlibRectangle) -> Double {
        let inner = Double(a.intersection(b).area)
        return inner / Double(a.area + b.area - a.intersection(b).area)
    }
}
