import Foundation
import FrameModel

/// Face regions in XMP, as photo managers (digiKam, Lightroom, Picasa-era tools) and exiftool read
/// them: the Metadata Working Group's `mwg-rs:Regions` (normalised centre x, y, width, height over
/// `AppliedToDimensions`, `Type=Face`, `Name` for a known person), plus Microsoft's `MP:RegionInfo`
/// (normalised top-left rectangle and `PersonDisplayName`), which Windows Photo Gallery reads.
///
/// Coordinates: frames are upright (the decoder applies the EXIF orientation), but MWG regions are
/// over the *stored* pixel grid, before the orientation ("Region metadata is applied to the stored
/// image", MWG Guidelines 2.0 §5.9; digiKam ≥ 6.1 and Immich do the same), with
/// `AppliedToDimensions` the stored size. So reading and writing go through the file's
/// `Orientation`; a file whose region dimensions match the upright size instead (digiKam ≤ 6.0
/// wrote regions that way) is read as upright. docs/METADATA.md has the details.
public enum XMPFaceRegions {
    static let mwgRegions = "http://www.metadataworkinggroup.com/schemas/regions/"
    static let stArea = "http://ns.adobe.com/xmp/sType/Area#"
    static let stDim = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    static let microsoftPhoto12 = "http://ns.microsoft.com/photo/1.2/"
    static let rdf = XMPEditor.rdfNamespace

    // MARK: reading

    /// One region as stored: normalised centre and size, over `applied` dimensions when given.
    public struct Region: Sendable, Equatable {
        public var name: String?
        public var type: String?
        public var x, y, w, h: Double
        /// `AppliedToDimensions` of the list the region is in.
        public var appliedWidth, appliedHeight: Int?
    }

    /// The face regions of an XMP packet, in pixels of the upright `width` × `height` frame of a
    /// file stored with `orientation`.
    public static func read(_ xmp: [UInt8], width: Int, height: Int, orientation: Orientation = .upright) -> [Face] {
        regions(xmp).compactMap { r in
            guard r.type == nil || r.type == "Face", r.w > 0, r.h > 0, r.w.isFinite, r.h.isFinite,
                  r.x.isFinite, r.y.isFinite else { return nil }
            let writtenUpright = orientation.swapsAxes && width != height
                && r.appliedWidth == width && r.appliedHeight == height
            let toUpright = writtenUpright ? Orientation.upright.upright : orientation.upright
            let box = Orientation.mapRect((r.x - r.w / 2, r.y - r.h / 2, r.w, r.h), toUpright)
            let sx = Double(width), sy = Double(height)
            return Face(box: .init(x: box.x * sx, y: box.y * sy, width: box.w * sx, height: box.h * sy),
                        name: r.name.flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    /// Every `mwg-rs:RegionList` item, whether its fields are attributes
    /// (`<rdf:Description mwg-rs:Name="Ada">`) or elements (`<mwg-rs:Name>Ada</mwg-rs:Name>`).
    public static func regions(_ xmp: [UInt8]) -> [Region] {
        guard let doc = XMLDocument(xmp) else { return [] }
        var found: [Region] = []
        for list in doc.all(namespace: mwgRegions, local: "RegionList") {
            var applied: (Int?, Int?) = (nil, nil)
            if let regions = doc.elements[list].parent,
               let dims = doc.children(of: regions, namespace: mwgRegions, local: "AppliedToDimensions").first {
                let holders = [dims] + doc.children(of: dims, namespace: rdf, local: "Description")
                func dim(_ local: String) -> Int? {
                    for e in holders {
                        if let v = doc.elements[e].attribute(stDim, local) { return Int(Double(v) ?? -1) }
                        if let c = doc.children(of: e, namespace: stDim, local: local).first, let t = doc.text(of: c) {
                            return Int(Double(t.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1)
                        }
                    }
                    return nil
                }
                applied = (dim("w"), dim("h"))
            }
            for li in doc.descendants(of: list, namespace: rdf, local: "li") {
                // The item's fields sit on the li (parseType="Resource") or on an rdf:Description inside it.
                let holders = [li] + doc.children(of: li, namespace: rdf, local: "Description")
                func field(_ ns: String, _ local: String, in elements: [Int]) -> String? {
                    for e in elements {
                        if let v = doc.elements[e].attribute(ns, local) { return v }
                        if let c = doc.children(of: e, namespace: ns, local: local).first, let t = doc.text(of: c) {
                            return t.trimmingCharacters(in: .whitespacesAndNewlines)
                        }
                    }
                    return nil
                }
                let areas = holders.flatMap { doc.children(of: $0, namespace: mwgRegions, local: "Area") }
                let areaHolders = areas + areas.flatMap { doc.children(of: $0, namespace: rdf, local: "Description") }
                let unit = field(stArea, "unit", in: areaHolders) ?? "normalized"
                guard unit == "normalized",
                      let x = field(stArea, "x", in: areaHolders).flatMap(Double.init),
                      let y = field(stArea, "y", in: areaHolders).flatMap(Double.init),
                      let w = field(stArea, "w", in: areaHolders).flatMap(Double.init),
                      let h = field(stArea, "h", in: areaHolders).flatMap(Double.init) else { continue }
                found.append(Region(name: field(mwgRegions, "Name", in: holders), type: field(mwgRegions, "Type", in: holders),
                                    x: x, y: y, w: w, h: h, appliedWidth: applied.0, appliedHeight: applied.1))
            }
        }
        return found
    }

    /// Whether a packet holds region blocks (so an output must be rewritten even without faces).
    public static func hasRegions(_ xmp: [UInt8]) -> Bool {
        guard let doc = XMLDocument(xmp) else { return false }
        return !doc.all(namespace: mwgRegions, local: "Regions").isEmpty
            || !doc.all(namespace: microsoftPhoto12, local: "RegionInfo").isEmpty
    }

    // MARK: writing

    /// `xmp` (or an empty packet) with its region blocks replaced by `faces` (none: the blocks are
    /// removed) and the rest of `tags`; everything else in the packet is kept. nil when the packet
    /// is not well-formed (it must then be left as it is).
    public static func write(_ faces: [Face], width: Int, height: Int, orientation: Orientation = .upright,
                             tags: FaceTags = FaceTags(), into xmp: [UInt8]?) -> [UInt8]? {
        guard var editor = XMPEditor(xmp) else { return nil }
        var body = ""
        if tags.regions {
            editor.removeProperties([(mwgRegions, "Regions"), (microsoftPhoto12, "RegionInfo")])
            body += regionElements(faces, width: width, height: height, orientation: orientation)
        }
        body += tags.keywordElements(names: faces.compactMap(\.name), editor: &editor)
        editor.removeProperties([(FaceTags.cnnpipeNamespace, "TagState")])
        if let state = tags.state {
            body += "  <cnnpipe:TagState>\(XMLDocument.escape(state))</cnnpipe:TagState>\n"
        }
        editor.removeEmptyDescriptions()
        guard !body.isEmpty else { return editor.bytes }
        // Only the namespaces the description uses are declared.
        let declarations = namespaces.filter { body.contains("<\($0.prefix):") || body.contains(" \($0.prefix):") }
            .map { "\n  xmlns:\($0.prefix)=\"\($0.uri)\"" }.joined()
        editor.appendDescription("<rdf:Description rdf:about=\"\"\(declarations)>\n\(body)</rdf:Description>\n")
        return editor.bytes
    }

    static let namespaces: [(prefix: String, uri: String)] = [
        ("mwg-rs", mwgRegions), ("stDim", stDim), ("stArea", stArea), ("MP", microsoftPhoto12),
        ("MPRI", "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"), ("MPReg", "http://ns.microsoft.com/photo/1.2/t/Region#"),
    ] + FaceTags.KeywordSchema.allCases.map { ($0.prefix, $0.namespace) } + [("cnnpipe", FaceTags.cnnpipeNamespace)]

    static func regionElements(_ faces: [Face], width: Int, height: Int, orientation: Orientation) -> String {
        let w = Double(max(1, width)), h = Double(max(1, height))
        func n(_ v: Double) -> String { String(format: "%.6f", min(max(v, 0), 1)) }
        var mwg = "", mp = ""
        for face in faces {
            // Clipped to the image (a crop can cut a face); faces left with no area are not written.
            let x0 = max(face.box.x, 0), y0 = max(face.box.y, 0)
            let x1 = min(face.box.x + face.box.width, w), y1 = min(face.box.y + face.box.height, h)
            guard x1 > x0, y1 > y0 else { continue }
            let b = Orientation.mapRect((x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h), orientation.stored)
            // "unknown" is what identify calls a face it could not name: no Name, so no person "unknown".
            let name = face.name.flatMap { $0.isEmpty || $0 == "unknown" ? nil : XMLDocument.escape($0) }
            let nameAttribute = name.map { " mwg-rs:Name=\"\($0)\"" } ?? ""
            mwg += """
                     <rdf:li>
                      <rdf:Description mwg-rs:Type="Face"\(nameAttribute)>
                       <mwg-rs:Area stArea:x="\(n(b.x + b.w / 2))" stArea:y="\(n(b.y + b.h / 2))" \
                stArea:w="\(n(b.w))" stArea:h="\(n(b.h))" stArea:unit="normalized"/>
                      </rdf:Description>
                     </rdf:li>

                """
            let personName = name.map { "<MPReg:PersonDisplayName>\($0)</MPReg:PersonDisplayName>" } ?? ""
            mp += "     <rdf:li rdf:parseType=\"Resource\"><MPReg:Rectangle>\(n(b.x)), \(n(b.y)), \(n(b.w)), \(n(b.h))</MPReg:Rectangle>\(personName)</rdf:li>\n"
        }
        guard !mwg.isEmpty else { return "" }
        let applied = orientation.swapsAxes ? (height, width) : (width, height)
        return """
              <mwg-rs:Regions rdf:parseType="Resource">
               <mwg-rs:AppliedToDimensions stDim:w="\(applied.0)" stDim:h="\(applied.1)" stDim:unit="pixel"/>
               <mwg-rs:RegionList>
                <rdf:Bag>
            \(mwg)    </rdf:Bag>
               </mwg-rs:RegionList>
              </mwg-rs:Regions>
              <MP:RegionInfo rdf:parseType="Resource">
               <MPRI:Regions>
                <rdf:Bag>
            \(mp)    </rdf:Bag>
               </MPRI:Regions>
              </MP:RegionInfo>

            """
    }
}
