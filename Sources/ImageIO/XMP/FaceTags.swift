/// What a tagging run writes besides the regions: person keywords where each photo manager looks
/// for them, and cnnpipe's own record of the run (so a re-run can skip photos already done).
///
/// Keywords are merged: the ones a photo already has stay, the people named in it are added, and
/// the people cnnpipe added on an earlier run but no longer finds are taken away (cnnpipe keeps
/// the list of what it added in `cnnpipe:Keywords`), so a user's own keywords are never removed.
public struct FaceTags: Sendable, Equatable {
    public enum KeywordSchema: String, CaseIterable, Sendable {
        /// `dc:subject`: the plain keyword list every tool reads ("Ada Lovelace").
        case dublinCore = "dc"
        /// `lr:hierarchicalSubject`: Lightroom's keyword tree ("People|Ada Lovelace").
        case lightroom = "lr"
        /// `digiKam:TagsList`: digiKam's tag tree ("People/Ada Lovelace").
        case digiKam = "digikam"
        /// `MicrosoftPhoto:LastKeywordXMP`: Windows' tags ("People/Ada Lovelace").
        case microsoft = "microsoft"

        var namespace: String {
            switch self {
            case .dublinCore: "http://purl.org/dc/elements/1.1/"
            case .lightroom: "http://ns.adobe.com/lightroom/1.0/"
            case .digiKam: "http://www.digikam.org/ns/1.0/"
            case .microsoft: "http://ns.microsoft.com/photo/1.0/"
            }
        }
        var prefix: String {
            switch self {
            case .dublinCore: "dc"
            case .lightroom: "lr"
            case .digiKam: "digiKam"
            case .microsoft: "MicrosoftPhoto"
            }
        }
        var property: String {
            switch self {
            case .dublinCore: "subject"
            case .lightroom: "hierarchicalSubject"
            case .digiKam: "TagsList"
            case .microsoft: "LastKeywordXMP"
            }
        }
        /// digiKam's TagsList is an ordered array; the others are bags.
        var arrayType: String { self == .digiKam ? "Seq" : "Bag" }

        func keyword(for name: String, root: String) -> String {
            switch self {
            case .dublinCore: name
            case .lightroom: root.isEmpty ? name : "\(root)|\(name)"
            case .digiKam, .microsoft: root.isEmpty ? name : "\(root)/\(name)"
            }
        }
    }

    public static let cnnpipeNamespace = "http://ns.cnnpipe.dev/xmp/1.0/"

    /// Write the regions (mwg-rs and MP).
    public var regions = true
    /// Which keyword lists get the people's names (none: no keywords are written or removed).
    /// `cnnpipe run` writes none unless asked; `cnnpipe faces tag` writes all.
    public var keywords: Set<KeywordSchema> = []
    /// The root of the people keywords in the hierarchical lists ("People|Ada", "People/Ada").
    public var keywordRoot = "People"
    /// `cnnpipe:TagState`: what the run was (gallery revision, settings); nil writes none.
    public var state: String?

    public init() {}

    /// The keyword elements to add for `names`; removes from `editor` the arrays it rewrites.
    func keywordElements(names: [String], editor: inout XMPEditor) -> String {
        let previous = Set(editor.arrayItems(Self.cnnpipeNamespace, "Keywords"))
        var people: [String] = []
        for n in names where n != "unknown" && !n.isEmpty && !people.contains(n) { people.append(n) }
        var added: [String] = []
        var elements = ""
        for schema in KeywordSchema.allCases where keywords.contains(schema) {
            let wanted = people.map { schema.keyword(for: $0, root: keywordRoot) }
            added += wanted
            let existing = editor.arrayItems(schema.namespace, schema.property)
            // Lists with nothing of cnnpipe's stay where they are, byte for byte.
            guard !wanted.isEmpty || existing.contains(where: previous.contains) else { continue }
            var list = existing.filter { !previous.contains($0) || wanted.contains($0) }
            for k in wanted where !list.contains(k) { list.append(k) }
            // Rewritten even when unchanged, so the packet has one shape whatever ran before (idempotent).
            editor.removeProperties([(schema.namespace, schema.property)])
            if !list.isEmpty { elements += Self.array("\(schema.prefix):\(schema.property)", schema.arrayType, list) }
        }
        editor.removeProperties([(Self.cnnpipeNamespace, "Keywords")])
        var distinct: [String] = []
        for k in added where !distinct.contains(k) { distinct.append(k) }
        if !distinct.isEmpty { elements += Self.array("cnnpipe:Keywords", "Bag", distinct) }
        return elements
    }

    static func array(_ property: String, _ type: String, _ items: [String]) -> String {
        "  <\(property)>\n   <rdf:\(type)>\n"
            + items.map { "    <rdf:li>\(XMLDocument.escape($0))</rdf:li>\n" }.joined()
            + "   </rdf:\(type)>\n  </\(property)>\n"
    }

    /// The `cnnpipe:TagState` of a packet, if it has one.
    public static func state(of xmp: [UInt8]) -> String? {
        XMPEditor(xmp)?.simpleValue(cnnpipeNamespace, "TagState")
    }
}
