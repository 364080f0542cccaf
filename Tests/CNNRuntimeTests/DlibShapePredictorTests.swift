import Foundation
import XCTest
@testable import CNNRuntime

/// The 5-point landmark model (shape_predictor_5_face_landmarks.dat): its structure, malformed
/// files, the similarity fit it relies on, and landmarks against the real dlib.
final class DlibShapePredictorTests: XCTestCase {
    static let file = "shape_predictor_5_face_landmarks.dat"

    private func bytes() throws -> [UInt8] {
        let path = ParityTests.models + "/" + Self.file
        guard let data = FileManager.default.contents(atPath: path) else {
            throw XCTSkip("\(path) is missing (run scripts/setup-models.sh or set CNNPIPE_MODELS)")
        }
        return [UInt8](data)
    }

    /// dlib-format.md §7: 15 cascades × 500 trees of depth 4, 800 feature pixels per cascade.
    func testStructure() throws {
        let p = try DlibShapePredictor(bytes: try bytes())
        XCTAssertEqual(p.landmarkCount, 5)
        XCTAssertEqual(p.cascades.count, 15)
        XCTAssertTrue(p.cascades.allSatisfy { $0.trees.count == 500 && $0.anchors.count == 800 && $0.deltas.count == 800 })
        XCTAssertTrue(p.cascades.allSatisfy { $0.trees.allSatisfy { $0.splits.count == 15 && $0.leaves.count == 16 * 10 } })
        let expected: [Float] = [0.776252, 0.345536, 0.618624, 0.353775, 0.226530, 0.345529, 0.384150, 0.353773, 0.501383, 0.657607]
        for (a, b) in zip(p.initialShape, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testTruncatedAndCorruptedFilesAreErrors() throws {
        let all = try bytes()
        var rng = SystemRandomNumberGenerator()
        var cuts = Array(0..<200) + [all.count - 1]
        for _ in 0..<3 { cuts.append(Int.random(in: 200..<all.count, using: &rng)) }
        for n in cuts {
            XCTAssertThrowsError(try DlibShapePredictor(bytes: Array(all.prefix(n))), "cut at \(n)") {
                XCTAssertTrue("\($0)".contains("byte "), "cut at \(n): \($0)")
            }
        }
        XCTAssertThrowsError(try DlibShapePredictor(bytes: all + [0x30])) {
            XCTAssertEqual("\($0)", "byte \(all.count): 1 unexpected bytes after the shape predictor")
        }
        // Flipped bytes in the header and first trees: an error, or a model that still runs.
        let image = [UInt8](repeating: 90, count: 3 * 64 * 64)
        for _ in 0..<12 {
            var corrupted = all
            corrupted[Int.random(in: 0..<4000, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            if let p = try? DlibShapePredictor(bytes: corrupted) {
                XCTAssertEqual(try p.landmarks(rgb: image, width: 64, height: 64,
                                               box: DlibRectangle(left: 8, top: 8, right: 55, bottom: 55)).count, 5)
            }
        }
    }

    func testSimilarityFitRecoversAKnownTransform() {
        let truth = SimilarityTransform(a: 2 * cos(0.5), b: 2 * sin(0.5), tx: 30, ty: -7)
        let from: [(x: Double, y: Double)] = [(0.1, 0.2), (0.8, 0.25), (0.5, 0.6), (0.3, 0.9), (0.7, 0.75)]
        let to = from.map { truth.apply($0.x, $0.y) }
        let fit = SimilarityTransform.leastSquares(from: from, to: to)
        XCTAssertEqual(fit.a, truth.a, accuracy: 1e-12); XCTAssertEqual(fit.b, truth.b, accuracy: 1e-12)
        XCTAssertEqual(fit.tx, truth.tx, accuracy: 1e-12); XCTAssertEqual(fit.ty, truth.ty, accuracy: 1e-12)
        XCTAssertEqual(fit.scale, 2, accuracy: 1e-12)
        // A mirrored target cannot be fitted by a rotation: the best rotation+scale is weaker.
        let mirrored = from.map { (x: -$0.x, y: $0.y) }
        XCTAssertLessThan(SimilarityTransform.leastSquares(from: from, to: mirrored).scale, 1)
        let same = SimilarityTransform.leastSquares(from: [(1, 1), (1, 1)], to: [(3, 4), (5, 6)])
        XCTAssertEqual(same.apply(1, 1).x, 4); XCTAssertEqual(same.apply(1, 1).y, 5)
    }

    struct Reference: Decodable {
        struct Case: Decodable { let image: String; let box: [Int]; let landmarks: [[Int]] }
        let landmarks: [Case]?
    }

    /// Against dlib.shape_predictor on corpus photos, for detected faces and random boxes (some
    /// overlapping the border). A feature pixel exactly on a rounding boundary can land one pixel
    /// away, so a few landmarks may differ by one pixel; everything else must be identical.
    func testLandmarksMatchDlib() throws {
        let dir = DlibImportTests.references
        guard let data = FileManager.default.contents(atPath: dir + "/cases.json"),
              let cases = try JSONDecoder().decode(Reference.self, from: data).landmarks else {
            throw XCTSkip("no dlib landmark reference data at \(dir) (run scripts/make-reference.sh)")
        }
        let predictor = try DlibShapePredictor(bytes: try bytes())
        var images: [String: Tensor] = [:]
        var identical = 0, offByOne = 0, worse: [String] = []
        for c in cases {
            let image = try images[c.image] ?? NPY.read(path: dir + "/\(c.image).npy")
            images[c.image] = image
            guard case .uint8(let rgb) = image.storage, image.shape.count == 3, image.shape[2] == 3 else {
                return XCTFail("\(c.image): expected rows × columns × 3 uint8")
            }
            let box = DlibRectangle(left: c.box[0], top: c.box[1], right: c.box[2], bottom: c.box[3])
            let got = try predictor.landmarks(rgb: rgb, width: image.shape[1], height: image.shape[0], box: box)
            let want = c.landmarks.map { DlibPoint(x: $0[0], y: $0[1]) }
            let distance = zip(got, want).map { max(abs($0.x - $1.x), abs($0.y - $1.y)) }.max() ?? .max
            if distance == 0 { identical += 1 } else if distance == 1 { offByOne += 1 } else {
                worse.append("\(c.image) \(c.box): \(got) vs dlib \(want)")
            }
        }
        print("dlib landmarks: \(identical) of \(cases.count) identical, \(offByOne) within one pixel")
        XCTAssertEqual(worse, [])
        XCTAssertGreaterThanOrEqual(Double(identical), 0.95 * Double(cases.count))
    }
}
