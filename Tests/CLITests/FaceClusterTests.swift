import Foundation
import ImageIO
import XCTest

/// `cnnpipe faces cluster` end to end, and enrolling what it found (`gallery enroll --from-cluster`)
/// or what a photo manager named (`gallery enroll --from-regions`).
final class FaceClusterTests: XCTestCase {
    /// Absolute and without "..": the paths the listings hold.
    private let faces = URL(fileURLWithPath: TestEnv.corpus + "/faces").standardizedFileURL.path

    private func text(_ d: Data) -> String { String(decoding: d, as: UTF8.self) }

    private func needModels() throws {
        guard FileManager.default.fileExists(atPath: TestEnv.root + "/models/dlib_face_recognition_resnet_model_v1.dat") else {
            throw XCTSkip("models not fetched (scripts/setup-models.sh)")
        }
    }

    private func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try read(path)) as! [String: Any]
    }

    func testClusterWritesSheetsListingsAndEnrollableClusters() throws {
        try needModels()
        let dir = try TestEnv.tempDir()
        let salley = ["000179_02159509.jpg", "000183_02159543.jpg", "000186_02159346.jpg"].map { faces + "/train/john_salley/" + $0 }
        let simm = try FileManager.default.contentsOfDirectory(atPath: faces + "/train/john_simm").sorted().prefix(3)
            .map { faces + "/train/john_simm/" + $0 }
        let obama = faces + "/train/barack_obama/obama.jpg", giraffe = faces + "/noface/giraffe.jpg"
        let broken = dir + "/broken.jpg"
        try Data(try read(obama).prefix(200)).write(to: URL(fileURLWithPath: broken))
        let out = dir + "/clusters"
        var r = try cnnpipe(["faces", "cluster", "-o", out] + salley + simm + [obama, giraffe, broken])
        XCTAssertEqual(r.status, 1, "the broken photo")
        XCTAssertTrue(r.stderr.hasPrefix("cnnpipe: error: \(broken): "), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertEqual(text(r.stdout), """
            7 faces in 8 images: 3 clusters (2 of several faces, 1 single)
            cluster 1: 3 faces
            cluster 2: 3 faces
            written to \(out)

            """)

        // The listing: one line per face; each person's faces in one cluster, the two largest first.
        let csv = try String(contentsOfFile: out + "/clusters.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "cluster,path,left,top,right,bottom")
        XCTAssertEqual(csv.count, 8)
        var clusterOf: [String: String] = [:]
        for line in csv.dropFirst() {
            let fields = line.split(separator: ",")
            XCTAssertEqual(fields.count, 6, String(line))
            clusterOf[String(fields[1])] = String(fields[0])
            XCTAssertTrue(fields[2...].allSatisfy { Int($0) != nil }, String(line))
        }
        XCTAssertEqual(Set(salley.map { clusterOf[$0] }), ["1"])
        XCTAssertEqual(Set(simm.map { clusterOf[$0] }), ["2"])
        XCTAssertEqual(clusterOf[obama], "3")
        let listing = try json(out + "/clusters.json")
        XCTAssertEqual((listing["clusters"] as! [[String: Any]]).map { $0["size"] as! Int }, [3, 3, 1])
        XCTAssertEqual(listing["threshold"] as? Double, 0.5)

        // Sheets: 3 faces of 150 pixels on a 2 × 2 grid; singletons together.
        for n in [1, 2] {
            let sheet = try Codec.decode([UInt8](try read(out + "/\(n)/sheet.jpg"))).image
            XCTAssertEqual(sheet.width, 2 * 150 + 3 * 4)
            XCTAssertGreaterThan(sheet.height, 2 * 150)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/3/sheet.jpg"))
        XCTAssertEqual(try Codec.decode([UInt8](try read(out + "/singletons.jpg"))).image.width, 150 + 2 * 4)
        let cluster1 = try json(out + "/1/faces.json")
        XCTAssertEqual(cluster1["format"] as? String, "cnnpipe-face-cluster")
        XCTAssertEqual((cluster1["faces"] as! [[String: Any]]).map { ($0["embedding"] as! [Double]).count }, [128, 128, 128])

        // An earlier result is never overwritten.
        let before = try read(out + "/clusters.csv")
        r = try cnnpipe(["faces", "cluster", "-o", out, obama])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "cnnpipe: error: \(out) is not empty; give a new or empty folder (earlier results are not overwritten)\n")
        XCTAssertEqual(try read(out + "/clusters.csv"), before)

        // Naming a cluster enrols its faces (no photo is read again: the cluster holds the embeddings).
        let g = dir + "/g.db"
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--from-cluster", out + "/1", "--name", "John Salley"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(text(r.stdout), "enrolled John Salley: 3 embeddings, 3 in total\n")
        let export = try JSONSerialization.jsonObject(with: try cnnpipe(["gallery", "export", "--gallery", g]).stdout) as! [String: Any]
        let sources = ((export["people"] as! [[String: Any]])[0]["embeddings"] as! [[String: Any]]).map { $0["source"] as! String }
        XCTAssertEqual(Set(sources), Set(salley))

        // Clustering with the gallery leaves its people out: what is left is still to be named.
        let out2 = dir + "/unnamed"
        r = try cnnpipe(["faces", "cluster", "--gallery", g, "-o", out2] + salley + simm + [obama])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(text(r.stdout).hasPrefix("7 faces in 7 images, 3 identified by the gallery: 2 clusters (1 of several faces, 1 single)\n"),
                      text(r.stdout))
        let identified = try json(out2 + "/clusters.json")["identified"] as! [[String: Any]]
        XCTAssertEqual(identified.map { $0["name"] as! String }, ["John Salley", "John Salley", "John Salley"])
        XCTAssertEqual(identified.map { $0["path"] as! String }, salley)

        // Embeddings of another model are refused by the gallery.
        var cluster = cluster1
        cluster["model_identity"] = String(repeating: "ab", count: 32)
        let other = dir + "/other/1"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: cluster).write(to: URL(fileURLWithPath: other + "/faces.json"))
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--from-cluster", other, "--name", "Someone"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("model identity mismatch"), r.stderr)
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--from-cluster", dir, "--name", "Someone"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "cnnpipe: error: \(dir): no faces.json (not a cluster folder of cnnpipe faces cluster)\n")
    }

    /// A photo tagged in place (cnnpipe's own face-detect | identify writes named regions) and one
    /// with a digiKam-style sidecar holding a loose hand-drawn region, an unnamed one and a region
    /// where there is no face.
    func testEnrollFromNamedRegions() throws {
        try needModels()
        let dir = try TestEnv.tempDir()
        let known = dir + "/known.db", library = dir + "/library"
        try FileManager.default.createDirectory(atPath: library, withIntermediateDirectories: true)
        var r = try cnnpipe(["gallery", "enroll", "--gallery", known, "--name", "Barack Obama", faces + "/train/barack_obama/obama.jpg"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try cnnpipe(["run", "-e", "face-detect | identify gallery=\(known)", faces + "/group/obama_biden_two_people.jpg",
                         "-o", library + "/two.jpg"])
        XCTAssertEqual(r.status, 0, r.stderr)

        let biden = library + "/biden.jpg"
        try FileManager.default.copyItem(atPath: faces + "/test/joe_biden/biden.jpg", toPath: biden)
        r = try cnnpipe(["faces", "detect", "--json", biden])
        let box = (try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any])["box"] as! [String: Double]
        let image = try Codec.decode([UInt8](try read(biden))).image
        let (w, h) = (Double(image.width), Double(image.height))
        let side = (box["right"]! - box["left"]! + 1) * 1.5     // looser than the detector's box, and higher
        let cx = (box["left"]! + box["right"]!) / 2, cy = (box["top"]! + box["bottom"]!) / 2 - 0.1 * side
        func region(_ name: String?, _ x: Double, _ y: Double, _ s: Double) -> String {
            """
            <rdf:li><rdf:Description mwg-rs:Type="Face"\(name.map { " mwg-rs:Name=\"\($0)\"" } ?? "")>
             <mwg-rs:Area stArea:x="\(x / w)" stArea:y="\(y / h)" stArea:w="\(s / w)" stArea:h="\(s / h)" stArea:unit="normalized"/>
            </rdf:Description></rdf:li>
            """
        }
        let sidecar = """
            <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
            <rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
              xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#">
            <mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="\(image.width)" stDim:h="\(image.height)" stDim:unit="pixel"/>
            <mwg-rs:RegionList><rdf:Bag>
            \(region("Joe Biden", cx, cy, side))
            \(region(nil, cx, cy, side))
            \(region("Nobody", 8, 8, 12))
            </rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>
            """
        try sidecar.write(toFile: biden + ".xmp", atomically: true, encoding: .utf8)

        let g = dir + "/g.db"
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--from-regions", library])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(text(r.stdout), """
            Joe Biden: 1 face enrolled
            Barack Obama: 1 face enrolled
            enrolled 2 faces of 2 people from 2 photos; 1 named region without a detected face; 2 regions without a name skipped

            """)
        XCTAssertTrue(r.stderr.contains("\(biden): region 'Nobody' matches no detected face (best overlap 0.00)"), r.stderr)

        // The names went to the right faces: another photo of each is identified.
        r = try cnnpipe(["faces", "identify", "--gallery", g, faces + "/train/joe_biden/biden2.jpg", faces + "/test/barack_obama/obama1.jpg"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(text(r.stdout).split(separator: "\n").map { String($0.split(separator: ",")[1]) }, ["Joe Biden", "Barack Obama"])
        // Again: nothing new.
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--from-regions", library])
        XCTAssertTrue(text(r.stdout).hasPrefix("Joe Biden: 0 faces enrolled, 1 already enrolled\n"), text(r.stdout))
        r = try cnnpipe(["gallery", "enroll", "--gallery", g, "--from-regions", "--name", "X", library])
        XCTAssertEqual(r.status, 2)
    }
}
