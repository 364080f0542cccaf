import Foundation
import XCTest

/// Face detection at full resolution on a large photo keeps memory bounded (the tiled, streamed
/// pyramid). Peak RSS is the child's own, read by a python3 parent (RUSAGE_CHILDREN of a process
/// with that one child); not a timing test.
final class LargePhotoTests: XCTestCase {
    /// bald_guys.jpg upscaled to 2400 px wide, at upsample 1: a 4802×3735 level 0 and a pyramid of
    /// about 60 megapixels, which the untiled detector held at ~250 bytes a pixel (~15 GB).
    func testFullResolutionUpsampledDetectionStaysUnderABound() throws {
        let dir = try TestEnv.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let photo = dir + "/large.jpg"
        let made = try runProcess("/usr/bin/env", ["convert", TestEnv.corpus + "/faces/group/bald_guys.jpg", "-resize", "2400x", photo])
        guard made.status == 0 else { throw XCTSkip("ImageMagick convert is not available: \(made.stderr)") }
        let script = """
            import resource, subprocess, sys
            r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)
            sys.stdout.write(r.stdout.decode())
            print("peak-kib", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            sys.exit(r.returncode)
            """
        let r = try runProcess("/usr/bin/env", ["python3", "-c", script, TestEnv.cnnpipe, "faces", "detect",
                                                "--detect-size", "0", "--upsample", "1", photo])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n")
        let peak = try XCTUnwrap(lines.last.flatMap { Int($0.split(separator: " ").last ?? "") })
        XCTAssertGreaterThanOrEqual(lines.count - 1, 20, "faces found")   // 1986 px at upsample 0 finds 21
        XCTAssertLessThan(peak, 1536 * 1024, "peak RSS \(peak / 1024) MiB")
    }
}
