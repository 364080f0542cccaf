import Foundation
import XCTest

/// `cnnpipe faces tag`: a small library in nested folders, tagged into sidecars, in place and into a
/// mirrored copy; checked with exiftool (an independent reader) and by comparing files byte for byte.
final class FacesTagTests: XCTestCase {
    private let faces = TestEnv.corpus + "/faces"

    /// library/2019/trip/{two.jpg, obama1.jpg}, library/2020/{tom.jpg, eagle.jpg, lin.png, rotated.jpg}
    /// and a gallery knowing Obama and Biden (one photo each).
    private func library() throws -> (dir: String, gallery: String) {
        let dir = try TestEnv.tempDir()
        let lib = dir + "/library"
        for sub in ["2019/trip", "2020"] {
            try FileManager.default.createDirectory(atPath: lib + "/" + sub, withIntermediateDirectories: true)
        }
        let copies = [("group/obama_biden_two_people.jpg", "2019/trip/two.jpg"), ("test/barack_obama/obama1.jpg", "2019/trip/obama1.jpg"),
                      ("unknown/tom_cruise/Tom_Cruise_avp_2014_4.jpg", "2020/tom.jpg"), ("noface/eagle.jpg", "2020/eagle.jpg"),
                      ("unknown/lin_manuel_miranda/lin-manuel-miranda.png", "2020/lin.png"),
                      ("test/joe_biden/biden.jpg", "2020/rotated.jpg")]
        for (from, to) in copies { try FileManager.default.copyItem(atPath: faces + "/" + from, toPath: lib + "/" + to) }
        // Stored sideways: shown upright only through its EXIF orientation (8 = turn 90° counter-clockwise).
        try runProcess("/usr/bin/convert", [lib + "/2020/rotated.jpg", "-rotate", "90", lib + "/2020/rotated.jpg"])
        XCTAssertEqual(try runProcess("/usr/bin/exiftool", ["-q", "-overwrite_original", "-n", "-Orientation=8", lib + "/2020/rotated.jpg"]).status, 0)
        let gallery = dir + "/people.db"
        for (name, photo) in [("Barack Obama", "train/barack_obama/obama.jpg"), ("Joe Biden", "train/joe_biden/biden2.jpg")] {
            let r = try cnnpipe(["gallery", "enroll", "--gallery", gallery, "--name", name, faces + "/" + photo])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        return (lib, gallery)
    }

    /// The regular files under `dir`, relative, sorted.
    private func files(_ dir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []).filter { name in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDir) && !isDir.boolValue
        }.sorted()
    }

    private func exiftool(_ args: [String]) throws -> [[String: Any]] {
        let r = try runProcess("/usr/bin/exiftool", ["-j", "-n", "-G1"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: r.stdout) as! [[String: Any]]
    }

    /// The file with all its metadata taken out by exiftool: equal for two files when they differ
    /// in metadata only (the coded image and the rest of the file are the same bytes).
    private func withoutMetadata(_ path: String) throws -> Data {
        let copy = try TestEnv.tempDir() + "/" + (path as NSString).lastPathComponent
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        XCTAssertEqual(try runProcess("/usr/bin/exiftool", ["-q", "-overwrite_original", "-all=", copy]).status, 0)
        return try read(copy)
    }

    private func jsonLines(_ data: Data) -> [[String: Any]] {
        String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func testRefusesToWriteWithoutBeingToldWhere() throws {
        let (lib, gallery) = try library()
        let r = try cnnpipe(["faces", "tag", "--gallery", gallery, lib])
        XCTAssertEqual(r.status, 2, r.stderr)   // a bad command line
        XCTAssertTrue(r.stderr.contains("--in-place, --sidecar or -o DIR"), r.stderr)
    }

    func testSidecarsNamePeopleAndNeverTouchThePhotos() throws {
        let (lib, gallery) = try library()
        var before: [String: Data] = [:]
        for f in files(lib) { before[f] = try read(lib + "/" + f) }
        // A sidecar a photo manager already wrote, with a rating: it must survive the merge.
        try Data("""
            <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4"/>
            </rdf:RDF></x:xmpmeta>
            """.utf8).write(to: URL(fileURLWithPath: lib + "/2019/trip/two.jpg.xmp"))
        let r = try cnnpipe(["faces", "tag", "--gallery", gallery, "--sidecar", "--upsample", "0", "--json", lib])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = jsonLines(r.stdout)
        XCTAssertEqual(lines.count, 6)
        XCTAssertTrue(lines.allSatisfy { $0["status"] as? String == "ok" }, "\(lines)")
        // The photos are the same bytes.
        for (name, data) in before { XCTAssertEqual(try read(lib + "/" + name), data, name) }
        let two = try exiftool([lib + "/2019/trip/two.jpg.xmp"])[0]
        XCTAssertEqual(Set(two["XMP-mwg-rs:RegionName"] as? [String] ?? []), ["Barack Obama", "Joe Biden"])
        XCTAssertEqual(two["XMP-xmp:Rating"] as? Int, 4, "the sidecar's own fields are kept")
        XCTAssertEqual(Set(two["XMP-dc:Subject"] as? [String] ?? []), ["Barack Obama", "Joe Biden"])
        XCTAssertEqual(Set(two["XMP-digiKam:TagsList"] as? [String] ?? []), ["People/Barack Obama", "People/Joe Biden"])
        // Tom Cruise is nobody the gallery knows: a face region without a name, no keyword.
        let tom = try exiftool([lib + "/2020/tom.jpg.xmp"])[0]
        XCTAssertEqual(tom["XMP-mwg-rs:RegionType"] as? String, "Face")
        XCTAssertNil(tom["XMP-mwg-rs:RegionName"])
        XCTAssertNil(tom["XMP-dc:Subject"])
        XCTAssertNil(try exiftool([lib + "/2020/eagle.jpg.xmp"])[0]["XMP-mwg-rs:RegionType"])

        // A re-run skips everything (the sidecars record the gallery and settings); --force redoes identically.
        let sidecars = try files(lib).filter { $0.hasSuffix(".xmp") }.map { try read(lib + "/" + $0) }
        let again = try cnnpipe(["faces", "tag", "--gallery", gallery, "--sidecar", "--upsample", "0", "--json", lib])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(jsonLines(again.stdout).allSatisfy { $0["status"] as? String == "skipped" })
        XCTAssertEqual(jsonLines(again.stdout).count, 6)
        let forced = try cnnpipe(["faces", "tag", "--gallery", gallery, "--sidecar", "--upsample", "0", "--force", lib])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try files(lib).filter { $0.hasSuffix(".xmp") }.map { try read(lib + "/" + $0) }, sidecars)
        // A changed gallery (someone enrolled) is a new state: everything is tagged again.
        XCTAssertEqual(try cnnpipe(["gallery", "enroll", "--gallery", gallery, "--name", "Tom Cruise", lib + "/2020/tom.jpg"]).status, 0)
        let changed = try cnnpipe(["faces", "tag", "--gallery", gallery, "--sidecar", "--upsample", "0", "--json", lib])
        XCTAssertTrue(jsonLines(changed.stdout).allSatisfy { $0["status"] as? String == "ok" })
        XCTAssertEqual(try exiftool([lib + "/2020/tom.jpg.xmp"])[0]["XMP-mwg-rs:RegionName"] as? String, "Tom Cruise")

        // Short names: photo.xmp.
        let short = try cnnpipe(["faces", "tag", "--sidecar", "--sidecar-name", "short", "--upsample", "0", lib + "/2020"])
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: lib + "/2020/tom.xmp"))
    }

    func testInPlaceChangesOnlyTheMetadataAndKeepsModeTimeAndBackup() throws {
        let (lib, gallery) = try library()
        let photo = lib + "/2019/trip/two.jpg", rotated = lib + "/2020/rotated.jpg"
        XCTAssertEqual(chmod(photo, 0o640), 0)
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, photo, &times, 0), 0)
        let original = try read(photo), strippedBefore = try withoutMetadata(photo)
        let tagsBefore = try exiftool(["-a", photo])[0]

        let r = try cnnpipe(["faces", "tag", "--gallery", gallery, "--in-place", "--keep-mtime", "--backup", "--upsample", "0", lib])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("6 photos tagged"), r.stderr)
        XCTAssertNotEqual(try read(photo), original)
        XCTAssertEqual(try withoutMetadata(photo), strippedBefore, "something besides the metadata changed")
        XCTAssertEqual(try read(photo + "_original"), original)
        var st = stat()
        XCTAssertEqual(stat(photo, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o640)
        XCTAssertEqual(st.st_mtim.tv_sec, 1_000_000_000)
        // exiftool sees every tag the photo had, plus the regions and keywords.
        let tagsAfter = try exiftool(["-a", photo])[0]
        for (key, value) in tagsBefore where !key.hasPrefix("System:") && key != "SourceFile" && !key.hasPrefix("ExifTool:") {
            XCTAssertEqual("\(tagsAfter[key] ?? "missing")", "\(value)", key)
        }
        XCTAssertEqual(Set(tagsAfter["XMP-mwg-rs:RegionName"] as? [String] ?? []), ["Barack Obama", "Joe Biden"])

        // The sideways photo keeps its orientation tag; its region is on the stored grid and lands on
        // Biden's face once turned upright (cnnpipe reads it back onto the detection).
        let r8 = try exiftool([rotated])[0]
        XCTAssertEqual(r8["IFD0:Orientation"] as? Int, 8)
        XCTAssertEqual(r8["XMP-mwg-rs:RegionName"] as? String, "Joe Biden")
        XCTAssertEqual(r8["XMP-mwg-rs:RegionAppliedToDimensionsW"] as? Int, r8["File:ImageWidth"] as? Int)
        let json = try cnnpipe(["run", "-e", "face-detect upsample=0", rotated, "--json", "-o", "/dev/null"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let meta = try JSONSerialization.jsonObject(with: Data(json.stderr.split(separator: "\n").last!.utf8)) as! [String: Any]
        let found = meta["faces"] as! [[String: Any]]
        XCTAssertEqual(found.count, 1, "the stored region and the detection are one face")
        XCTAssertEqual(found.first?["name"] as? String, "Joe Biden")

        // Nothing to do on a re-run: the photos are not even rewritten.
        let tagged = try files(lib).map { try read(lib + "/" + $0) }
        let again = try cnnpipe(["faces", "tag", "--gallery", gallery, "--in-place", "--upsample", "0", lib])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("6 skipped"), again.stderr)
        XCTAssertEqual(try files(lib).map { try read(lib + "/" + $0) }, tagged)
        // Tagging again anyway gives the same bytes (idempotent).
        XCTAssertEqual(try cnnpipe(["faces", "tag", "--gallery", gallery, "--in-place", "--upsample", "0", "--force", lib]).status, 0)
        XCTAssertEqual(try files(lib).map { try read(lib + "/" + $0) }, tagged)
    }

    func testMirrorCopyAndDryRun() throws {
        let (lib, gallery) = try library()
        let before = try files(lib).map { try read(lib + "/" + $0) }
        let dry = try cnnpipe(["faces", "tag", "--gallery", gallery, "--dry-run", "--upsample", "0", lib])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        let lines = String(decoding: dry.stdout, as: UTF8.self).split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix(lib + "/2019/trip/two.jpg,Barack Obama,0.") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix(lib + "/2020/tom.jpg,unknown,") }, "\(lines)")
        XCTAssertEqual(try files(lib).map { try read(lib + "/" + $0) }, before, "a dry run wrote something")

        let out = try TestEnv.tempDir() + "/tagged"
        let r = try cnnpipe(["faces", "tag", "--gallery", gallery, "-o", out, "--upsample", "0", lib])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(files(out), files(lib))
        XCTAssertEqual(try files(lib).map { try read(lib + "/" + $0) }, before)
        XCTAssertEqual(try withoutMetadata(out + "/2020/lin.png"), try withoutMetadata(lib + "/2020/lin.png"))
        let again = try cnnpipe(["faces", "tag", "--gallery", gallery, "-o", out, "--upsample", "0", lib])
        XCTAssertTrue(again.stderr.contains("6 skipped"), again.stderr)
    }

    /// kill -9 in the middle of an in-place run, then the same command again: every photo ends up
    /// tagged, none is damaged, no temp file is left.
    func testKilledRunContinuesWhereItStopped() throws {
        let (lib, gallery) = try library()
        let stripped = try files(lib).map { try withoutMetadata(lib + "/" + $0) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestEnv.cnnpipe)
        p.arguments = ["faces", "tag", "--gallery", gallery, "--in-place", "--upsample", "0", "--threads", "1", "--json", lib]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for the first photo to be done, then kill without warning.
        var seen = Data()
        while !seen.contains(0x0A) { seen += out.fileHandleForReading.availableData }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let r = try cnnpipe(["faces", "tag", "--gallery", gallery, "--in-place", "--upsample", "0", "--json", lib])
        XCTAssertEqual(r.status, 0, r.stderr)
        let statuses = jsonLines(r.stdout).map { $0["status"] as? String ?? "" }
        XCTAssertGreaterThanOrEqual(statuses.filter { $0 == "skipped" }.count, 1, "\(statuses)")
        XCTAssertEqual(statuses.count, 6)
        XCTAssertEqual(files(lib).filter { $0.contains(".cnnpipe-") }, [], "temp files left")
        XCTAssertEqual(try files(lib).map { try withoutMetadata(lib + "/" + $0) }, stripped)
        let all = try cnnpipe(["faces", "tag", "--gallery", gallery, "--in-place", "--upsample", "0", "--json", lib])
        XCTAssertTrue(jsonLines(all.stdout).allSatisfy { $0["status"] as? String == "skipped" })
    }
}
