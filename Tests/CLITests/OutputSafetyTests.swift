import Foundation
import FrameModel
import ImageIO
import XCTest

/// Nothing the user had is lost: outputs never replace inputs, special files or earlier results
/// of a failed or interrupted run, and no temp file is left behind.
final class OutputSafetyTests: XCTestCase {
    private func png(_ w: Int, _ h: Int) throws -> Data {
        Data(try Codec.encode(Image(width: w, height: h, format: .rgb8,
                                    bytes: (0..<(w * h * 3)).map { UInt8($0 % 251) }), as: .png))
    }

    private func leftovers(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".cnnpipe-") || $0.contains(".tmp-") }
    }

    func testFailedRunKeepsTheEarlierFile() throws {
        let dir = try TestEnv.tempDir()
        let out = dir + "/out.png"
        try Data("earlier".utf8).write(to: URL(fileURLWithPath: out))
        // A good image followed by garbage in one input: exit 1, and out.png is still the earlier file.
        let r = try cnnpipe(["run", "-e", "passthrough", "-o", out], stdin: try png(8, 8) + Data("garbage!".utf8))
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(try read(out), Data("earlier".utf8))
        XCTAssertEqual(try leftovers(dir), [])
        // A successful run replaces it.
        XCTAssertEqual(try cnnpipe(["run", "-e", "passthrough", "-o", out], stdin: try png(8, 8)).status, 0)
        XCTAssertEqual(try Codec.decode([UInt8](read(out))).image.width, 8)
    }

    func testSpecialFilesAreWrittenThroughAndLinksFollowed() throws {
        let dir = try TestEnv.tempDir()
        // A FIFO stays a FIFO: the images go through it.
        let fifo = dir + "/pipe.png"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        final class Box: @unchecked Sendable { var data = Data() }
        let received = Box()
        let reader = Thread { received.data = FileHandle(forReadingAtPath: fifo)!.readDataToEndOfFile() }
        reader.start()
        XCTAssertEqual(try cnnpipe(["run", "-e", "passthrough", "-o", fifo], stdin: try png(6, 5)).status, 0)
        while !reader.isFinished { usleep(10_000) }
        XCTAssertEqual(try Codec.decode([UInt8](received.data)).image.height, 5)
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "the FIFO was replaced")
        // /dev/null is written to, never replaced (a character device).
        XCTAssertEqual(try cnnpipe(["run", "-e", "passthrough", "-o", "/dev/null"], stdin: try png(4, 4)).status, 0)
        XCTAssertEqual(stat("/dev/null", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR)
        // A symbolic link is followed: its target gets the image, the link stays a link.
        let target = dir + "/target.png", link = dir + "/link.png"
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertEqual(try cnnpipe(["run", "-e", "passthrough", "-o", link], stdin: try png(7, 7)).status, 0)
        XCTAssertEqual(lstat(link, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFLNK)
        XCTAssertEqual(try Codec.decode([UInt8](read(target))).image.width, 7)
        XCTAssertEqual(try leftovers(dir), [])
    }

    func testOutputNeverOverwritesAnInput() throws {
        let dir = try TestEnv.tempDir()
        try png(9, 9).write(to: URL(fileURLWithPath: dir + "/a.png"))
        let before = try read(dir + "/a.png")
        let r = try cnnpipe(["run", "-e", "resize width=4", dir, "-o", dir + "/"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("is one of the inputs"), r.stderr)
        XCTAssertEqual(try read(dir + "/a.png"), before)
        let single = try cnnpipe(["run", "-e", "resize width=4", dir + "/a.png", "-o", dir + "/a.png"])
        XCTAssertNotEqual(single.status, 0)
        XCTAssertEqual(try read(dir + "/a.png"), before)
    }

    func testJSONFileIsWrittenSafely() throws {
        let dir = try TestEnv.tempDir()
        let json = dir + "/meta.jsonl"
        try Data("earlier\n".utf8).write(to: URL(fileURLWithPath: json))
        let failed = try cnnpipe(["run", "-e", "passthrough", "--json-file", json, "-o", dir + "/o.png"],
                                 stdin: try png(3, 3) + Data("garbage!".utf8))
        XCTAssertEqual(failed.status, 1)
        XCTAssertEqual(try read(json), Data("earlier\n".utf8))
        let unwritable = try cnnpipe(["run", "-e", "passthrough", "--json-file", dir + "/no/such/dir/m.jsonl", "-o", dir + "/o.png"],
                                     stdin: try png(3, 3))
        XCTAssertEqual(unwritable.status, 2, unwritable.stderr)
        XCTAssertEqual(try leftovers(dir), [])
        XCTAssertEqual(try cnnpipe(["run", "-e", "passthrough", "--json-file", json, "-o", dir + "/o.png"], stdin: try png(3, 3)).status, 0)
        XCTAssertTrue(String(decoding: try read(json), as: UTF8.self).contains("\"width\":3"))
    }

    /// SIGINT, SIGTERM and SIGHUP end a run cleanly: the earlier output survives, no temp file stays.
    func testSignalsKeepTheEarlierFileAndLeaveNoTempFiles() throws {
        for (sig, twice) in [(SIGTERM, false), (SIGHUP, false), (SIGINT, false), (SIGTERM, true)] {
            let dir = try TestEnv.tempDir()
            let out = dir + "/out.png"
            try Data("earlier".utf8).write(to: URL(fileURLWithPath: out))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: TestEnv.cnnpipe)
            p.arguments = ["run", "-e", "passthrough", "-o", out]
            let input = Pipe()
            p.standardInput = input
            p.standardError = FileHandle.nullDevice
            try p.run()
            // One image arrives and is written to the temp file; the stream stays open.
            input.fileHandleForWriting.write(try png(16, 16))
            var waited = 0
            while try leftovers(dir).isEmpty && waited < 500 { usleep(10_000); waited += 1 }
            XCTAssertFalse(try leftovers(dir).isEmpty, "no temp file appeared")
            kill(p.processIdentifier, sig)
            if twice { usleep(100_000); kill(p.processIdentifier, sig) } else { usleep(100_000); try input.fileHandleForWriting.close() }
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 128 + sig, "signal \(sig)")
            XCTAssertEqual(try read(out), Data("earlier".utf8), "signal \(sig)")
            XCTAssertEqual(try leftovers(dir), [], "signal \(sig)")
        }
    }

    func testFoldersAreWalkedRecursivelyAndMirrored() throws {
        let dir = try TestEnv.tempDir()
        for sub in ["2024/summer", "2024/winter", "2025"] {
            try FileManager.default.createDirectory(atPath: dir + "/in/" + sub, withIntermediateDirectories: true)
            try png(5, 5).write(to: URL(fileURLWithPath: dir + "/in/" + sub + "/p.png"))
        }
        try Data("notes".utf8).write(to: URL(fileURLWithPath: dir + "/in/2025/notes.txt"))
        try png(5, 5).write(to: URL(fileURLWithPath: dir + "/in/.hidden.png"))
        // A link loop must not hang the walk.
        XCTAssertEqual(symlink(dir + "/in", dir + "/in/2025/loop"), 0)
        let r = try cnnpipe(["run", "-v", "-e", "passthrough", dir + "/in", "-o", dir + "/out/"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped 1 hidden entry and 1 file that is not JPEG, PNG, WebP, PPM, PGM or PAM"), r.stderr)
        for sub in ["2024/summer", "2024/winter", "2025"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/" + sub + "/p.png"), sub)
        }
        let flat = try cnnpipe(["run", "-e", "passthrough", "--no-recursive", dir + "/in/2024", "-o", dir + "/flat/"])
        XCTAssertEqual(flat.status, 1)
        XCTAssertTrue(flat.stderr.contains("no JPEG, PNG, WebP, PPM, PGM or PAM images in this folder"), flat.stderr)
        let template = try cnnpipe(["run", "-e", "passthrough", dir + "/in", "-o", dir + "/t/{dir}/{stem}-small.{ext}"])
        XCTAssertEqual(template.status, 0, template.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/t/2024/winter/p-small.png"))
        let unknown = try cnnpipe(["run", "-e", "passthrough", dir + "/in", "-o", dir + "/u/{folder}/{stem}.{ext}"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("unknown field {folder}"), unknown.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/u/{folder}"))
    }

    func testEmptyInputsAreAnError() throws {
        let r = try cnnpipe(["run", "-e", "passthrough"], stdin: Data())
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("stdin: no images"), r.stderr)
        let empty = try TestEnv.tempDir()
        let e = try cnnpipe(["run", "-e", "passthrough", empty, "-o", empty + "/out/"])
        XCTAssertEqual(e.status, 1)
        XCTAssertTrue(e.stderr.contains("no JPEG, PNG, WebP, PPM, PGM or PAM images"), e.stderr)
    }
}
