import CNNRuntime
@testable import FaceKit
import Foundation
import ImageIO
import XCTest

/// Face chips against dlib.get_face_chip on the same photos and landmarks (reference data from
/// scripts/make-reference.sh), and the whole embedding path against dlib's descriptors.
final class FaceAlignerTests: XCTestCase {
    struct Reference: Decodable {
        struct Chip: Decodable {
            let name: String; let photo: String?; let image: String?; let landmarks: [[Int]]?
            let chip: String; let descriptor: String; let photo_descriptor: [Float]?
        }
        let chips: [Chip]
    }

    private func reference() throws -> Reference {
        guard let data = FileManager.default.contents(atPath: FaceDetectorTests.references + "/cases.json") else {
            throw XCTSkip("no dlib reference data (run scripts/make-reference.sh)")
        }
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    func testChipsMatchDlib() throws {
        for c in try reference().chips {
            guard let imageFile = c.image, let landmarks = c.landmarks else { continue }
            let t = try NPY.read(path: FaceDetectorTests.references + "/\(imageFile).npy")
            guard case .uint8(let rgb) = t.storage else { return XCTFail(imageFile) }
            let image = (bytes: rgb, width: t.shape[1], height: t.shape[0])
            let want = try NPY.read(path: FaceDetectorTests.references + "/\(c.chip).npy")
            guard case .uint8(let dlibChip) = want.storage else { return XCTFail(c.chip) }
            let ours = FaceAligner().chip(rgb: image.bytes, width: image.width, height: image.height,
                                          landmarks: landmarks.map { DlibPoint(x: $0[0], y: $0[1]) })
            let diffs = zip(ours, dlibChip).map { abs(Int($0) - Int($1)) }
            XCTAssertEqual(diffs.max(), 0, "\(c.name): our chip differs from dlib.get_face_chip")
            print("chip \(c.name): side \(FaceAligner().chipRectangle(landmarks.map { DlibPoint(x: $0[0], y: $0[1]) }).side), "
                + "\(diffs.filter { $0 > 0 }.count) of \(diffs.count) samples differ, max \(diffs.max() ?? 0)")
        }
    }

    /// Photo → landmarks → chip → descriptor against dlib's compute_face_descriptor(image, shape)
    /// on the same pixels (dlib's own decoding of the photo), batched.
    func testEndToEndDescriptorsMatchDlib() throws {
        let path = FaceDetectorTests.models + "/" + FaceEmbedder.modelFile
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) is missing") }
        let embedder = try FaceEmbedder(modelPath: path, threads: 2)
        var chips: [[UInt8]] = [], wanted: [[Float]] = []
        for c in try reference().chips {
            guard let imageFile = c.image, let landmarks = c.landmarks, let want = c.photo_descriptor else { continue }
            let t = try NPY.read(path: FaceDetectorTests.references + "/\(imageFile).npy")
            guard case .uint8(let rgb) = t.storage else { return XCTFail(imageFile) }
            chips.append(FaceAligner().chip(rgb: rgb, width: t.shape[1], height: t.shape[0],
                                            landmarks: landmarks.map { DlibPoint(x: $0[0], y: $0[1]) }))
            wanted.append(want)
        }
        XCTAssertGreaterThanOrEqual(chips.count, 5)
        let got = try embedder.embeddings(chips: chips)
        let worst = zip(got, wanted).map { zip($0, $1).map { abs($0 - $1) }.max()! }.max()!
        print("end-to-end descriptors vs dlib: \(chips.count) faces, max abs diff \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-3)
        // A batch gives what single runs give, up to float summation order: the GEMM kernels
        // block a batch of N chips differently from one chip, so the last bits may differ.
        let single = try embedder.embeddings(chips: [chips[1]])[0]
        let batchVsSingle = zip(single, got[1]).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(batchVsSingle, 1e-5)
    }
}
