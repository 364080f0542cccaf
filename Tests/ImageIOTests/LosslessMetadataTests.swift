import FrameModel
import Foundation
@testable import ImageIO
import XCTest

/// Writing faces into a file whose pixels did not change keeps the coded image and every other
/// segment/chunk byte for byte, is idempotent, and puts regions where other tools expect them.
final class LosslessMetadataTests: XCTestCase {
    static let faces = [
        Face(box: .init(x: 10, y: 20, width: 40, height: 50), name: "Ada Lovelace"),
        Face(box: .init(x: 60, y: 5, width: 20, height: 30), name: "unknown"),
    ]

    /// Every image of the corpus, as its own file.
    static func corpusImages() throws -> [String] {
        let root = TestImages.corpus
        let all = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }
        return all.filter { ImageFormat(fileExtension: ($0 as NSString).pathExtension) != nil }.sorted().map { root + "/" + $0 }
    }

    /// Decodes, then writes back with `faces` (as the host does for a metadata-only graph).
    static func tag(_ bytes: [UInt8], faces: [Face] = faces, tags: FaceTags = FaceTags()) throws -> [UInt8] {
        var decoded = try Codec.decode(bytes)
        decoded.metadata.annotations.faces = faces
        var options = EncodeOptions()
        options.faceTags = tags
        return try Codec.write(decoded.image, metadata: decoded.metadata, as: decoded.format, options: options)
    }

    /// The parts of a file that must not change: JPEG segments other than XMP plus the scan data
    /// to the end; PNG chunks other than XMP (IDAT included); WebP chunks other than VP8X and XMP.
    static func preserved(_ bytes: [UInt8]) throws -> [[UInt8]] {
        switch ImageFormat.sniff(bytes)! {
        case .jpeg:
            let j = try JPEGContainer(bytes)
            return j.segments.filter { !j.isXMP($0) && !j.isExtendedXMP($0) }.map { Array(bytes[$0.range]) }
                + [Array(bytes[j.scanStart...])]
        case .png:
            let p = try PNGContainer(bytes)
            return p.chunks.filter { !p.isXMP($0) }.map { Array(bytes[$0.range]) }
        case .webp:
            let w = try WebPContainer(bytes)
            return w.chunks.filter { !["VP8X", "XMP "].contains($0.fourCC) }.map { Array(bytes[$0.data]) }
        case .pnm, .pam:
            return [bytes]
        }
    }

    func testTaggingEveryCorpusImageKeepsEveryOtherByteAndIsIdempotent() throws {
        var checked = 0
        for path in try Self.corpusImages() {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            // JPEGs as they are; the PNGs too, and every photo also as a PNG and a WebP of our own making.
            var files = [original]
            if ImageFormat.sniff(original) == .jpeg && checked % 8 == 0 {
                let image = try Codec.decode(original).image
                files.append(try Codec.encode(image, as: .png))
                files.append(try Codec.encode(image, as: .webp))
                var lossless = EncodeOptions()
                lossless.webpLossless = true
                files.append(try Codec.encode(image, as: .webp, options: lossless))
            }
            for file in files {
                let tagged = try Self.tag(file)
                XCTAssertEqual(try Self.preserved(tagged), try Self.preserved(file), path)
                XCTAssertEqual(try Codec.decode(tagged).image, try Codec.decode(file).image, path)
                let again = try Self.tag(tagged)
                XCTAssertEqual(again, tagged, "\(path): tagging a tagged file must change nothing")
                let regions = XMPFaceRegions.regions(try EmbeddedXMP.read(tagged, format: ImageFormat.sniff(tagged)!)!)
                XCTAssertEqual(regions.map(\.name), ["Ada Lovelace", nil], path)
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 80)
    }

    func testUnchangedFileWithNothingToWriteIsReturnedAsIs() throws {
        let original = try TestImages.corpusFile("content/dog.jpg")
        XCTAssertEqual(try Self.tag(original, faces: []), original)
    }

    /// exiftool sees every tag of the original, plus the regions: nothing else changed.
    func testExiftoolSeesEveryOriginalTag() throws {
        for name in ["content/dog.jpg", "faces/group/bald_guys.jpg", "faces/test/alex_lacamoire/alex-lacamoire.png"] {
            let original = try TestImages.corpusFile(name)
            let ext = (name as NSString).pathExtension
            let a = TestImages.tempPath(ext), b = TestImages.tempPath(ext)
            try Data(original).write(to: URL(fileURLWithPath: a))
            try Data(try Self.tag(original)).write(to: URL(fileURLWithPath: b))
            let before = try Self.exiftoolTags(a), after = try Self.exiftoolTags(b)
            for (key, value) in before where !key.hasPrefix("System:") && key != "SourceFile" {
                XCTAssertEqual("\(after[key] ?? "missing")", "\(value)", "\(name): \(key)")
            }
            let added = Set(after.keys).subtracting(before.keys).filter { !$0.hasPrefix("System:") }
            XCTAssertTrue(added.allSatisfy { $0.hasPrefix("XMP-mwg-rs:") || $0.hasPrefix("XMP-MP:") || $0 == "XMP-x:XMPToolkit" },
                          "\(name): unexpected new tags \(added.sorted())")
            XCTAssertNotNil(after["XMP-mwg-rs:RegionName"])
        }
    }

    static func exiftoolTags(_ path: String) throws -> [String: Any] {
        let json = try TestImages.tool("exiftool", ["-a", "-G1", "-j", "-n", path])
        return (try JSONSerialization.jsonObject(with: json) as! [[String: Any]])[0]
    }

    /// A progressive JPEG with IPTC (APP13), Adobe APP14, an ICC profile, a comment and restart
    /// markers: every segment survives tagging, and also a re-encode keeps APP13 and APP14.
    func testProgressiveJPEGWithIPTCAdobeAndICCSurvives() throws {
        let src = TestImages.tempPath("jpg"), dst = TestImages.tempPath("jpg")
        // dog.jpg carries an sRGB ICC profile and EXIF, which ImageMagick keeps.
        try TestImages.tool("convert", [TestImages.corpus + "/content/dog.jpg", "-resize", "320x", "-interlace", "JPEG",
                                        "-define", "jpeg:restart-interval=2", "-set", "comment", "a comment", src])
        try TestImages.tool("exiftool", ["-q", "-overwrite_original", "-IPTC:Caption-Abstract=By the river",
                                         "-IPTC:By-line=Someone", src])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: src)))
        // An Adobe APP14 segment (transform 1 = YCbCr) right after SOI.
        let app14: [UInt8] = [0xFF, 0xEE, 0x00, 0x0E] + Array("Adobe".utf8) + [0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x01]
        bytes.insert(contentsOf: app14, at: 2)
        let j = try JPEGContainer(bytes)
        XCTAssertTrue(j.segments.contains { $0.marker == 0xED }, "no APP13 in the test file")
        XCTAssertTrue(j.segments.contains { $0.marker == 0xE2 }, "no ICC in the test file")
        XCTAssertTrue(j.segments.contains { $0.marker == 0xC2 }, "not progressive")

        let tagged = try Self.tag(bytes)
        XCTAssertEqual(try Self.preserved(tagged), try Self.preserved(bytes))
        try Data(tagged).write(to: URL(fileURLWithPath: dst))
        let t = try Self.exiftoolTags(dst)
        XCTAssertEqual(t["IPTC:Caption-Abstract"] as? String, "By the river")
        XCTAssertEqual(t["Adobe:ColorTransform"] as? Int, 1)
        XCTAssertNotNil(t["ICC_Profile:ProfileDescription"])

        // Pixels changed (or an encoding asked for): a re-encode, but in the source's manner.
        var decoded = try Codec.decode(bytes)
        var options = EncodeOptions()
        options.reencode = true
        decoded.metadata.annotations.faces = Self.faces
        let reencoded = try Codec.write(decoded.image, metadata: decoded.metadata, as: .jpeg, options: options)
        let traits = JPEGTraits(reencoded)!, sourceTraits = JPEGTraits(bytes)!
        XCTAssertEqual(traits.quality, sourceTraits.quality)
        XCTAssertEqual(traits.subsampling, sourceTraits.subsampling)
        XCTAssertEqual(sourceTraits.subsampling, .s440)
        XCTAssertTrue(traits.progressive)
        try Data(reencoded).write(to: URL(fileURLWithPath: dst))
        let r = try Self.exiftoolTags(dst)
        XCTAssertEqual(r["IPTC:Caption-Abstract"] as? String, "By the river")
        XCTAssertEqual(r["IPTC:By-line"] as? String, "Someone")
        XCTAssertEqual(r["Adobe:ColorTransform"] as? Int, 1)
    }

    /// The IJG quality is recovered from the tables libjpeg wrote, and the subsampling from SOF.
    func testQualityAndSubsamplingAreReadBack() throws {
        let image = TestImages.pattern(width: 64, height: 48, format: .rgb8, smooth: true)
        for (quality, subsampling) in [(35, JPEGTraits.Subsampling.s420), (75, .s444), (92, .s422), (99, .s444), (10, .s420), (60, .s440)] {
            var options = EncodeOptions()
            options.quality = quality
            options.subsampling = subsampling
            let traits = JPEGTraits(try Codec.encode(image, as: .jpeg, options: options))!
            XCTAssertEqual(traits.quality, quality)
            XCTAssertEqual(traits.subsampling, subsampling)
        }
    }

    /// MWG regions are over the stored pixel grid (MWG Guidelines 2.0 §5.9): a photo stored
    /// sideways with orientation 6 or 8 gets regions that land on the face once rotated.
    func testRegionsFollowTheStoredGridForRotatedPhotos() throws {
        let image = TestImages.pattern(width: 120, height: 80, format: .rgb8, smooth: true)
        for orientation in [6, 8, 3, 5] {
            // Stored 120x80; upright 80x120 for 6 and 8.
            let stored = try Codec.encode(image, metadata: FrameMetadata(exif: TestImages.exif(orientation: orientation)), as: .jpeg)
            let upright = try Codec.decode(stored)
            let face = Face(box: .init(x: 10, y: 30, width: 20, height: 40), name: "Ada")
            var tagged = upright.metadata
            tagged.annotations.faces = [face]
            let out = try Codec.write(upright.image, metadata: tagged, as: .jpeg)
            XCTAssertEqual(try Self.preserved(out), try Self.preserved(stored))
            let region = XMPFaceRegions.regions(try EmbeddedXMP.read(out, format: .jpeg)!)[0]
            XCTAssertEqual(region.appliedWidth, 120)
            XCTAssertEqual(region.appliedHeight, 80)
            // The upright box, normalised, mapped to the stored grid by hand (research table).
            let (W, H) = (Double(upright.image.width), Double(upright.image.height))
            let (u, v, w, h) = (10 / W, 30 / H, 20 / W, 40 / H)
            let expected: (Double, Double, Double, Double) = switch orientation {
            case 6: (v, 1 - u - w, h, w)
            case 8: (1 - v - h, u, h, w)
            case 3: (1 - u - w, 1 - v - h, w, h)
            default: (v, u, h, w)
            }
            XCTAssertEqual(region.x - region.w / 2, expected.0, accuracy: 1e-5, "orientation \(orientation)")
            XCTAssertEqual(region.y - region.h / 2, expected.1, accuracy: 1e-5, "orientation \(orientation)")
            XCTAssertEqual(region.w, expected.2, accuracy: 1e-5)
            XCTAssertEqual(region.h, expected.3, accuracy: 1e-5)
            // Read back: the same upright face.
            let back = try Codec.decode(out).metadata.annotations.faces[0]
            XCTAssertEqual(back.box.x, 10, accuracy: 1e-3)
            XCTAssertEqual(back.box.y, 30, accuracy: 1e-3)
            XCTAssertEqual(back.box.width, 20, accuracy: 1e-3)
            XCTAssertEqual(back.name, "Ada")
        }
    }

    /// More regions than one APP1 segment holds: an extended XMP packet, which exiftool reads back.
    func testLargePacketsGoToExtendedXMP() throws {
        let original = try TestImages.corpusFile("faces/group/bald_guys.jpg")
        let many = (0..<400).map { i in
            Face(box: .init(x: Double(i % 20) * 10, y: Double(i / 20) * 10, width: 8, height: 8),
                 name: "Person number \(i) with a rather long name to fill the packet")
        }
        let tagged = try Self.tag(original, faces: many)
        let j = try JPEGContainer(tagged)
        XCTAssertEqual(j.segments.filter(j.isXMP).count, 1)
        XCTAssertGreaterThan(j.segments.filter(j.isExtendedXMP).count, 1)
        XCTAssertLessThanOrEqual(j.xmp!.count, JPEGContainer.maxStandardXMP)
        XCTAssertEqual(try Self.preserved(tagged), try Self.preserved(original))
        XCTAssertEqual(XMPFaceRegions.regions(try EmbeddedXMP.read(tagged, format: .jpeg)!).count, 400)
        XCTAssertEqual(try Self.tag(tagged, faces: many), tagged, "idempotent with extended XMP too")
        let path = TestImages.tempPath("jpg")
        try Data(tagged).write(to: URL(fileURLWithPath: path))
        let names = try Self.exiftoolTags(path)["XMP-mwg-rs:RegionName"] as? [String]
        XCTAssertEqual(names?.count, 400, "exiftool reads the extended packet")
        // Back to a few faces: the extended packet goes away.
        let small = try Self.tag(tagged)
        XCTAssertTrue(try JPEGContainer(small).segments.allSatisfy { !(try! JPEGContainer(small)).isExtendedXMP($0) })
    }

    /// Keywords: merged with the user's, people under People/ in the hierarchical lists, and the
    /// ones cnnpipe added earlier removed when that person is no longer in the photo.
    func testPersonKeywordsMergeWithTheUsersOwn() throws {
        let src = TestImages.tempPath("jpg")
        try Data(try TestImages.corpusFile("content/dog.jpg")).write(to: URL(fileURLWithPath: src))
        try TestImages.tool("exiftool", ["-q", "-overwrite_original", "-XMP-dc:Subject=holiday", "-XMP-dc:Subject=beach",
                                         "-XMP-lr:HierarchicalSubject=Places|Beach", src])
        var tags = FaceTags()
        tags.keywords = Set(FaceTags.KeywordSchema.allCases)
        let once = try Self.tag([UInt8](try Data(contentsOf: URL(fileURLWithPath: src))), tags: tags)
        let path = TestImages.tempPath("jpg")
        try Data(once).write(to: URL(fileURLWithPath: path))
        var t = try Self.exiftoolTags(path)
        XCTAssertEqual(t["XMP-dc:Subject"] as? [String], ["holiday", "beach", "Ada Lovelace"])
        XCTAssertEqual(t["XMP-lr:HierarchicalSubject"] as? [String], ["Places|Beach", "People|Ada Lovelace"])
        XCTAssertEqual(t["XMP-digiKam:TagsList"] as? String, "People/Ada Lovelace")
        XCTAssertEqual(t["XMP-microsoft:LastKeywordXMP"] as? String, "People/Ada Lovelace")
        XCTAssertEqual(try Self.tag(once, tags: tags), once)
        // Ada is gone from the photo: her keywords go, the user's stay.
        let later = try Self.tag(once, faces: [Face(box: .init(x: 5, y: 5, width: 30, height: 30), name: "Grace Hopper")], tags: tags)
        try Data(later).write(to: URL(fileURLWithPath: path))
        t = try Self.exiftoolTags(path)
        XCTAssertEqual(t["XMP-dc:Subject"] as? [String], ["holiday", "beach", "Grace Hopper"])
        XCTAssertEqual(t["XMP-lr:HierarchicalSubject"] as? [String], ["Places|Beach", "People|Grace Hopper"])
    }

    /// A packet that is not well-formed is never replaced.
    func testMalformedPacketIsLeftAlone() throws {
        XCTAssertNil(XMPFaceRegions.write(Self.faces, width: 100, height: 100, into: Array("<x:xmpmeta><rdf:RDF></x:xmpmeta>".utf8)))
        XCTAssertNil(XMLDocument(Array("<a><b></a>".utf8)))
        XCTAssertNotNil(XMLDocument(Array("<a x='1'><!-- c --><![CDATA[<b>]]><b/></a>".utf8)))
    }

    /// Megabytes of regions (a hostile or huge packet) are read and rewritten: the scanner and the
    /// editor are linear (the earlier string-searching code took minutes on such packets).
    func testLargePacketIsReadAndRewritten() throws {
        let faces = (0..<6_000).map { Face(box: .init(x: Double($0 % 100), y: Double($0 / 100), width: 1, height: 1), name: "p\($0)") }
        let packet = XMPFaceRegions.write(faces, width: 1000, height: 1000, into: nil)!
        XCTAssertGreaterThan(packet.count, 1_000_000)
        XCTAssertEqual(XMPFaceRegions.regions(packet).count, 6_000)
        XCTAssertEqual(XMPFaceRegions.write(faces, width: 1000, height: 1000, into: packet), packet)
    }
}
