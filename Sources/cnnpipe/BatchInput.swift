import ArgumentParser
import FilterKit
import Foundation
import FrameModel

/// `--paths-from FILE|-`: the worker mode for batch engines (Spark's RDD.pipe, Hadoop Streaming):
/// input paths one per line, read as they come; exactly one JSON line per input on stdout
/// (`BatchLine`) and nothing else there; a bad input is an error line, never the end of the run,
/// and the exit status is 0 once every input has its line (an engine would fail the whole task on
/// a non-zero status).
struct BatchInput: ParsableArguments {
    @Option(help: ArgumentHelp("Read input paths from this file (- for stdin), one per line, as they arrive; print one JSON line per input on stdout (path, status ok|skipped|error, outputs, faces, error).", valueName: "file"))
    var pathsFrom: String?

    var isBatch: Bool { pathsFrom != nil }

    /// The input source: the path list, or the arguments walked.
    func source(arguments: [String], recursive: Bool) throws -> InputSource {
        guard let pathsFrom else { return try InputSource(arguments: arguments, recursive: recursive) }
        guard arguments.isEmpty else { throw ValidationError("give inputs as arguments or with --paths-from, not both") }
        return InputSource(lines: try LineReader(path: pathsFrom), recursive: recursive)
    }
}

/// One input's JSON line in batch mode (and in `--json` output of the library commands).
enum BatchLine {
    static func ok(_ path: String, outputs: [String] = [], faces: [[String: Any]]) -> String {
        jsonLine(["path": path, "status": "ok", "outputs": outputs, "faces": faces])
    }

    static func skipped(_ path: String) -> String { jsonLine(["path": path, "status": "skipped", "outputs": [String](), "faces": [[String: Any]]()]) }

    static func error(_ path: String, _ message: String) -> String {
        jsonLine(["path": path, "status": "error", "error": message, "outputs": [String](), "faces": [[String: Any]]()])
    }

    /// A frame face: box in pixels (x, y, width, height), name when identified, distance, score.
    static func face(_ f: Face) -> [String: Any] {
        var o: [String: Any] = ["box": ["x": f.box.x, "y": f.box.y, "width": f.box.width, "height": f.box.height]]
        if let n = f.name, n != "unknown" { o["name"] = n }
        if let d = f.distance { o["distance"] = d }
        if let c = f.confidence { o["confidence"] = c }
        return o
    }
}

func jsonLine(_ object: [String: Any]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    return String(decoding: data, as: UTF8.self)
}

/// Prints a line on stdout at once (a batch engine reads results while the worker runs).
func emitLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
