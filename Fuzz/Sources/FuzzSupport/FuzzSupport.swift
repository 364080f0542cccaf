import Foundation

/// Shared by the fuzz targets: the input as bytes, seeds written on request, the executable's folder.
public enum Fuzz {
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// When FUZZ_WRITE_SEEDS names a folder, each target writes its generated seeds there
    /// (scripts/fuzz.sh builds the working corpus from them, the saved corpus and ../shared/corpus).
    public static func writeSeeds(_ seeds: () throws -> [String: [UInt8]]) {
        guard let dir = ProcessInfo.processInfo.environment["FUZZ_WRITE_SEEDS"], !dir.isEmpty else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        do {
            for (name, bytes) in try seeds() { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        } catch {
            fputs("fuzz: could not make seeds: \(error)\n", stderr)
            exit(1)
        }
    }

    /// The folder of the running fuzz binary (the plugin .so files are built next to it).
    public static var executableDirectory: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }
}
