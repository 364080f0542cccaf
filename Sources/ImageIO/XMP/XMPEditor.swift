/// Byte-range edits of an XMP packet: remove properties, add an `rdf:Description`, drop
/// descriptions left empty. Everything not edited stays byte for byte, so the tags other tools
/// wrote survive, and editing twice with the same content gives the same packet (idempotent).
public struct XMPEditor {
    public private(set) var bytes: [UInt8]

    public static let rdfNamespace = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

    public static let emptyPacket = Array("""
        <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
        <x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="cnnpipe">
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        </rdf:RDF>
        </x:xmpmeta>
        <?xpacket end="w"?>
        """.utf8)

    /// nil when the packet is not well-formed XML with an `rdf:RDF` element (it is then left alone).
    public init?(_ packet: [UInt8]?) {
        let bytes = packet.flatMap { $0.allSatisfy(Self.isBlank) ? nil : $0 } ?? Self.emptyPacket
        guard let doc = XMLDocument(bytes), !doc.all(namespace: Self.rdfNamespace, local: "RDF").isEmpty else { return nil }
        self.bytes = bytes
    }

    public var document: XMLDocument { XMLDocument(bytes)! }

    /// Removes every property element (namespace, local name) wherever it is, with its indentation.
    public mutating func removeProperties(_ names: [(namespace: String, local: String)]) {
        let doc = document
        let ranges = doc.elements.indices.filter { i in
            let e = doc.elements[i]
            return names.contains { $0.namespace == e.namespace && $0.local == e.localName }
        }.map { doc.elements[$0].range }
        remove(outermost(ranges))
    }

    /// Removes attributes (namespace, local name) from every start tag, with the space before them.
    public mutating func removeAttributes(_ names: [(namespace: String, local: String)]) {
        let doc = document
        var ranges: [Range<Int>] = []
        for e in doc.elements {
            for a in e.attributes where names.contains(where: { $0.namespace == a.namespace && $0.local == a.localName }) {
                var start = a.range.lowerBound
                while start > e.range.lowerBound && Self.isBlank(bytes[start - 1]) { start -= 1 }
                ranges.append(start..<a.range.upperBound)
            }
        }
        splice(ranges.map { ($0, [UInt8]()) })
    }

    /// The `rdf:Description` elements directly under `rdf:RDF`: their byte ranges, and their text
    /// made standalone (the namespace declarations they use from outside copied onto them).
    public func topLevelDescriptions() -> [(range: Range<Int>, text: [UInt8])] {
        let doc = document
        guard let rdf = doc.all(namespace: Self.rdfNamespace, local: "RDF").first else { return [] }
        let outer = doc.namespacesInScope(of: rdf)
        return doc.children(of: rdf, namespace: Self.rdfNamespace, local: "Description").map { i in
            let e = doc.elements[i]
            let own = Set(e.declarations.map(\.prefix))
            let added = outer.filter { !own.contains($0.key) && !["x", "xml", ""].contains($0.key) }
                .sorted { $0.key < $1.key }
                .map { " xmlns:\($0.key)=\"\(XMLDocument.escape($0.value))\"" }.joined()
            var text = Array(doc.bytes[e.range])
            text.insert(contentsOf: Array(added.utf8), at: e.qualifiedName.utf8.count + 1)
            return (e.range, text)
        }
    }

    /// Removes whole elements given by their ranges (with their own lines).
    public mutating func removeRanges(_ ranges: [Range<Int>]) { remove(outermost(ranges)) }

    /// Removes `rdf:Description` elements holding nothing (no properties, no attributes but
    /// namespace declarations and rdf:about) — what is left after their properties were removed.
    public mutating func removeEmptyDescriptions() {
        let doc = document
        let empty = doc.all(namespace: Self.rdfNamespace, local: "Description").filter { i in
            let e = doc.elements[i]
            guard e.children.isEmpty, e.attributes.allSatisfy({ $0.namespace == Self.rdfNamespace && $0.localName == "about" })
            else { return false }
            guard let parent = e.parent, doc.elements[parent].namespace == Self.rdfNamespace,
                  doc.elements[parent].localName == "RDF" else { return false }
            return doc.bytes[e.content].allSatisfy(Self.isBlank)
        }.map { doc.elements[$0].range }
        remove(empty)
    }

    /// Inserts a description (its full text, ending with a newline) just before `</rdf:RDF>`.
    public mutating func appendDescription(_ text: String) {
        let doc = document
        guard let rdf = doc.all(namespace: Self.rdfNamespace, local: "RDF").first else { return }
        let e = doc.elements[rdf]
        var at = e.selfClosing ? e.range.lowerBound : e.content.upperBound
        if e.selfClosing {
            // <rdf:RDF .../> : open it up.
            let open = String(decoding: bytes[e.range.lowerBound..<(e.range.upperBound - 2)], as: UTF8.self) + ">\n"
            bytes.replaceSubrange(e.range, with: Array((open + "</" + e.qualifiedName + ">").utf8))
            at = e.range.lowerBound + open.utf8.count
        }
        // Start on a line of its own.
        var insertion = Array(text.utf8)
        if at > 0 && bytes[at - 1] != 0x0A {
            var k = at
            while k > 0 && (bytes[k - 1] == 0x20 || bytes[k - 1] == 0x09) { k -= 1 }
            if k > 0 && bytes[k - 1] == 0x0A { at = k } else { insertion.insert(0x0A, at: 0) }
        }
        bytes.insert(contentsOf: insertion, at: at)
    }

    /// The items of an array property (rdf:Bag, rdf:Seq or rdf:Alt), in order, wherever it is.
    public func arrayItems(_ namespace: String, _ local: String) -> [String] {
        let doc = document
        var items: [String] = []
        for p in doc.all(namespace: namespace, local: local) {
            for li in doc.descendants(of: p, namespace: Self.rdfNamespace, local: "li") {
                if let t = doc.text(of: li) { items.append(t) }
            }
        }
        return items
    }

    /// The value of a simple property written as an attribute or as an element.
    public func simpleValue(_ namespace: String, _ local: String) -> String? {
        let doc = document
        if let i = doc.all(namespace: namespace, local: local).first { return doc.text(of: i) }
        for d in doc.all(namespace: Self.rdfNamespace, local: "Description") {
            if let v = doc.elements[d].attribute(namespace, local) { return v }
        }
        return nil
    }

    /// Whether any element or attribute of this namespace with this local name is in the packet.
    public func has(_ namespace: String, _ local: String) -> Bool {
        simpleValue(namespace, local) != nil || !document.all(namespace: namespace, local: local).isEmpty
    }

    // MARK: byte edits

    private static func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0 }

    /// Ranges not inside another range of the list.
    private func outermost(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, r.upperBound <= last.upperBound { continue }
            result.append(r)
        }
        return result
    }

    /// Replaces byte ranges (non-overlapping) with new bytes.
    private mutating func splice(_ edits: [(Range<Int>, [UInt8])]) {
        guard !edits.isEmpty else { return }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var cursor = 0
        for (r, replacement) in edits.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) where r.lowerBound >= cursor {
            out += bytes[cursor..<r.lowerBound]
            out += replacement
            cursor = r.upperBound
        }
        out += bytes[cursor...]
        bytes = out
    }

    /// Removes the ranges with the indentation before them and the line break after them.
    private mutating func remove(_ ranges: [Range<Int>]) {
        guard !ranges.isEmpty else { return }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var cursor = 0
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where r.lowerBound >= cursor {
            var start = r.lowerBound, end = r.upperBound
            var k = start
            while k > cursor && (bytes[k - 1] == 0x20 || bytes[k - 1] == 0x09) { k -= 1 }
            var e = end
            while e < bytes.count && (bytes[e] == 0x20 || bytes[e] == 0x09) { e += 1 }
            if (k == 0 || bytes[k - 1] == 0x0A) && e < bytes.count && bytes[e] == 0x0A {
                start = k; end = e + 1      // the element had its own line(s): take the whole lines
            }
            out += bytes[cursor..<start]
            cursor = end
        }
        out += bytes[cursor...]
        bytes = out
    }
}
