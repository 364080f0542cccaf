import Foundation
import FrameModel
import ImageIO
import XCTest

/// Video through ffmpeg pipes as raw PPM frames: cnnpipe keeps the frames' count and order.
final class VideoPipeTests: XCTestCase {
    private let clip = TestEnv.corpus + "/video/carphone_pristine.mp4"

    private func tool(_ name: String) throws -> String {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init)
        guard let path = dirs.map({ $0 + "/" + name }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("\(name) not installed (scripts/setup.sh installs Debian's ffmpeg)")
        }
        return path
    }

    private func frames(_ data: Data) throws -> [Image] {
        let reader = ImageStreamReader(bytes: [UInt8](data))
        var images: [Image] = []
        while let chunk = try reader.next() { images.append(try Codec.decode(chunk.bytes).image) }
        return images
    }

    private func meanAbs(_ a: Image, _ b: Image) -> Double {
        zip(a.bytes, b.bytes).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.bytes.count)
    }

    func testFFmpegRoundTripKeepsFrameCountAndOrder() throws {
        let ffmpeg = try tool("ffmpeg"), ffprobe = try tool("ffprobe")
        let dir = try TestEnv.tempDir()
        let decode = try runProcess(ffmpeg, ["-v", "error", "-i", clip, "-frames:v", "12", "-f", "image2pipe", "-c:v", "ppm", "-"])
        XCTAssertEqual(decode.status, 0, decode.stderr)
        let resized = try cnnpipe(["run", "-e", "resize width=88", "--format", "ppm"], stdin: decode.stdout)
        XCTAssertEqual(resized.status, 0, resized.stderr)
        let ours = try frames(resized.stdout)
        XCTAssertEqual(ours.count, 12)
        XCTAssertEqual(ours.first?.width, 88)

        // Lossless H.264 in 4:4:4, so each frame comes back within rounding of the colour conversion.
        let out = dir + "/out.mp4"
        let encode = try runProcess(ffmpeg, ["-v", "error", "-f", "image2pipe", "-c:v", "ppm", "-i", "-",
                                             "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", out], stdin: resized.stdout)
        XCTAssertEqual(encode.status, 0, encode.stderr)
        let probe = try runProcess(ffprobe, ["-v", "error", "-count_frames", "-select_streams", "v:0",
                                             "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", out])
        XCTAssertEqual(String(decoding: probe.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), "12")

        let back = try frames(try runProcess(ffmpeg, ["-v", "error", "-i", out, "-f", "image2pipe", "-c:v", "ppm", "-"]).stdout)
        XCTAssertEqual(back.count, 12)
        for (i, frame) in back.enumerated() {
            let distances = ours.map { meanAbs(frame, $0) }
            XCTAssertEqual(distances.indices.min { distances[$0] < distances[$1] }, i, "frame \(i): \(distances)")
            XCTAssertLessThan(distances[i], 2, "frame \(i)")
        }
    }

    func testTruncatedFrameStreamIsAOneLineError() throws {
        let ffmpeg = try tool("ffmpeg")
        let decode = try runProcess(ffmpeg, ["-v", "error", "-i", clip, "-frames:v", "3", "-f", "image2pipe", "-c:v", "ppm", "-"])
        let cut = decode.stdout.prefix(decode.stdout.count - 1000)
        let r = try cnnpipe(["run", "-e", "resize width=88", "--format", "ppm"], stdin: Data(cut))
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(try frames(r.stdout).count, 2, "the complete frames before the cut are written")
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("stdin image 3: PNM: truncated"), r.stderr)
    }
}
