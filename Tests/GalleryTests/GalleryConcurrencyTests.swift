import Foundation
import XCTest
@testable import Gallery

/// Concurrent enrolment into one gallery file must not lose anything: WAL, one IMMEDIATE
/// transaction per change, and a busy timeout so a writer waits for the other instead of failing.
final class GalleryConcurrencyTests: XCTestCase {
    /// Two threads, each with its own connection pool (as two processes would have), create the same
    /// new gallery at the same moment and then enrol 200 people each, interleaved.
    func testTwoConnectionsEnrolInParallel() throws {
        let tmp = try TempDir()
        let path = tmp.file("shared.db")
        let perWriter = 200
        let start = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        final class Failures: @unchecked Sendable { let lock = NSLock(); var list: [String] = [] }
        let failures = Failures()
        for writer in 0..<2 {
            group.enter()
            Thread {
                defer { group.leave() }
                start.wait()
                do {
                    let g = try Gallery(path: path, modelIdentity: modelA)
                    var rng = SplitMix(UInt64(100 + writer))
                    for i in 0..<perWriter {
                        try g.enroll(name: "w\(writer)-\(i)", embeddings: [randomEmbedding(&rng), randomEmbedding(&rng)], sources: ["a.jpg", "b.jpg"])
                        // Every 10th enrolment adds to a person both writers share.
                        if i % 10 == 0 { try g.enroll(name: "shared", embeddings: [randomEmbedding(&rng)], sources: ["s.jpg"]) }
                    }
                } catch {
                    failures.lock.lock(); failures.list.append("writer \(writer): \(error)"); failures.lock.unlock()
                }
            }.start()
        }
        start.signal(); start.signal()
        group.wait()
        XCTAssertEqual(failures.list, [])
        let g = try Gallery(path: path, modelIdentity: modelA)
        let people = try g.people()
        XCTAssertEqual(people.count, 2 * perWriter + 1)
        XCTAssertEqual(people.first { $0.name == "shared" }?.embeddingCount, 2 * perWriter / 10)
        XCTAssertEqual(try g.counts().embeddings, 2 * perWriter * 2 + 2 * perWriter / 10)
    }

    /// The same with two real processes: `cnnpipe gallery import` of 40 export files each (one
    /// transaction per file), both started at once on a gallery file that does not exist yet.
    func testTwoProcessesImportInParallel() throws {
        let cnnpipe = Self.buildDir + "/cnnpipe"
        guard FileManager.default.isExecutableFile(atPath: cnnpipe) else { throw XCTSkip("\(cnnpipe) not built") }
        let tmp = try TempDir()
        let path = tmp.file("shared.db")
        var rng = SplitMix(200)
        let filesPerProcess = 40, peoplePerFile = 5
        var arguments: [[String]] = [[], []]
        for p in 0..<2 {
            arguments[p] = ["gallery", "import", "--gallery", path]
            for f in 0..<filesPerProcess {
                let source = try Gallery(path: tmp.file("src-\(p)-\(f).db"), modelIdentity: modelA)
                for i in 0..<peoplePerFile {
                    try source.enroll(name: "p\(p)-f\(f)-\(i)", embeddings: [randomEmbedding(&rng)])
                }
                try source.enroll(name: "shared", embeddings: [randomEmbedding(&rng)])
                let file = tmp.file("export-\(p)-\(f).json")
                try source.exportJSON().write(to: URL(fileURLWithPath: file))
                arguments[p].append(file)
            }
        }
        let processes = arguments.map { args -> (Process, Pipe) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: cnnpipe)
            process.arguments = args
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            return (process, err)
        }
        for (p, _) in processes { try p.run() }
        for (p, err) in processes {
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, message)
        }
        let g = try Gallery(path: path, modelIdentity: modelA)
        let people = try g.people()
        XCTAssertEqual(people.count, 2 * filesPerProcess * peoplePerFile + 1)
        XCTAssertEqual(people.first { $0.name == "shared" }?.embeddingCount, 2 * filesPerProcess)
        XCTAssertEqual(try g.counts().embeddings, 2 * filesPerProcess * (peoplePerFile + 1))
    }

    /// The folder holding cnnpipe: next to the test bundle.
    static let buildDir: String = {
        if let dir = ProcessInfo.processInfo.environment["CNNPIPE_BUILD_DIR"] { return dir }
        for arg in CommandLine.arguments where arg.hasSuffix(".xctest") {
            return URL(fileURLWithPath: arg).deletingLastPathComponent().path
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/.build/debug"
    }()
}
