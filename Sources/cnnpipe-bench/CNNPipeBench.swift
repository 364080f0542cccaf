import ArgumentParser

/// `cnnpipe-bench`: benchmarks of cnnpipe's libraries, run by the scripts in benchmarks/; kept out of
/// the user-facing `cnnpipe` command.
@main
struct CNNPipeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnpipe-bench", abstract: "Benchmarks of cnnpipe's libraries (development; see benchmarks/).",
        subcommands: [GallerySearch.self, Cluster.self])
}

/// A benchmark that cannot give a meaningful number (its own sanity check failed).
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
