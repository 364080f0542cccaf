/// A single linear pass over an XML document (an XMP packet) that records where every element
/// starts and ends, in bytes, with its namespace-resolved name and its attributes. Editing then
/// splices byte ranges, so everything an edit does not touch is kept byte for byte.
///
/// Only what XMP uses is understood: elements, attributes, text, comments, processing
/// instructions, CDATA. A document that is not well formed (an end tag that does not match, an
/// unclosed tag) gives nil: an edit must never guess.
public struct XMLDocument {
    public struct Attribute {
        public var qualifiedName: String
        public var namespace: String?
        public var localName: String
        /// The value with entities decoded.
        public var value: String
        /// From the name to the closing quote.
        public var range: Range<Int>
    }

    public struct Element {
        public var qualifiedName: String
        public var namespace: String?
        public var localName: String
        public var attributes: [Attribute]
        /// The namespaces this element declares (prefix, URI); "" is the default namespace.
        public var declarations: [(prefix: String, uri: String)]
        public var parent: Int?
        public var children: [Int] = []
        /// `<` of the start tag up to one past the `>` of the end tag (or of a self-closing tag).
        public var range: Range<Int>
        /// Between the start tag's `>` and the end tag's `<`; empty for a self-closing tag.
        public var content: Range<Int>
        public var selfClosing: Bool

        public func attribute(_ namespace: String, _ local: String) -> String? {
            attributes.first { $0.namespace == namespace && $0.localName == local }?.value
        }
    }

    public let bytes: [UInt8]
    public private(set) var elements: [Element] = []

    /// Largest document scanned (an XMP packet is at most a few hundred KB in practice).
    public static let maxBytes = 16 << 20

    public init?(_ bytes: [UInt8]) {
        guard bytes.count <= Self.maxBytes else { return nil }
        self.bytes = bytes
        guard scan() else { return nil }
    }

    /// Text content of an element (entities decoded, CDATA kept), or nil when it has child elements.
    public func text(of index: Int) -> String? {
        let e = elements[index]
        guard e.children.isEmpty else { return nil }
        return Self.decodeEntities(bytes[e.content])
    }

    public func descendants(of index: Int, namespace: String, local: String) -> [Int] {
        var found: [Int] = [], stack = elements[index].children.reversed() as [Int]
        while let i = stack.popLast() {
            if elements[i].namespace == namespace && elements[i].localName == local { found.append(i) }
            stack += elements[i].children.reversed()
        }
        return found
    }

    /// Every namespace declaration in scope at an element (inner declarations win).
    public func namespacesInScope(of index: Int) -> [String: String] {
        var chain: [Int] = []
        var i: Int? = index
        while let k = i { chain.append(k); i = elements[k].parent }
        var scope: [String: String] = [:]
        for k in chain.reversed() { for d in elements[k].declarations { scope[d.prefix] = d.uri } }
        return scope
    }

    public func all(namespace: String, local: String) -> [Int] {
        elements.indices.filter { elements[$0].namespace == namespace && elements[$0].localName == local }
    }

    public func children(of index: Int, namespace: String, local: String) -> [Int] {
        elements[index].children.filter { elements[$0].namespace == namespace && elements[$0].localName == local }
    }

    // MARK: scanning

    private mutating func scan() -> Bool {
        var stack: [Int] = []
        var scopes: [[String: String]] = [["xml": "http://www.w3.org/XML/1998/namespace"]]
        var scopeDepth: [Int] = [0]       // element depth at which each scope was pushed
        let n = bytes.count
        var i = 0
        return bytes.withUnsafeBufferPointer { b -> Bool in
            func find(_ pattern: [UInt8], from start: Int) -> Int? {
                guard !pattern.isEmpty, start <= n - pattern.count else { return nil }
                var j = start
                while j <= n - pattern.count {
                    if b[j] == pattern[0] {
                        var k = 1
                        while k < pattern.count && b[j + k] == pattern[k] { k += 1 }
                        if k == pattern.count { return j }
                    }
                    j += 1
                }
                return nil
            }
            while i < n {
                guard b[i] == UInt8(ascii: "<") else {
                    // Text: skip to the next tag.
                    while i < n && b[i] != UInt8(ascii: "<") { i += 1 }
                    continue
                }
                guard i + 1 < n else { return false }
                switch b[i + 1] {
                case UInt8(ascii: "?"):
                    guard let end = find(Array("?>".utf8), from: i + 2) else { return false }
                    i = end + 2
                case UInt8(ascii: "!"):
                    if i + 3 < n, b[i + 2] == UInt8(ascii: "-"), b[i + 3] == UInt8(ascii: "-") {
                        guard let end = find(Array("-->".utf8), from: i + 4) else { return false }
                        i = end + 3
                    } else if let end = i + 9 <= n && Array(b[(i + 2)..<(i + 9)]) == Array("[CDATA[".utf8)
                                ? find(Array("]]>".utf8), from: i + 9) : nil {
                        i = end + 3
                    } else {
                        // <!DOCTYPE ...> or similar declaration: no internal subsets in XMP.
                        var j = i + 2
                        while j < n && b[j] != UInt8(ascii: ">") {
                            if b[j] == UInt8(ascii: "[") { return false }
                            j += 1
                        }
                        guard j < n else { return false }
                        i = j + 1
                    }
                case UInt8(ascii: "/"):
                    var j = i + 2
                    while j < n && b[j] != UInt8(ascii: ">") { j += 1 }
                    guard j < n, let open = stack.popLast() else { return false }
                    let name = Self.trimmed(b, i + 2, j)
                    guard name == elements[open].qualifiedName else { return false }
                    elements[open].content = elements[open].content.lowerBound..<i
                    elements[open].range = elements[open].range.lowerBound..<(j + 1)
                    while scopeDepth.count > 1 && scopeDepth.last! > stack.count {
                        scopes.removeLast(); scopeDepth.removeLast()
                    }
                    i = j + 1
                default:
                    guard let tag = Self.parseStartTag(b, from: i) else { return false }
                    var scope = scopes.last!
                    var declared = false
                    var declarations: [(prefix: String, uri: String)] = []
                    for (name, value, _) in tag.attributes {
                        if name == "xmlns" { declarations.append(("", value)) }
                        else if name.hasPrefix("xmlns:") { declarations.append((String(name.dropFirst(6)), value)) }
                    }
                    for d in declarations { scope[d.prefix] = d.uri; declared = true }
                    if declared { scopes.append(scope); scopeDepth.append(stack.count + 1) }
                    func resolve(_ q: String, isAttribute: Bool) -> (String?, String) {
                        if let colon = q.firstIndex(of: ":") {
                            return (scope[String(q[..<colon])], String(q[q.index(after: colon)...]))
                        }
                        return (isAttribute ? nil : scope[""], q)
                    }
                    let (ns, local) = resolve(tag.name, isAttribute: false)
                    let attributes = tag.attributes.filter { $0.0 != "xmlns" && !$0.0.hasPrefix("xmlns:") }.map { name, value, range in
                        let (ans, alocal) = resolve(name, isAttribute: true)
                        return Attribute(qualifiedName: name, namespace: ans, localName: alocal, value: value, range: range)
                    }
                    let index = elements.count
                    elements.append(Element(qualifiedName: tag.name, namespace: ns, localName: local, attributes: attributes,
                                            declarations: declarations, parent: stack.last, range: i..<tag.end, content: tag.end..<tag.end,
                                            selfClosing: tag.selfClosing))
                    if let parent = stack.last { elements[parent].children.append(index) }
                    if tag.selfClosing {
                        while scopeDepth.count > 1 && scopeDepth.last! > stack.count {
                            scopes.removeLast(); scopeDepth.removeLast()
                        }
                    } else {
                        stack.append(index)
                    }
                    i = tag.end
                }
            }
            return stack.isEmpty && !elements.isEmpty
        }
    }

    private struct StartTag {
        var name: String
        var attributes: [(String, String, Range<Int>)]
        var end: Int
        var selfClosing: Bool
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    private static func parseStartTag(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> StartTag? {
        let n = b.count
        var j = start + 1
        let nameStart = j
        while j < n && !isSpace(b[j]) && b[j] != UInt8(ascii: ">") && b[j] != UInt8(ascii: "/") { j += 1 }
        guard j > nameStart, j < n else { return nil }
        let name = String(decoding: UnsafeBufferPointer(rebasing: b[nameStart..<j]), as: UTF8.self)
        var attributes: [(String, String, Range<Int>)] = []
        while true {
            while j < n && isSpace(b[j]) { j += 1 }
            guard j < n else { return nil }
            if b[j] == UInt8(ascii: ">") { return StartTag(name: name, attributes: attributes, end: j + 1, selfClosing: false) }
            if b[j] == UInt8(ascii: "/") {
                guard j + 1 < n, b[j + 1] == UInt8(ascii: ">") else { return nil }
                return StartTag(name: name, attributes: attributes, end: j + 2, selfClosing: true)
            }
            let aStart = j
            while j < n && !isSpace(b[j]) && b[j] != UInt8(ascii: "=") && b[j] != UInt8(ascii: ">") { j += 1 }
            let aName = String(decoding: UnsafeBufferPointer(rebasing: b[aStart..<j]), as: UTF8.self)
            while j < n && isSpace(b[j]) { j += 1 }
            guard j < n, b[j] == UInt8(ascii: "=") else { return nil }
            j += 1
            while j < n && isSpace(b[j]) { j += 1 }
            guard j < n, b[j] == UInt8(ascii: "\"") || b[j] == UInt8(ascii: "'") else { return nil }
            let quote = b[j]
            let vStart = j + 1
            j = vStart
            while j < n && b[j] != quote { j += 1 }
            guard j < n, !aName.isEmpty else { return nil }
            attributes.append((aName, decodeEntities(b[vStart..<j]), aStart..<(j + 1)))
            j += 1
        }
    }

    private static func trimmed(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
        var s = from, e = to
        while s < e && isSpace(b[s]) { s += 1 }
        while e > s && isSpace(b[e - 1]) { e -= 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self)
    }

    /// Text with the five predefined entities and numeric references decoded; CDATA sections unwrapped.
    static func decodeEntities<C: Collection>(_ raw: C) -> String where C.Element == UInt8 {
        let s = String(decoding: raw, as: UTF8.self)
        guard s.contains("&") || s.contains("<![CDATA[") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(where: { $0 == "&" || $0 == "<" }) {
            out += rest[..<amp]
            rest = rest[amp...]
            if rest.hasPrefix("<![CDATA["), let end = rest.range(of: "]]>") {
                out += rest[rest.index(rest.startIndex, offsetBy: 9)..<end.lowerBound]
                rest = rest[end.upperBound...]
                continue
            }
            guard rest.first == "&", let semi = rest.firstIndex(of: ";"), rest.distance(from: rest.startIndex, to: semi) <= 10 else {
                out.append(rest.removeFirst())
                continue
            }
            let entity = rest[rest.index(after: rest.startIndex)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalar: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") { scalar = UInt32(entity.dropFirst(2), radix: 16) }
                else if entity.hasPrefix("#") { scalar = UInt32(entity.dropFirst()) }
                if let v = scalar, let u = Unicode.Scalar(v) { out.unicodeScalars.append(u) } else { out += "&" + entity + ";" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    /// Text escaped for an attribute value or element content.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}": continue   // not allowed in XML 1.0
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
