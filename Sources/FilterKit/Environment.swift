import Foundation

/// Where cnnpipe finds its plugins, bundled presets and models.
public struct CNNPipeEnvironment {
    public let environment: [String: String]
    public var plugins = PluginLoader()

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public mutating func loadPlugins() {
        plugins.loadAll(from: PluginLoader.defaultSearchPath(environment: environment))
    }

    /// $CNNPIPE_PRESET_PATH, <exe>/../share/cnnpipe/presets, then the source tree's presets/.
    public var presetSearchPath: [String] {
        var dirs = environment["CNNPIPE_PRESET_PATH"].map { $0.split(separator: ":").map(String.init) } ?? []
        if let exe = PluginLoader.executableDirectory() {
            dirs.append(exe + "/../share/cnnpipe/presets")
            if let root = Self.sourceRoot(from: exe) { dirs.append(root + "/presets") }
        }
        return dirs
    }

    /// $CNNPIPE_MODELS, else the source tree's models/ (a build in a checkout), else
    /// <exe>/../share/cnnpipe/models (an installed prefix). The one model folder: the commands look
    /// there through `models`, the stages through the host services.
    public var modelDirectory: String {
        if let dir = environment["CNNPIPE_MODELS"], !dir.isEmpty { return dir }
        if let exe = PluginLoader.executableDirectory() {
            if let root = Self.sourceRoot(from: exe) { return root + "/models" }
            return exe + "/../share/cnnpipe/models"
        }
        return "models"
    }

    /// How models get into `modelDirectory`, for messages about a missing or corrupt one.
    public var modelFetchHint: String {
        if let dir = environment["CNNPIPE_MODELS"], !dir.isEmpty { return "check $CNNPIPE_MODELS (\(dir))" }
        if let exe = PluginLoader.executableDirectory(), let root = Self.sourceRoot(from: exe) {
            return "run \(root)/scripts/setup-models.sh to fetch the models"
        }
        return "reinstall cnnpipe with its models (scripts/setup-models.sh, then scripts/install.sh)"
    }

    /// A preset argument: a path when it contains '/' or ends in .yaml/.yml; otherwise the name of a
    /// bundled preset (search path order), and only when no bundled preset has that name, a file of
    /// that name in the current directory. So a stray file never shadows a bundled preset.
    public func resolvePreset(_ name: String) -> String? {
        if name.contains("/") || name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            return FileManager.default.fileExists(atPath: name) ? name : nil
        }
        for dir in presetSearchPath {
            for path in [dir + "/" + name, dir + "/" + name + ".yaml"] where FileManager.default.fileExists(atPath: path) {
                return path
            }
        }
        return FileManager.default.fileExists(atPath: name) ? name : nil
    }

    /// Every bundled preset: (name, path), first found wins.
    public func bundledPresets() -> [(name: String, path: String)] {
        var seen = Set<String>()
        var result: [(String, String)] = []
        for dir in presetSearchPath {
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
            for f in files where !seen.contains(f) {
                seen.insert(f)
                result.append((String(f.dropLast(5)), dir + "/" + f))
            }
        }
        return result
    }

    /// The folder holding Package.swift above a build folder (.build/<triple>/<config>).
    static func sourceRoot(from exeDir: String) -> String? {
        var dir = URL(fileURLWithPath: exeDir).standardizedFileURL
        for _ in 0..<4 {
            dir.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: dir.path + "/Package.swift"),
               FileManager.default.fileExists(atPath: dir.path + "/presets") { return dir.path }
        }
        return nil
    }
}
