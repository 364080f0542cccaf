import Foundation
import XCTest

/// `--paths-from`: the worker protocol for batch engines (Spark's RDD.pipe, Hadoop Streaming). Paths
/// in, one JSON line per input out, nothing else on stdout, errors as lines, exit 0.
final class BatchModeTests: XCTestCase {
    private let faces = TestEnv.corpus + "/faces"

    private func lines(_ r: ProcessResult) throws -> [[String: Any]] {
        try String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    func testOneLinePerInputAndErrorsDoNotStopTheWorker() throws {
        let dir = try TestEnv.tempDir()
        let broken = dir + "/broken.jpg"
        try read(TestEnv.corpus + "/content/dog.jpg").prefix(4000).write(to: URL(fileURLWithPath: broken))
        let gallery = dir + "/g.db"
        XCTAssertEqual(try cnnpipe(["gallery", "enroll", "--gallery", gallery, "--name", "Barack Obama",
                                    faces + "/train/barack_obama/obama.jpg"]).status, 0)
        let paths = [faces + "/test/barack_obama/obama1.jpg", broken, dir + "/missing.jpg", "", faces + "/noface/eagle.jpg"]
        let r = try cnnpipe(["faces", "identify", "--gallery", gallery, "--paths-from", "-"],
                            stdin: Data(paths.joined(separator: "\n").utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try lines(r)
        XCTAssertEqual(out.map { $0["path"] as? String }, [paths[0], paths[1], paths[2], paths[4]])
        XCTAssertEqual(out.map { $0["status"] as? String }, ["ok", "error", "error", "ok"])
        let face = (out[0]["faces"] as! [[String: Any]])[0]
        XCTAssertEqual(face["name"] as? String, "Barack Obama")
        XCTAssertLessThan(face["distance"] as! Double, 0.6)
        XCTAssertEqual((out[3]["faces"] as! [Any]).count, 0)
        XCTAssertTrue((out[1]["error"] as! String).contains("JPEG"), "\(out[1])")

        // The same from a file, for faces detect.
        let list = dir + "/paths.txt"
        try Data(paths.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: list))
        let d = try cnnpipe(["faces", "detect", "--paths-from", list])
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertEqual(try lines(d).map { $0["status"] as? String }, ["ok", "error", "error", "ok"])
    }

    func testRunAndTagWriteFilesAndReportThem() throws {
        let dir = try TestEnv.tempDir()
        try FileManager.default.copyItem(atPath: faces + "/test/barack_obama/obama1.jpg", toPath: dir + "/a.jpg")
        let refused = try cnnpipe(["run", "-e", "resize width=64", "--paths-from", "-"], stdin: Data((dir + "/a.jpg\n").utf8))
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("-o DIR"), refused.stderr)
        let r = try cnnpipe(["run", "-e", "resize width=64", "--paths-from", "-", "-o", dir + "/out/"],
                            stdin: Data((dir + "/a.jpg\n").utf8))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try lines(r).first?["outputs"] as? [String], [dir + "/out/a.jpg"])

        let tag = try cnnpipe(["faces", "tag", "--sidecar", "--upsample", "0", "--paths-from", "-"], stdin: Data((dir + "/a.jpg\n").utf8))
        XCTAssertEqual(tag.status, 0, tag.stderr)
        XCTAssertEqual(try lines(tag).first?["outputs"] as? [String], [dir + "/a.jpg.xmp"])
        let again = try cnnpipe(["faces", "tag", "--sidecar", "--upsample", "0", "--paths-from", "-"], stdin: Data((dir + "/a.jpg\n").utf8))
        XCTAssertEqual(try lines(again).first?["status"] as? String, "skipped")
    }
}
