import Foundation

/// The faces of one cluster made by `cnnpipe faces cluster` (DIR/N/faces.json): where each face is
/// and its embedding, with the identity of the model that made them, so `gallery enroll
/// --from-cluster` can enrol them without running the network again (and a gallery of another
/// model refuses them).
///
///     {"format": "cnnpipe-face-cluster", "version": 1, "model_identity": "…", "dimension": 128,
///      "cluster": 3, "threshold": 0.5,
///      "faces": [
///       {"index": 12, "path": "/photos/a.jpg", "box": {"left": 10, "top": 20, "right": 90, "bottom": 100},
///        "embedding": [0.0123, …]},
///       …]}
///
/// `index` is the face's place in the order the faces were found (inputs in order, each image's
/// faces by detector score); `box` is in pixels of the upright image, right and bottom inclusive.
public struct FaceClusterFile: Codable, Equatable, Sendable {
    public static let formatName = "cnnpipe-face-cluster"
    public static let currentVersion = 1
    public static let fileName = "faces.json"

    public struct Box: Codable, Equatable, Sendable {
        public var left, top, right, bottom: Int
        public init(left: Int, top: Int, right: Int, bottom: Int) {
            self.left = left; self.top = top; self.right = right; self.bottom = bottom
        }
    }

    public struct Face: Codable, Equatable, Sendable {
        public var index: Int
        public var path: String
        public var box: Box
        public var embedding: [Float]
        public init(index: Int, path: String, box: Box, embedding: [Float]) {
            self.index = index; self.path = path; self.box = box; self.embedding = embedding
        }
    }

    public var format: String
    public var version: Int
    public var modelIdentity: String
    public var dimension: Int
    public var cluster: Int
    public var threshold: Float
    public var faces: [Face]

    enum CodingKeys: String, CodingKey {
        case format, version, dimension, cluster, threshold, faces
        case modelIdentity = "model_identity"
    }

    public init(modelIdentity: String, cluster: Int, threshold: Float, faces: [Face]) {
        format = Self.formatName
        version = Self.currentVersion
        self.modelIdentity = modelIdentity
        dimension = Embedding.dimension
        self.cluster = cluster
        self.threshold = threshold
        self.faces = faces
    }

    /// Written by hand, one face per line (Swift's Float description reads back as the same Float).
    public func encoded() -> Data {
        var out = "{\"format\": \(GalleryJSON.string(format)), \"version\": \(version), "
        out += "\"model_identity\": \(GalleryJSON.string(modelIdentity)), \"dimension\": \(dimension),\n"
        out += " \"cluster\": \(cluster), \"threshold\": \(threshold.description),\n \"faces\": ["
        for (i, f) in faces.enumerated() {
            out += i == 0 ? "\n" : ",\n"
            out += "  {\"index\": \(f.index), \"path\": \(GalleryJSON.string(f.path)), \"box\": {\"left\": \(f.box.left), "
            out += "\"top\": \(f.box.top), \"right\": \(f.box.right), \"bottom\": \(f.box.bottom)},\n"
            out += "   \"embedding\": [" + f.embedding.map(\.description).joined(separator: ", ") + "]}"
        }
        out += faces.isEmpty ? "]}\n" : "\n ]}\n"
        return Data(out.utf8)
    }

    /// Reads and checks a cluster file; errors are one line without the file's name.
    public static func decode(_ data: Data) throws -> FaceClusterFile {
        let file: FaceClusterFile
        do {
            file = try JSONDecoder().decode(FaceClusterFile.self, from: data)
        } catch {
            throw GalleryError("not a cluster file of cnnpipe faces cluster (\(Self.describe(error)))")
        }
        guard file.format == formatName else { throw GalleryError("format is '\(file.format)', not \(formatName)") }
        guard file.version <= currentVersion else {
            throw GalleryError("cluster file version \(file.version) is newer than this cnnpipe's (\(currentVersion)); update cnnpipe")
        }
        guard file.dimension == Embedding.dimension else {
            throw GalleryError("embeddings of \(file.dimension) numbers, expected \(Embedding.dimension)")
        }
        for f in file.faces { try Embedding.validate(f.embedding, "face \(f.index) (\(f.path))") }
        return file
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "\(key.stringValue) is missing"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            let at = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            return (at.isEmpty ? "" : at + ": ") + c.debugDescription
        default: return "\(error)"
        }
    }
}
