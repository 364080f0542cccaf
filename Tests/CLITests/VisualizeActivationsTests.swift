import Foundation
import FrameModel
import ImageIO
import XCTest

/// `cnnpipe model layers` and the visualize-activations stage end to end (the bundled Magenta predictor
/// and dlib detector; skipped when scripts/setup-models.sh has not run).
final class VisualizeActivationsTests: XCTestCase {
    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: TestEnv.root + "/models/arbitrary_predict.onnx"),
              FileManager.default.fileExists(atPath: TestEnv.root + "/models/mmod_human_face_detector.dat") else {
            throw XCTSkip("models not fetched (scripts/setup-models.sh)")
        }
    }

    private func photo(_ w: Int, _ h: Int) throws -> Data {
        let r = try cnnpipe(["run", "-e", "resize width=\(w) height=\(h) mode=fill", "--format", "png"],
                            stdin: try read(TestEnv.corpus + "/content/tubingen.jpg"))
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    func testModelLayersListsShapesAndFields() throws {
        let r = try cnnpipe(["model", "layers", "mmod_human_face_detector", "--size", "128x160"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = String(decoding: r.stdout, as: UTF8.self)
        // dlib's layers by their readable names; the score map: stride 8, first unit centred at 14 (FaceKit's mapping).
        XCTAssertTrue(out.contains("down1.relu"), out)
        let scores = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("scores ") })
        XCTAssertTrue(scores.contains("[1, 1, 13, 17]"), String(scores))
        XCTAssertTrue(scores.contains("field 189 step 8 start -80"), String(scores))
    }

    func testMapsAndOverlay() throws {
        let input = try photo(160, 120)
        let maps = try cnnpipe(["run", "-e", "visualize-activations layer=Relu6__12:0 mode=maps top=6 cell=48", "--format", "png"], stdin: input)
        XCTAssertEqual(maps.status, 0, maps.stderr)
        let grid = try Codec.decode([UInt8](maps.stdout)).image
        XCTAssertGreaterThanOrEqual(grid.width, 3 * 48)
        let overlay = try cnnpipe(["run", "-e", "visualize-activations layer=Relu6__12:0 mode=overlay", "--format", "png"], stdin: input)
        XCTAssertEqual(overlay.status, 0, overlay.stderr)
        let heat = try Codec.decode([UInt8](overlay.stdout)).image, original = try Codec.decode([UInt8](input)).image
        XCTAssertEqual([heat.width, heat.height], [160, 120])
        // The predictor sees the centred 120x120 square: the side strips stay the photo.
        let rgb = original.converted(to: .rgb8), out = heat.converted(to: .rgb8)
        XCTAssertEqual(out.bytes[(60 * 160 + 5) * 3], rgb.bytes[(60 * 160 + 5) * 3])
        XCTAssertNotEqual(out.bytes[(60 * 160 + 80) * 3 ..< (60 * 160 + 80) * 3 + 3], rgb.bytes[(60 * 160 + 80) * 3 ..< (60 * 160 + 80) * 3 + 3])
    }

    func testTopPatchesEmitsOneSheetAtTheEnd() throws {
        let dir = try TestEnv.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<3 { try photo(96 + 16 * i, 96).write(to: URL(fileURLWithPath: dir + "/p\(i).png")) }
        let r = try cnnpipe(["run", "-e", "top-patches layer=Relu6__12:0 units=4 patch=16",
                             dir, "-o", dir + "/sheet.png"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let sheet = try Codec.decode([UInt8](read(dir + "/sheet.png"))).image
        XCTAssertGreaterThan(sheet.width, 2 * (3 * 16))
    }

    func testUnknownLayerIsOneLineNamingSimilarLayers() throws {
        let r = try cnnpipe(["run", "-e", "visualize-activations model=mmod_human_face_detector layer=down2.rleu", "--format", "png"],
                            stdin: try photo(64, 64))
        XCTAssertNotEqual(r.status, 0)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("layer 'down2.rleu' not found"), r.stderr)
        XCTAssertTrue(r.stderr.contains("similar: down2.relu"), r.stderr)
    }

    /// Maps and overlays are per frame (a frame per worker); only top-patches gathers the stream.
    func testPerFrameModesRunInParallelAndTopPatchesGathersTheStream() throws {
        let perFrame = String(decoding: try cnnpipe(["inspect", "visualize-activations"]).stdout, as: UTF8.self)
        XCTAssertTrue(perFrame.contains("kind: stateless (runs in parallel)"), perFrame)
        let stream = String(decoding: try cnnpipe(["inspect", "top-patches"]).stdout, as: UTF8.self)
        XCTAssertTrue(stream.contains("aggregator (emits at end of stream)"), stream)
    }
}
