import Foundation
import FoundationXML
import FrameModel

/// Face regions in XMP, as photo managers (digiKam, Lightroom, Picasa-era tools) and exiftool read
/// them: the Metadata Working Group's `mwg-rs:Regions` (normalised centre x, y, width, height over
/// `AppliedToDimensions`, `Type=Face`, optional `Name`), plus Microsoft's `MP:RegionInfo`
/// (normalised top-left rectangle and `PersonDisplayName`), which Windows Photo Gallery reads.
///
/// Reading turns the regions of an input file into frame faces (pixels, no confidence); writing
/// replaces whatever region blocks a packet had with the frame's faces and keeps everything else.
public enum XMPFaceRegions {
    static let mwgNamespace = "http://www.metadataworkinggroup.com/schemas/regions/"

    // MARK: reading

    /// The face regions of an XMP packet, in pixels of a `width` × `height` image.
    public static func read(_ xmp: [UInt8], width: Int, height: Int) -> [Face] {
        let collector = RegionCollector()
        let parser = XMLParser(data: Data(xmp))
        parser.delegate = collector
        parser.shouldProcessNamespaces = false
        guard parser.parse() || !collector.regions.isEmpty else { return [] }
        return collector.regions.compactMap { r in
            guard r.type == nil || r.type == "Face", let x = r.x, let y = r.y, let w = r.w, let h = r.h,
                  w > 0, h > 0, (r.unit ?? "normalized") == "normalized" else { return nil }
            let sx = Double(width), sy = Double(height)
            return Face(box: .init(x: (x - w / 2) * sx, y: (y - h / 2) * sy, width: w * sx, height: h * sy),
                        name: r.name.flatMap { $0.isEmpty ? nil : $0 })
        }
    }

    /// Collects `mwg-rs:RegionList` items, whether their fields are written as attributes
    /// (`<rdf:Description mwg-rs:Name="Ada">`) or as child elements (`<mwg-rs:Name>Ada</mwg-rs:Name>`).
    final class RegionCollector: NSObject, XMLParserDelegate {
        struct Region { var name, type, unit: String?; var x, y, w, h: Double? }
        var regions: [Region] = []
        private var stack: [String] = []
        private var current: Region?
        private var text = ""

        private func local(_ qualified: String) -> String { qualified.split(separator: ":").last.map(String.init) ?? qualified }

        private func set(_ key: String, _ value: String) {
            guard current != nil else { return }
            let v = value.trimmingCharacters(in: .whitespacesAndNewlines)
            switch key {
            case "mwg-rs:Name": current!.name = v
            case "mwg-rs:Type": current!.type = v
            case "stArea:x": current!.x = Double(v)
            case "stArea:y": current!.y = Double(v)
            case "stArea:w": current!.w = Double(v)
            case "stArea:h": current!.h = Double(v)
            case "stArea:unit": current!.unit = v
            default: break
            }
        }

        private var inRegionList: Bool { stack.contains("mwg-rs:RegionList") }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            stack.append(name)
            text = ""
            if inRegionList && name == "rdf:li" { current = Region() }
            if current != nil { for (k, v) in attributes { set(k, v) } }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if current != nil { set(name, text) }
            if name == "rdf:li", inRegionList, let r = current { regions.append(r); current = nil }
            stack.removeLast()
            text = ""
        }
    }

    // MARK: writing

    /// `xmp` (or an empty packet) with its region blocks replaced by `faces` (none: the blocks are removed).
    public static func write(_ faces: [Face], width: Int, height: Int, into xmp: [UInt8]?) -> [UInt8] {
        var packet = xmp.map { String(decoding: $0, as: UTF8.self) } ?? emptyPacket
        packet = removingElement("mwg-rs:Regions", from: packet)
        packet = removingElement("MP:RegionInfo", from: packet)
        guard !faces.isEmpty else { return Array(packet.utf8) }
        let description = regionDescription(faces, width: width, height: height)
        if let end = packet.range(of: "</rdf:RDF>") {
            packet.insert(contentsOf: description, at: end.lowerBound)
        } else {
            packet = emptyPacket.replacingOccurrences(of: "</rdf:RDF>", with: description + "</rdf:RDF>")
        }
        return Array(packet.utf8)
    }

    /// Whether a packet holds region blocks (so an output must be rewritten even without faces).
    public static func hasRegions(_ xmp: [UInt8]) -> Bool {
        let s = String(decoding: xmp, as: UTF8.self)
        return s.contains("<mwg-rs:Regions") || s.contains("<MP:RegionInfo")
    }

    static let emptyPacket = """
        <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
        <x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="cnnpipe">
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        </rdf:RDF>
        </x:xmpmeta>
        <?xpacket end="w"?>
        """

    static func regionDescription(_ faces: [Face], width: Int, height: Int) -> String {
        let w = Double(max(1, width)), h = Double(max(1, height))
        func n(_ v: Double) -> String { String(format: "%.6f", min(max(v, 0), 1)) }
        var mwg = "", mp = ""
        for face in faces {
            // Clipped to the image (a crop can cut a face); faces left with no area are not written.
            let x0 = max(face.box.x, 0), y0 = max(face.box.y, 0)
            let x1 = min(face.box.x + face.box.width, w), y1 = min(face.box.y + face.box.height, h)
            guard x1 > x0, y1 > y0 else { continue }
            let b = Face.Box(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
            let name = face.name.map(escaped)
            let nameAttribute = name.map { " mwg-rs:Name=\"\($0)\"" } ?? ""
            mwg += """
                 <rdf:li>
                  <rdf:Description mwg-rs:Type="Face"\(nameAttribute)>
                   <mwg-rs:Area stArea:x="\(n((b.x + b.width / 2) / w))" stArea:y="\(n((b.y + b.height / 2) / h))" \
                stArea:w="\(n(b.width / w))" stArea:h="\(n(b.height / h))" stArea:unit="normalized"/>
                  </rdf:Description>
                 </rdf:li>

                """
            let personName = name.map { "<MPReg:PersonDisplayName>\($0)</MPReg:PersonDisplayName>" } ?? ""
            mp += """
                 <rdf:li rdf:parseType="Resource"><MPReg:Rectangle>\(n(b.x / w)), \(n(b.y / h)), \(n(b.width / w)), \(n(b.height / h))</MPReg:Rectangle>\(personName)</rdf:li>

                """
        }
        return """
            <rdf:Description rdf:about="" xmlns:mwg-rs="\(mwgNamespace)"
              xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
              xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
              xmlns:MP="http://ns.microsoft.com/photo/1.2/"
              xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
              xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">
             <mwg-rs:Regions rdf:parseType="Resource">
              <mwg-rs:AppliedToDimensions stDim:w="\(width)" stDim:h="\(height)" stDim:unit="pixel"/>
              <mwg-rs:RegionList>
               <rdf:Bag>
            \(mwg)   </rdf:Bag>
              </mwg-rs:RegionList>
             </mwg-rs:Regions>
             <MP:RegionInfo rdf:parseType="Resource">
              <MPRI:Regions>
               <rdf:Bag>
            \(mp)   </rdf:Bag>
              </MPRI:Regions>
             </MP:RegionInfo>
            </rdf:Description>

            """
    }

    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The packet without every `<name …>…</name>` (or self-closing `<name …/>`) element.
    static func removingElement(_ name: String, from packet: String) -> String {
        var s = packet
        while let start = s.range(of: "<" + name, options: .literal),
              let afterName = s[start.upperBound...].first, afterName == " " || afterName == ">" || afterName == "/" || afterName.isNewline {
            let open = s[start.lowerBound...]
            guard let tagEnd = open.range(of: ">") else { break }
            var end = tagEnd.upperBound
            if s[s.index(before: tagEnd.lowerBound)] != "/" {
                // Same-name elements do not nest inside a region block, so the first closing tag ends it.
                guard let close = s[tagEnd.upperBound...].range(of: "</" + name + ">") else { break }
                end = close.upperBound
            }
            s.removeSubrange(start.lowerBound..<end)
        }
        return s
    }
}
