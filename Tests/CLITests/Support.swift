import Foundation
import XCTest

/// Paths and process helpers shared by the CLI tests.
enum TestEnv {
    /// The package root (three levels above this file).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The build folder holding cnnpipe and libBasics.so: next to the test bundle.
    static let buildDir: String = {
        if let dir = ProcessInfo.processInfo.environment["CNNPIPE_BUILD_DIR"] { return dir }
        for arg in CommandLine.arguments where arg.hasSuffix(".xctest") {
            return URL(fileURLWithPath: arg).deletingLastPathComponent().path
        }
        return root + "/.build/debug"
    }()

    static var cnnpipe: String { buildDir + "/cnnpipe" }
    static let corpus = root + "/../shared/corpus"

    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "cnnpipe-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

struct ProcessResult {
    var status: Int32
    var stdout: Data
    var stderr: String
}

/// Runs a program with stdin bytes; returns exit status, stdout and stderr.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], stdin: Data = Data(),
                environment: [String: String] = [:], cwd: String? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "CNNPIPE_PLUGIN_PATH")
    for (k, v) in environment { env[k] = v }
    p.environment = env
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    let writer = Thread {
        inPipe.fileHandleForWriting.write(stdin)
        try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    final class Box: @unchecked Sendable { var data = Data() }
    let out = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { out.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let err = errPipe.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: out.data, stderr: String(decoding: err, as: UTF8.self))
}

/// Runs cnnpipe with the given arguments.
@discardableResult
func cnnpipe(_ arguments: [String], stdin: Data = Data(), environment: [String: String] = [:]) throws -> ProcessResult {
    try runProcess(TestEnv.cnnpipe, arguments, stdin: stdin, environment: environment)
}

func read(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

extension TestEnv {
    /// The folder with cnnpipe_plugin.h.
    static let pluginHeaders = TestEnv.root + "/Sources/CNNPipeABI/include"
}

/// Compiles C plugin source into lib<name>.so in `dir` against the ABI header only.
func buildPlugin(_ source: String, name: String, in dir: String) throws {
    let file = dir + "/\(name).c"
    try source.write(toFile: file, atomically: true, encoding: .utf8)
    let r = try runProcess("/usr/bin/cc", ["-shared", "-fPIC", "-fvisibility=hidden", "-I", TestEnv.pluginHeaders, file, "-o", dir + "/lib\(name).so"])
    XCTAssertEqual(r.status, 0, r.stderr)
}

/// cnnpipe with a deadline: a hang is a failure (nil), not a stuck test run.
func cnnpipeWithin(_ seconds: Double, _ arguments: [String], environment: [String: String] = [:], cwd: String? = nil) throws -> ProcessResult? {
    final class Box: @unchecked Sendable { var result: ProcessResult? }
    let box = Box(), done = DispatchSemaphore(value: 0)
    Thread {
        box.result = try? runProcess(TestEnv.cnnpipe, arguments, environment: environment, cwd: cwd)
        done.signal()
    }.start()
    if done.wait(timeout: .now() + seconds) == .timedOut { return nil }
    return box.result
}
