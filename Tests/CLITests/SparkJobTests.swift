import Foundation
import XCTest

/// scripts/spark/tag_library.py on real Spark in local mode: the same answers as one cnnpipe process,
/// a corrupt photo is one error row, every photo exactly once.
final class SparkJobTests: XCTestCase {
    private let faces = TestEnv.corpus + "/faces"
    private let python = TestEnv.root + "/.build-venv-spark/bin/python"

    func testLocalSparkJobEqualsOneProcessLineForLine() throws {
        guard let java = findJava() else {
            throw XCTSkip("Java is missing: Spark needs Java 17 (scripts/setup.sh --deps --spark installs it)")
        }
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: python),
                      "no PySpark venv: run scripts/setup.sh --deps --spark (java: \(java))")
        let dir = try TestEnv.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gallery = dir + "/people.db"
        let enrolled = try cnnpipe(["gallery", "enroll-dir", "--gallery", gallery, faces + "/train"])
        XCTAssertEqual(enrolled.status, 0, enrolled.stderr)
        let extra = dir + "/extra"
        try FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
        let broken = extra + "/broken.jpg"
        try read(faces + "/test/barack_obama/obama1.jpg").prefix(3000).write(to: URL(fileURLWithPath: broken))

        // One process over the same photos.
        let photos = try listImages([faces, extra])
        XCTAssertGreaterThan(photos.count, 80)
        let list = dir + "/paths.txt"
        try Data(photos.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: list))
        let single = try cnnpipe(["faces", "identify", "--gallery", gallery, "--upsample", "0", "--paths-from", list])
        XCTAssertEqual(single.status, 0, single.stderr)
        var expected: [String: [String: Any]] = [:]
        for line in String(decoding: single.stdout, as: UTF8.self).split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            expected[object["path"] as! String] = object
        }
        XCTAssertEqual(Set(expected.keys), Set(photos))

        // The Spark job, local[2]: two executors' worth of cnnpipe processes.
        let out = dir + "/results"
        let spark = try runProcess(python, [TestEnv.root + "/scripts/spark/tag_library.py", "--master", "local[2]",
                                            "--job", "identify", "--gallery", gallery, "--upsample", "0",
                                            "--photos-per-partition", "30", "--format", "csv", "-o", out, faces, extra],
                                   environment: ["CNNPIPE_BIN": TestEnv.cnnpipe])
        XCTAssertEqual(spark.status, 0, spark.stderr)
        let summary = try JSONSerialization.jsonObject(with: read(out + "/summary.json")) as! [String: Any]
        XCTAssertEqual(summary["photos"] as? Int, photos.count)
        XCTAssertEqual(summary["errors"] as? Int, 1)
        XCTAssertGreaterThanOrEqual(summary["partitions"] as! Int, 3)

        let rows = try readCSVFolder(out + "/faces")
        var byPath: [String: [[String: String]]] = [:]
        for row in rows { byPath[row["path"]!, default: []].append(row) }
        XCTAssertEqual(Set(byPath.keys), Set(photos), "every photo has a result")
        for (path, photoRows) in byPath {
            let want = expected[path]!
            XCTAssertEqual(Set(photoRows.map { $0["partition"]! }).count, 1, "\(path) processed by several partitions")
            XCTAssertEqual(Set(photoRows.map { $0["status"]! }), [want["status"] as! String], path)
            if want["status"] as? String == "error" {
                XCTAssertEqual(path, broken)
                XCTAssertEqual(photoRows.count, 1)
                XCTAssertFalse(photoRows[0]["error"]!.isEmpty)
                continue
            }
            let wantFaces = want["faces"] as! [[String: Any]]
            let got = photoRows.filter { !$0["face"]!.isEmpty }.sorted { Int($0["face"]!)! < Int($1["face"]!)! }
            XCTAssertEqual(got.map { Int($0["face"]!)! }, Array(0..<wantFaces.count), "\(path): each face once")
            for (row, face) in zip(got, wantFaces) {
                XCTAssertEqual(row["name"]!, face["name"] as? String ?? "", path)
                if let d = face["distance"] as? Double {
                    XCTAssertEqual(Double(row["distance"]!)!, d, accuracy: 1e-6, path)
                } else {
                    XCTAssertEqual(row["distance"]!, "", path)
                }
            }
        }
        let named = Set(rows.compactMap { $0["name"].flatMap { $0.isEmpty ? nil : $0 } })
        XCTAssertEqual(summary["people"] as? Int, named.count)
        XCTAssertGreaterThanOrEqual(named.count, 8, "the test photos of the enrolled people are named")
    }

    private func findJava() -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + (ProcessInfo.processInfo.environment["JAVA_HOME"].map { [$0 + "/bin"] } ?? [])
        return dirs.map { $0 + "/java" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The images under the folders, as the job lists them: recursive, hidden entries skipped.
    private func listImages(_ roots: [String]) throws -> [String] {
        var paths: [String] = []
        for root in roots {
            let walker = FileManager.default.enumerator(atPath: root)!
            while let relative = walker.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") { walker.skipDescendants(); continue }
                if ["jpg", "jpeg", "png", "webp"].contains((name as NSString).pathExtension.lowercased()) {
                    paths.append(URL(fileURLWithPath: root + "/" + relative).standardizedFileURL.path)
                }
            }
        }
        return paths
    }

    /// Spark's CSV output (part files, a header each, RFC 4180 quoting) as rows keyed by column.
    private func readCSVFolder(_ folder: String) throws -> [[String: String]] {
        var rows: [[String: String]] = []
        for part in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where part.hasSuffix(".csv") {
            let records = parseCSV(String(decoding: try read(folder + "/" + part), as: UTF8.self))
            guard let header = records.first else { continue }
            for record in records.dropFirst() { rows.append(Dictionary(uniqueKeysWithValues: zip(header, record))) }
        }
        return rows
    }

    private func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = "", quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field); field = ""
            } else if c == "\n" {
                record.append(field); records.append(record); record = []; field = ""
            } else if c != "\r" {
                field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }
}
