import FilterKit
import Foundation
import FuzzSupport

/// Preset YAML and inline chains, through parsing and graph validation against the real Basics
/// stages (loaded from the libBasics.so built beside this binary). First byte: 0 = YAML, 1 = chain.
nonisolated(unsafe) var stages: [String: StageDefinition] = [:]

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    var loader = PluginLoader()
    do { try loader.load(file: Fuzz.executableDirectory + "/libBasics.so") } catch {
        fputs("preset fuzzer: \(error)\n", stderr)
        exit(1)
    }
    stages = loader.stages
    Fuzz.writeSeeds {
        var seeds: [String: [UInt8]] = [:]
        let presets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/../../../presets"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: presets)) ?? [] where name.hasSuffix(".yaml") {
            if let data = FileManager.default.contents(atPath: presets + "/" + name) { seeds[name] = [0] + [UInt8](data) }
        }
        for (i, chain) in ["resize width=64 | rotate angle=90", "crop x=1 y=2 width=3 height=4 | grid columns=2",
                           "blend opacity=0.5", "annotate | passthrough | resize width=8 height=8 mode=fill"].enumerated() {
            seeds["chain\(i)"] = [1] + Array(chain.utf8)
        }
        return seeds
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Fuzz.bytes(data, size)
    guard let mode = bytes.first else { return 0 }
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    guard let preset = try? (mode & 1 == 0 ? PresetParser.parse(text, file: "fuzz.yaml") : ChainExpression.parse(text)) else { return 0 }
    _ = try? Graph.build(preset, stages: stages)
    return 0
}
