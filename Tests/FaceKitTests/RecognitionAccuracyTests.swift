import CNNRuntime
@testable import FaceKit
import Foundation
import FrameModel
import ImageIO
import XCTest

/// Recognition on real photos (../shared/corpus/faces): one-shot-style enrolment of every training
/// photo, then every test face must get its person, faces of people never enrolled must come out
/// unknown at dlib's tolerance 0.6, and the verification ROC over all test pairs is reported.
final class RecognitionAccuracyTests: XCTestCase {
    static let faces = FaceDetectorTests.corpus + "/faces"
    static let tolerance: Float = 0.6

    struct Embedded { let person: String; let file: String; let descriptor: [Float] }

    /// Every photo of `split` (a folder per person, or flat files) → the largest face's descriptor.
    static func embed(_ split: String, finder: FaceFinder, embedder: FaceEmbedder) throws -> [Embedded] {
        let root = faces + "/" + split
        var result: [Embedded] = []
        let fm = FileManager.default
        for entry in try fm.contentsOfDirectory(atPath: root).sorted() {
            var isDir: ObjCBool = false
            fm.fileExists(atPath: root + "/" + entry, isDirectory: &isDir)
            let files = isDir.boolValue ? try fm.contentsOfDirectory(atPath: root + "/" + entry).sorted().map { entry + "/" + $0 } : [entry]
            for file in files {
                let image = try Codec.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: root + "/" + file)))).image.converted(to: .rgb8)
                var found = try finder.find(rgb: image.bytes, width: image.width, height: image.height, upsample: 0)
                if found.isEmpty { found = try finder.find(rgb: image.bytes, width: image.width, height: image.height, upsample: 1) }
                guard let face = found.max(by: { $0.rect.area < $1.rect.area }) else {
                    XCTFail("\(split)/\(file): no face found"); continue
                }
                let d = try embedder.embeddings(rgb: image.bytes, width: image.width, height: image.height, faces: [face.landmarks])[0]
                result.append(Embedded(person: isDir.boolValue ? entry : "unknown", file: file, descriptor: d))
            }
        }
        return result
    }

    static let corpus: (train: [Embedded], test: [Embedded], unknown: [Embedded])? = {
        let models = FaceDetectorTests.models
        guard FileManager.default.fileExists(atPath: models + "/" + FaceEmbedder.modelFile) else { return nil }
        do {
            let finder = try FaceFinder(detectorPath: models + "/" + FaceFinder.detectorFile,
                                        landmarkPath: models + "/" + FaceFinder.landmarkFile, threads: 2)
            let embedder = try FaceEmbedder(modelPath: models + "/" + FaceEmbedder.modelFile, threads: 2)
            return (try embed("train", finder: finder, embedder: embedder), try embed("test", finder: finder, embedder: embedder),
                    try embed("unknown", finder: finder, embedder: embedder))
        } catch {
            XCTFail("\(error)"); return nil
        }
    }()

    private func data() throws -> (train: [Embedded], test: [Embedded], unknown: [Embedded]) {
        guard let c = Self.corpus else { throw XCTSkip("models not fetched (scripts/setup-models.sh)") }
        return c
    }

    /// Nearest enrolled person and the distance.
    private func identify(_ d: [Float], in gallery: [Embedded]) -> (String, Float) {
        let best = gallery.min { FaceEmbedder.distance($0.descriptor, d) < FaceEmbedder.distance($1.descriptor, d) }!
        let distance = FaceEmbedder.distance(best.descriptor, d)
        return (distance <= Self.tolerance ? best.person : "unknown", distance)
    }

    func testEveryTestFaceGetsItsPersonAndStrangersAreUnknown() throws {
        let (train, test, unknown) = try data()
        XCTAssertEqual(Set(train.map(\.person)).count, 10)
        var correct = 0
        for t in test {
            let (name, distance) = identify(t.descriptor, in: train)
            if name == t.person { correct += 1 } else { XCTFail("test/\(t.file): \(name) at \(distance), expected \(t.person)") }
        }
        print("identification: \(correct) of \(test.count) test faces correct (\(train.count) enrolled photos of 10 people)")
        for u in unknown {
            let (name, distance) = identify(u.descriptor, in: train)
            XCTAssertEqual(name, "unknown", "unknown/\(u.file) matched \(name) at \(distance)")
            print("unknown/\(u.file): nearest at \(distance)")
        }
        // One-shot: enrolling a single photo per person (the first) still identifies the test faces.
        let oneShot = Dictionary(grouping: train, by: \.person).compactMap { $0.value.first }
        let oneShotCorrect = test.filter { identify($0.descriptor, in: oneShot).0 == $0.person }.count
        print("one-shot (1 photo per person): \(oneShotCorrect) of \(test.count) correct")
        XCTAssertGreaterThanOrEqual(Double(oneShotCorrect) / Double(test.count), 0.9)
    }

    /// Every pair of test and train faces: same person or not. The equal-error rate and its threshold.
    func testVerificationROC() throws {
        let (train, test, _) = try data()
        let all = train + test
        var same: [Float] = [], different: [Float] = []
        for i in all.indices { for j in all.indices where j > i {
            let d = FaceEmbedder.distance(all[i].descriptor, all[j].descriptor)
            if all[i].person == all[j].person { same.append(d) } else { different.append(d) }
        } }
        // Equal-error rate: the threshold where false accepts and false rejects are closest.
        var best = (threshold: Float(0), falseAccept: 1.0, falseReject: 0.0)
        for t in stride(from: Float(0.2), through: 1.0, by: 0.005) {
            let fr = Double(same.filter { $0 > t }.count) / Double(same.count)
            let fa = Double(different.filter { $0 <= t }.count) / Double(different.count)
            if abs(fa - fr) < abs(best.falseAccept - best.falseReject) { best = (t, fa, fr) }
        }
        let at06 = (fa: Double(different.filter { $0 <= 0.6 }.count) / Double(different.count),
                    fr: Double(same.filter { $0 > 0.6 }.count) / Double(same.count))
        let eer = (best.falseAccept + best.falseReject) / 2
        print(String(format: "verification: %d same-person / %d different-person pairs; farthest same %.3f, closest different %.3f; "
            + "at 0.6: false accept %.4f, false reject %.4f; equal-error rate %.4f at threshold %.3f",
            same.count, different.count, same.max()!, different.min()!, at06.fa, at06.fr, eer, best.threshold))
        XCTAssertLessThan(eer, 0.05)
        XCTAssertLessThan(at06.fa + at06.fr, 0.05)
    }
}
