import Foundation

/// Finds model files by name: $CNNPIPE_MODELS, then the source tree's models/, then
/// <exe>/../share/cnnpipe/models. A path is taken as it is.
public enum ModelLocator {
    public static let setupCommand = "scripts/setup-models.sh"

    public static func searchPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var dirs: [String] = []
        if let d = environment["CNNPIPE_MODELS"], !d.isEmpty { dirs.append(d) }
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            var dir = exe
            for _ in 0..<4 {
                dir.deleteLastPathComponent()
                if FileManager.default.fileExists(atPath: dir.path + "/Package.swift") { dirs.append(dir.path + "/models"); break }
            }
            dirs.append(exe.path + "/../share/cnnpipe/models")
        }
        return dirs
    }

    /// The file for a model name ("multistyle26", "multistyle26.onnx") or path.
    public static func find(_ name: String) throws -> String {
        if name.contains("/") || FileManager.default.fileExists(atPath: name) {
            guard FileManager.default.fileExists(atPath: name) else { throw ModelError("\(name): no such model file") }
            return name
        }
        let dirs = searchPath()
        for dir in dirs {
            for file in [name, name + ".onnx", name + ".dat"] where FileManager.default.fileExists(atPath: dir + "/" + file) {
                return dir + "/" + file
            }
        }
        throw ModelError("model '\(name)' not found (looked in \(dirs.joined(separator: ", "))); run \(setupCommand) to fetch the models")
    }

    /// Loads a model by name or path: a dlib `.dat` network through DlibImporter, anything else as ONNX.
    /// A corrupt file says how to fetch it again.
    public static func load(_ name: String) throws -> ModelGraph {
        let path = try find(name)
        do { return isDlibModel(path) ? try DlibImporter.load(path: path) : try ONNXImporter.load(path: path) } catch {
            throw ModelError("\(error); if this is a bundled model, run \(setupCommand) to fetch it again")
        }
    }

    /// A dlib network file (its graph takes RGB values 0…255, not 0…1).
    public static func isDlibModel(_ path: String) -> Bool { path.hasSuffix(".dat") }

    /// Loads an ONNX model by name or path; a corrupt file says how to fetch it again.
    public static func loadONNX(_ name: String) throws -> ModelGraph {
        let path = try find(name)
        do { return try ONNXImporter.load(path: path) } catch {
            throw ModelError("\(error); if this is a bundled model, run \(setupCommand) to fetch it again")
        }
    }
}
