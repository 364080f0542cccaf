import Foundation
import XCTest

/// `cnnpipe model inspect|run|bench` on dlib `.dat` networks (skipped without the models).
final class DlibModelCommandTests: XCTestCase {
    private let models = ProcessInfo.processInfo.environment["CNNPIPE_MODELS"] ?? TestEnv.root + "/models"
    private let references = (ProcessInfo.processInfo.environment["CNNPIPE_REFERENCE"] ?? TestEnv.root + "/.build-reference") + "/dlib"

    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: models + "/dlib_face_recognition_resnet_model_v1.dat") else {
            throw XCTSkip("dlib models not fetched (scripts/setup-models.sh)")
        }
    }

    func testInspectShowsTheFixedInputAndTheDescriptor() throws {
        let r = try cnnpipe(["model", "inspect", "dlib_face_recognition_resnet_model_v1"], environment: ["CNNPIPE_MODELS": models])
        let out = String(decoding: r.stdout, as: UTF8.self)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(out.contains("input  image: float32 [1, 3, 150, 150]"), out)
        XCTAssertTrue(out.contains("output descriptor at 150x150: [1, 128]"), out)
        XCTAssertTrue(out.contains("ZeroPaddedAdd 14"), out)
        let detector = try cnnpipe(["model", "inspect", models + "/mmod_human_face_detector.dat", "--size", "240x320"])
        XCTAssertEqual(detector.status, 0, detector.stderr)
        XCTAssertTrue(String(decoding: detector.stdout, as: UTF8.self).contains("output scores at 240x320: [1, 1, 27, 37]"))
    }

    /// An aligned chip PNG from dlib → the descriptor dlib computed for it.
    func testRunOnAChipGivesDlibsDescriptor() throws {
        let chip = references + "/train-barack_obama-obama-chip.png"
        let expected = references + "/train-barack_obama-obama-descriptor.npy"
        guard FileManager.default.fileExists(atPath: chip) else { throw XCTSkip("no dlib reference data (scripts/make-reference.sh)") }
        let dir = try TestEnv.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try cnnpipe(["model", "run", "dlib_face_recognition_resnet_model_v1", "--input", "image=" + chip, "--output", dir],
                            environment: ["CNNPIPE_MODELS": models])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Both .npy files hold 128 float32 values at their end.
        func values(_ path: String) throws -> [Float] {
            let data = try read(path).suffix(128 * 4)
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let got = try values(dir + "/descriptor.npy"), want = try values(expected)
        XCTAssertLessThanOrEqual(zip(got, want).map { abs($0 - $1) }.max() ?? 1, 1e-4)
    }

    func testTruncatedFileIsAOneLineErrorNamingIt() throws {
        let dir = try TestEnv.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/cut.dat"
        try read(models + "/mmod_human_face_detector.dat").prefix(100_000).write(to: URL(fileURLWithPath: path))
        let r = try cnnpipe(["model", "bench", path])
        XCTAssertEqual(r.status, 1)
        let message = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(message.contains("\n"), message)
        XCTAssertTrue(message.contains(path + ": layer ") && message.contains("truncated"), message)
    }
}
