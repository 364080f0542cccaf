import ArgumentParser
import FilterKit
import Foundation

struct Stages: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the stages of all loaded plugins.")

    func run() {
        let env = GraphOptions().loadEnvironment()
        let stages = env.plugins.stages.values.sorted { $0.name < $1.name }
        let width = stages.map(\.name.count).max() ?? 0
        for s in stages {
            print("\(s.name.padding(toLength: width + 2, withPad: " ", startingAt: 0))\(s.summary)  [\(s.pluginName)]")
        }
        if stages.isEmpty { fail("no plugins found (set CNNPIPE_PLUGIN_PATH)") }
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a stage's parameters (type, range, default, doc) and pads.")

    @Argument(help: "Stage name.") var stage: String

    func run() {
        let env = GraphOptions().loadEnvironment()
        guard let s = env.plugins.stages[stage] else {
            fail("no stage '\(stage)' (see 'cnnpipe stages')")
        }
        print("\(s.name) — \(s.summary)")
        print("plugin: \(s.pluginName) (\(s.pluginFile))")
        var kinds: [String] = []
        let stateful = s.params.filter(\.statefulUnlessDefault).map { "\($0.name)=\($0.defaultValue ?? "")" }
        let inOrder = s.isOverlapping ? "frames in order, each starting before the last one ends" : "frames one at a time, in order"
        if s.isStateless {
            kinds.append("stateless (runs in parallel)" + (stateful.isEmpty ? ""
                : "; stateful (\(inOrder)) unless " + stateful.joined(separator: " and ")))
        } else {
            kinds.append("stateful (\(inOrder))")
        }
        if s.isAggregator { kinds.append("aggregator (emits at end of stream)") }
        if s.hasVariadicInputs { kinds.append("takes any number of inputs") }
        if !kinds.isEmpty { print("kind: " + kinds.joined(separator: ", ")) }
        print("inputs: \(s.hasVariadicInputs ? "in1, in2, ..." : s.inputs.joined(separator: ", "))")
        print("outputs: \(s.outputs.joined(separator: ", "))")
        if s.params.isEmpty { print("parameters: none"); return }
        print("parameters:")
        for p in s.params {
            print("  \(p.name): \(p.signature)")
            print("      \(p.doc)")
        }
    }
}

struct Presets: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the bundled presets with their descriptions.")

    func run() {
        let env = CNNPipeEnvironment()
        let presets = env.bundledPresets()
        let width = presets.map(\.name.count).max() ?? 0
        for p in presets {
            let description = (try? PresetParser.load(path: p.path, searchPath: env.presetSearchPath).description) ?? nil
            print("\(p.name.padding(toLength: width + 2, withPad: " ", startingAt: 0))\(description ?? "")")
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a preset (stages, parameters, inputs, pads, cycles) without reading any image.")

    @Argument(help: "Preset file or bundled preset name.") var preset: String?
    @OptionGroup var graphOptions: GraphOptions

    func run() {
        let env = graphOptions.loadEnvironment()
        do {
            let graph = try graphOptions.graph(presetArgument: preset, env: env)
            print("ok: \(graph.nodes.count) node\(graph.nodes.count == 1 ? "" : "s"): "
                + graph.nodes.map { "\($0.id)(\($0.definition.name))" }.joined(separator: " → "))
        } catch {
            fail("\(error)", code: 2)
        }
    }
}
