import Foundation
import FrameModel
import ImageIO
import XCTest

/// stylize temporal=stable on frame streams (real models; skipped without them).
final class StylizeVideoTests: XCTestCase {
    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: TestEnv.root + "/models/multistyle26.onnx") else {
            throw XCTSkip("models not fetched (scripts/setup-models.sh)")
        }
    }

    /// A corpus photo at 128x96, plus uniform noise of ±`noise` levels from a fixed seed.
    private func frame(_ name: String, noise: Int, seed: UInt64) throws -> Image {
        let photo = FloatImage(try Codec.decode([UInt8](read(TestEnv.corpus + "/content/\(name)"))).image.converted(to: .rgbF32))
        let resized = Resampler.resize(photo, width: 128, height: 96, filter: .box)
        var small = Image(width: 128, height: 96, format: .rgbF32, floatSamples: resized.samples).converted(to: .rgb8)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        for i in small.bytes.indices {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            let d = Int(state % UInt64(2 * noise + 1)) - noise
            small.bytes[i] = UInt8(clamping: Int(small.bytes[i]) + d)
        }
        return small
    }

    private func stylise(_ frames: [Image], _ chain: String, threads: Int? = nil) throws -> [Image] {
        let stream = try frames.flatMap { try Codec.encode($0, as: .pnm) }
        let r = try cnnpipe(["run", "-e", chain, "--format", "ppm"] + (threads.map { ["--threads", "\($0)"] } ?? []),
                            stdin: Data(stream))
        XCTAssertEqual(r.status, 0, r.stderr)
        let reader = ImageStreamReader(bytes: [UInt8](r.stdout))
        var out: [Image] = []
        while let chunk = try reader.next() { out.append(try Codec.decode(chunk.bytes).image) }
        XCTAssertEqual(out.count, frames.count)
        return out
    }

    private func meanAbs(_ a: Image, _ b: Image) -> Double {
        zip(a.bytes, b.bytes).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.bytes.count)
    }

    /// Mean absolute difference of consecutive frames, in 8-bit levels.
    private func flicker(_ frames: [Image]) -> Double {
        zip(frames, frames.dropFirst()).map { meanAbs($0, $1) }.reduce(0, +) / Double(frames.count - 1)
    }

    /// `inspect` says that temporal=stable makes the stage see frames one at a time, in order.
    func testInspectSaysWhenTheStageIsStateful() throws {
        let r = try cnnpipe(["inspect", "stylize"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = String(decoding: r.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("stateless (runs in parallel); stateful (frames in order, each starting before the last one ends) unless temporal=off"), text)
    }

    func testStaticClipIsSteadierThanFrameByFrame() throws {
        let clip = try (0..<20).map { try frame("tubingen.jpg", noise: 6, seed: UInt64($0)) }
        let single = try stylise(clip, "stylize style=7")
        let stable = try stylise(clip, "stylize style=7 temporal=stable")
        let (a, b) = (flicker(single), flicker(stable))
        print("static clip: frame-by-frame flicker \(a), stable \(b), ratio \(b / a)")
        XCTAssertLessThanOrEqual(b, 0.2 * a, "frame by frame \(a), stable \(b)")
    }

    func testSceneCutStartsAfresh() throws {
        let clip = try (0..<5).map { try frame("tubingen.jpg", noise: 3, seed: UInt64($0)) }
            + [try frame("golden_gate.jpg", noise: 3, seed: 9)]
        let single = try stylise(clip, "stylize style=7")
        let stable = try stylise(clip, "stylize style=7 temporal=stable")
        let after = meanAbs(stable[5], single[5])
        print("after the cut: stable vs frame-by-frame \(after) levels")
        XCTAssertLessThan(after, 0.5)
        XCTAssertGreaterThan(meanAbs(stable[4], single[4]), after, "before the cut the statistics are smoothed")
    }

    /// temporal=stable starts a frame before the previous one has finished (each network runs on
    /// the statistics of the frame two before), yet what comes out does not depend on timing: one
    /// worker, two, and two again give the same bytes, across a scene cut too.
    func testStableOutputDoesNotDependOnTiming() throws {
        let clip = try (0..<4).map { try frame("tubingen.jpg", noise: 3, seed: UInt64($0)) }
            + (4..<8).map { try frame("golden_gate.jpg", noise: 3, seed: UInt64($0)) }
        let chain = "stylize style=7 temporal=stable"
        let two = try stylise(clip, chain, threads: 2)
        func differing(_ other: [Image]) -> [Int] { two.indices.filter { other[$0].bytes != two[$0].bytes } }
        XCTAssertEqual(differing(try stylise(clip, chain, threads: 2)), [], "frames that differ: two workers, twice")
        XCTAssertEqual(differing(try stylise(clip, chain, threads: 1)), [], "frames that differ: one worker and two")
        // The frame after the cut was run on the statistics of the scene before it, and again on its own.
        let single = try stylise(clip, "stylize style=7", threads: 2)
        XCTAssertLessThan(meanAbs(two[4], single[4]), 0.5, "the cut frame comes out as frame by frame")
    }

    /// stylize-classic temporal=stable on a static clip: each frame starts from the previous result
    /// and pays for departing from it, so the optimisation no longer wanders from frame to frame.
    func testClassicTemporalSteadiesAStaticClip() throws {
        let painting = TestEnv.corpus + "/styles/starry_night.jpg"
        let clip = try (0..<4).map { try frame("tubingen.jpg", noise: 4, seed: UInt64($0)) }
        let chain = "stylize-classic style-image=\(painting) size=64 iterations=30"
        let single = try stylise(clip, chain)
        let stable = try stylise(clip, chain + " temporal=stable")
        let (a, b) = (flicker(single), flicker(stable))
        print("classic, static clip: frame-by-frame flicker \(a), stable \(b), ratio \(b / a)")
        XCTAssertLessThanOrEqual(b, 0.5 * a, "frame by frame \(a), stable \(b)")
    }
}
