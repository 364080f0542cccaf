import Drawing
import Foundation
import FrameModel
import Gallery
import ImageIO

/// The output folder of `faces cluster` (see its --help for the layout). Everything is written into a
/// temporary folder beside it, which then takes the folder's name in one rename: an interrupted run
/// leaves no half-written result, and an earlier result is never overwritten.
struct ClusterFolder {
    let path: String

    /// A cluster: its number (1 = largest) and its faces in the order they were found.
    struct Cluster {
        var number: Int
        var faces: [ClusteredFace]

        /// Faces grouped by label, largest group first (ties: the group whose first face came first).
        static func sortedBySize(faces: [ClusteredFace], labels: [Int]) -> [Cluster] {
            var groups: [Int: [ClusteredFace]] = [:]
            for (face, label) in zip(faces, labels) { groups[label, default: []].append(face) }
            let ordered = groups.values.sorted { a, b in
                a.count != b.count ? a.count > b.count : a[0].index < b[0].index
            }
            return ordered.enumerated().map { Cluster(number: $0 + 1, faces: $1) }
        }
    }

    /// Most faces on one sheet (a 20 × 20 grid); larger clusters show their first ones.
    static let sheetLimit = 400

    /// The folder must be new or empty.
    func checkWritable() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
        guard isDir.boolValue else { throw CLIError("\(path) is a file; give a new folder for the clusters") }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path), !entries.isEmpty {
            throw CLIError("\(path) is not empty; give a new or empty folder (earlier results are not overwritten)")
        }
    }

    func write(clusters: [Cluster], identified: [(face: ClusteredFace, who: Identification)], modelIdentity: String,
               threshold: Float, cropSide: Int) throws {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: path).standardizedFileURL
        let parent = target.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())")
        try? fm.removeItem(at: staging)
        try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        do {
            try writeContents(into: staging.path, clusters: clusters, identified: identified, modelIdentity: modelIdentity,
                              threshold: threshold, cropSide: cropSide)
            try checkWritable()     // still new or empty: rename(2) replaces an empty folder
            guard rename(staging.path, target.path) == 0 else {
                throw CLIError("cannot move the results to \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    private func writeContents(into dir: String, clusters: [Cluster], identified: [(face: ClusteredFace, who: Identification)],
                               modelIdentity: String, threshold: Float, cropSide: Int) throws {
        let text = try TextRenderer()
        var sheet = ContactSheet()
        sheet.fontSize = max(10, cropSide / 12)
        sheet.fitCaptions = true
        var csv = "cluster,path,left,top,right,bottom\n"
        var listing: [[String: Any]] = []
        var singletons: [ContactSheet.Tile] = []
        for c in clusters {
            let folder = dir + "/\(c.number)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
            let file = FaceClusterFile(modelIdentity: modelIdentity, cluster: c.number, threshold: threshold,
                                       faces: c.faces.map { .init(index: $0.index, path: $0.path, box: $0.box, embedding: $0.descriptor) })
            try file.encoded().write(to: URL(fileURLWithPath: folder + "/" + FaceClusterFile.fileName))
            if c.faces.count > 1 {
                if c.faces.count > Self.sheetLimit { warn("cluster \(c.number): the sheet shows \(Self.sheetLimit) of its \(c.faces.count) faces") }
                let tiles = try c.faces.prefix(Self.sheetLimit).map { try tile($0, caption: fileName($0.path)) }
                try writeJPEG(sheet.render(tiles, text: text), to: folder + "/sheet.jpg")
            } else if singletons.count < Self.sheetLimit {
                singletons.append(try tile(c.faces[0], caption: "\(c.number): \(fileName(c.faces[0].path))"))
            }
            for f in c.faces {
                csv += "\(c.number),\(csvField(f.path)),\(f.box.left),\(f.box.top),\(f.box.right),\(f.box.bottom)\n"
            }
            listing.append(["cluster": c.number, "size": c.faces.count, "sheet": c.faces.count > 1 ? "\(c.number)/sheet.jpg" : "singletons.jpg",
                            "faces": c.faces.map { ["index": $0.index, "path": $0.path, "box": box($0.box)] as [String: Any] }])
        }
        let single = clusters.filter { $0.faces.count == 1 }.count
        if single > Self.sheetLimit { warn("singletons.jpg shows \(Self.sheetLimit) of the \(single) faces alone in their cluster") }
        if !singletons.isEmpty { try writeJPEG(sheet.render(singletons, text: text), to: dir + "/singletons.jpg") }
        try Data(csv.utf8).write(to: URL(fileURLWithPath: dir + "/clusters.csv"))
        let summary: [String: Any] = [
            "threshold": Double(threshold), "model_identity": modelIdentity, "clusters": listing,
            "identified": identified.map { f, who in
                ["index": f.index, "path": f.path, "box": box(f.box), "name": who.name ?? "",
                 "distance": Double(who.distance ?? 0)] as [String: Any]
            },
        ]
        let json = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try (json + Data("\n".utf8)).write(to: URL(fileURLWithPath: dir + "/clusters.json"))
    }

    private func tile(_ face: ClusteredFace, caption: String) throws -> ContactSheet.Tile {
        ContactSheet.Tile(image: FloatImage(try Codec.decode(face.crop).image), caption: caption)
    }

    private func writeJPEG(_ image: FloatImage, to file: String) throws {
        try Data(try Codec.encode(image.image(.rgb8), as: .jpeg)).write(to: URL(fileURLWithPath: file))
    }

    private func box(_ b: FaceClusterFile.Box) -> [String: Int] {
        ["left": b.left, "top": b.top, "right": b.right, "bottom": b.bottom]
    }

    private func fileName(_ path: String) -> String { (path as NSString).lastPathComponent }

    /// RFC 4180: quoted when it holds a comma, quote or line break.
    private func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
