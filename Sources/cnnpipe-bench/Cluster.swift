import ArgumentParser
import FaceKit
import Foundation

/// `cnnpipe-bench cluster` (for benchmarks/cluster-corpus.sh): Chinese whispers on
/// given descriptors, timed, so that dlib's chinese_whispers_clustering can be run on the very same
/// numbers and compared label for label.
struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Cluster descriptors from a JSON file with Chinese whispers and time it.")

    @Argument(help: "A JSON array of descriptors (arrays of numbers, read as Float), or - for stdin.") var input = "-"
    @Option(help: "Descriptors closer than this are joined.") var threshold: Float = 0.5
    @Option(help: "Timed runs (the best is reported).") var rounds = 3

    func run() throws {
        let data = input == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: input))
        guard let rows = (try? JSONSerialization.jsonObject(with: data)) as? [[NSNumber]] else {
            throw BenchFailure("\(input): not a JSON array of arrays of numbers")
        }
        let descriptors = rows.map { $0.map { $0.floatValue } }
        var graphTimes: [Double] = [], whisperTimes: [Double] = []
        var labels: [Int] = [], edges = 0
        for _ in 0..<max(1, rounds) {
            var t = DispatchTime.now().uptimeNanoseconds
            let graph = try NeighbourGraph.closerThan(threshold, descriptors: descriptors)
            graphTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
            t = DispatchTime.now().uptimeNanoseconds
            labels = ChineseWhispers.cluster(graph)
            whisperTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
            edges = graph.edgeCount
        }
        let result: [String: Any] = ["labels": labels, "clusters": Set(labels).count, "directed_edges": edges,
                                     "graph_ms": graphTimes.min()!, "whispers_ms": whisperTimes.min()!]
        let out = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        FileHandle.standardOutput.write(out + Data("\n".utf8))
    }
}
