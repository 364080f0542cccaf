import Foundation

/// Finds model files by name in the folders it is given (the host decides which: its own model
/// folder, or $CNNPIPE_MODELS). A path is taken as it is.
public struct ModelLocator: Sendable {
    public let directories: [String]
    /// What to tell the user when a model is missing or corrupt (how models get here).
    public let fetchHint: String

    public init(directories: [String], fetchHint: String) {
        self.directories = directories
        self.fetchHint = fetchHint
    }

    /// The file for a model name ("multistyle26", "multistyle26.onnx") or path.
    public func find(_ name: String) throws -> String {
        if name.contains("/") || FileManager.default.fileExists(atPath: name) {
            guard FileManager.default.fileExists(atPath: name) else { throw ModelError("\(name): no such model file") }
            return name
        }
        for dir in directories {
            for file in [name, name + ".onnx", name + ".dat"] where FileManager.default.fileExists(atPath: dir + "/" + file) {
                return dir + "/" + file
            }
        }
        throw ModelError("model '\(name)' not found (looked in \(directories.joined(separator: ", "))); \(fetchHint)")
    }

    /// Loads a model by name or path: a dlib `.dat` network through DlibImporter, anything else as ONNX.
    /// A corrupt file says how to fetch it again.
    public func load(_ name: String) throws -> ModelGraph {
        let path = try find(name)
        do { return Self.isDlibModel(path) ? try DlibImporter.load(path: path) : try ONNXImporter.load(path: path) } catch {
            throw ModelError("\(error); if this is a bundled model, \(fetchHint)")
        }
    }

    /// Loads an ONNX model by name or path; a corrupt file says how to fetch it again.
    public func loadONNX(_ name: String) throws -> ModelGraph {
        let path = try find(name)
        do { return try ONNXImporter.load(path: path) } catch {
            throw ModelError("\(error); if this is a bundled model, \(fetchHint)")
        }
    }

    /// A dlib network file (its graph takes RGB values 0…255, not 0…1).
    public static func isDlibModel(_ path: String) -> Bool { path.hasSuffix(".dat") }
}
