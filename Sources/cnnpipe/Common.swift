import ArgumentParser
import CNNRuntime
import FilterKit
import Foundation

/// Loads plugins and builds a validated graph from a preset name/path or an inline chain.
struct GraphOptions: ParsableArguments {
    @Option(name: [.customShort("e"), .customLong("chain")],
            help: "An inline chain instead of a preset: 'resize width=512 | rotate angle=90'.")
    var chain: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a parameter: node.param=value (repeatable).",
                                                         valueName: "node.param=value"))
    var overrides: [String] = []

    func loadEnvironment() -> CNNPipeEnvironment {
        var env = CNNPipeEnvironment()
        env.loadPlugins()
        for problem in env.plugins.problems { warn(problem) }
        return env
    }

    /// The preset (from `presetArgument` or -e) with overrides applied, validated against the stages.
    func graph(presetArgument: String?, env: CNNPipeEnvironment) throws -> Graph {
        var preset: Preset
        if let chain {
            preset = try ChainExpression.parse(chain)
        } else if let name = presetArgument {
            guard let path = env.resolvePreset(name) else {
                throw CLIError("no preset '\(name)' (not a file, not a bundled preset; see 'cnnpipe presets')")
            }
            preset = try PresetParser.load(path: path, searchPath: env.presetSearchPath)
        } else {
            throw CLIError("give a preset or an inline chain with -e")
        }
        for o in overrides { try preset.override(o) }
        if env.plugins.stages.isEmpty {
            throw CLIError("no plugins found (searched $CNNPIPE_PLUGIN_PATH, <exe>/../lib/cnnpipe/plugins, <exe>)")
        }
        return try Graph.build(preset, stages: env.plugins.stages)
    }
}

/// The commands' model lookup: the host's one model folder, the same the stages use.
let models: ModelLocator = {
    let env = CNNPipeEnvironment()
    return ModelLocator(directories: [env.modelDirectory], fetchHint: env.modelFetchHint)
}()

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("cnnpipe: warning: \(message)\n".utf8))
}

/// Prints a one-line error and exits with `code`.
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("cnnpipe: error: \(message)\n".utf8))
    TempFiles.removeAll()
    exit(code)
}
