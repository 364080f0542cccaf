import Foundation
import GRDB

/// The JSON form of a gallery (export / import):
///
///     {"format": "cnnpipe-gallery", "version": 1, "model_identity": "<sha256 hex>", "dimension": 128,
///      "people": [{"name": "…", "notes": "…" | null, "created_at": "2025-01-02T03:04:05.678Z", "updated_at": "…",
///                  "embeddings": [{"source": "photo.jpg" | null, "created_at": "…", "vector": [128 numbers]}]}]}
///
/// Numbers are written in their shortest form that reads back as the same Float32, so an export
/// imported again gives the identical embeddings.
public struct GalleryDocument: Codable, Sendable, Equatable {
    public var format: String
    public var version: Int
    public var modelIdentity: String
    public var dimension: Int
    public var people: [PersonRecord]

    public struct PersonRecord: Codable, Sendable, Equatable {
        public var name: String
        public var notes: String?
        public var createdAt: Date
        public var updatedAt: Date
        public var embeddings: [EmbeddingRecord]

        public init(name: String, notes: String?, createdAt: Date, updatedAt: Date, embeddings: [EmbeddingRecord]) {
            self.name = name; self.notes = notes; self.createdAt = createdAt; self.updatedAt = updatedAt; self.embeddings = embeddings
        }

        enum CodingKeys: String, CodingKey {
            case name, notes, embeddings
            case createdAt = "created_at", updatedAt = "updated_at"
        }
    }

    public struct EmbeddingRecord: Codable, Sendable, Equatable {
        public var source: String?
        public var createdAt: Date
        public var vector: [Float]

        public init(source: String?, createdAt: Date, vector: [Float]) {
            self.source = source; self.createdAt = createdAt; self.vector = vector
        }

        enum CodingKeys: String, CodingKey {
            case source, vector
            case createdAt = "created_at"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, version, dimension, people
        case modelIdentity = "model_identity"
    }

    public static let currentVersion = 1

    /// A document of the current format and version.
    public init(modelIdentity: String, people: [PersonRecord]) {
        format = Schema.format
        version = Self.currentVersion
        self.modelIdentity = modelIdentity
        dimension = Embedding.dimension
        self.people = people
    }
}

extension Gallery {
    /// Everything in the gallery as a `GalleryDocument`.
    public func document() throws -> GalleryDocument {
        guard let identity = modelIdentity else { throw GalleryError("\(path): the gallery has no model identity yet (nothing enrolled)") }
        return try read { db in
            var people: [Int64: GalleryDocument.PersonRecord] = [:]
            var order: [Int64] = []
            for row in try Row.fetchAll(db, sql: "SELECT id, name, notes, created_at, updated_at FROM people ORDER BY name") {
                let id: Int64 = row["id"]
                order.append(id)
                people[id] = .init(name: row["name"], notes: row["notes"], createdAt: row["created_at"], updatedAt: row["updated_at"], embeddings: [])
            }
            let rows = try Row.fetchCursor(db, sql: "SELECT person_id, vector, source, created_at FROM embeddings ORDER BY person_id, id")
            while let row = try rows.next() {
                let blob: Data = row["vector"]
                guard let vector = Embedding.decode(blob) else { throw GalleryError("\(path): an embedding of \(blob.count) bytes (corrupt gallery)") }
                people[row["person_id"]]?.embeddings.append(.init(source: row["source"], createdAt: row["created_at"], vector: vector))
            }
            return GalleryDocument(modelIdentity: identity, people: order.compactMap { people[$0] })
        }
    }

    /// The gallery as JSON (see `GalleryDocument`): the top level indented, one embedding per line.
    public func exportJSON() throws -> Data {
        GalleryJSON.encode(try document())
    }

    /// Merges a JSON export into the gallery in one transaction: new people are added, people with
    /// the same name get the embeddings they do not have yet (notes only if they had none).
    /// An export made with another model is refused.
    @discardableResult
    public func importJSON(_ data: Data) throws -> EnrolmentSummary {
        try importDocument(try GalleryJSON.decode(data))
    }

    @discardableResult
    public func importDocument(_ doc: GalleryDocument) throws -> EnrolmentSummary {
        guard doc.format == Schema.format else { throw GalleryError("not a cnnpipe gallery export (format '\(doc.format)')") }
        guard doc.version <= GalleryDocument.currentVersion else {
            throw GalleryError("gallery export version \(doc.version) is newer than this cnnpipe's (\(GalleryDocument.currentVersion))")
        }
        guard doc.dimension == Embedding.dimension else {
            throw GalleryError("gallery export has \(doc.dimension)-number embeddings, expected \(Embedding.dimension)")
        }
        var names = Set<String>()
        for p in doc.people {
            try Self.validateName(p.name)
            guard names.insert(p.name).inserted else { throw GalleryError("gallery export lists '\(p.name)' twice") }
            for (i, e) in p.embeddings.enumerated() { try Embedding.validate(e.vector, "\(p.name) embedding #\(i + 1)") }
        }
        return try write { db in
            // Checked inside the transaction: a gallery created empty takes the export's identity.
            if let stored = try Self.metadata(db, Schema.Key.modelIdentity) {
                guard stored == doc.modelIdentity else {
                    throw Self.identityMismatch(path: path, stored: stored, given: doc.modelIdentity, what: "the imported embeddings")
                }
            } else {
                try Self.setMetadata(db, Schema.Key.modelIdentity, doc.modelIdentity)
            }
            var summary = EnrolmentSummary()
            for p in doc.people {
                let notes = try String.fetchOne(db, sql: "SELECT notes FROM people WHERE name = ?", arguments: [p.name]) == nil ? p.notes : nil
                summary = summary + (try Self.add(db, name: p.name, notes: notes, createdAt: p.createdAt, updatedAt: p.updatedAt,
                                                  embeddings: p.embeddings.map { (Embedding.encode($0.vector), $0.source, $0.createdAt) }))
            }
            return summary
        }
    }
}

/// Writing and reading the export format.
public enum GalleryJSON {
    static func dateFormatter() -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }

    /// Written by hand: JSONEncoder would put each of 128 numbers on its own line when pretty-printing.
    public static func encode(_ doc: GalleryDocument) -> Data {
        let dates = dateFormatter()
        var out = "{\n"
        out += "  \"format\": \(string(doc.format)),\n  \"version\": \(doc.version),\n"
        out += "  \"model_identity\": \(string(doc.modelIdentity)),\n  \"dimension\": \(doc.dimension),\n"
        out += "  \"people\": ["
        for (pi, p) in doc.people.enumerated() {
            out += pi == 0 ? "\n" : ",\n"
            out += "    {\"name\": \(string(p.name)), \"notes\": \(p.notes.map(string) ?? "null"), "
            out += "\"created_at\": \(string(dates.string(from: p.createdAt))), \"updated_at\": \(string(dates.string(from: p.updatedAt))),\n"
            out += "     \"embeddings\": ["
            for (ei, e) in p.embeddings.enumerated() {
                out += ei == 0 ? "\n" : ",\n"
                out += "      {\"source\": \(e.source.map(string) ?? "null"), \"created_at\": \(string(dates.string(from: e.createdAt))), \"vector\": ["
                // Swift's description of a Float is the shortest decimal that reads back as the same Float.
                out += e.vector.map { $0.description }.joined(separator: ", ")
                out += "]}"
            }
            out += p.embeddings.isEmpty ? "]}" : "\n     ]}"
        }
        out += doc.people.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return Data(out.utf8)
    }

    public static func decode(_ data: Data) throws -> GalleryDocument {
        let decoder = JSONDecoder()
        let dates = dateFormatter()
        let plain = ISO8601DateFormatter()
        decoder.dateDecodingStrategy = .custom { d in
            let text = try d.singleValueContainer().decode(String.self)
            guard let date = dates.date(from: text) ?? plain.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: d.codingPath, debugDescription: "'\(text)' is not an ISO 8601 date"))
            }
            return date
        }
        do {
            return try decoder.decode(GalleryDocument.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw GalleryError("not a gallery export: \(path(context.codingPath + [key])) is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw GalleryError("not a gallery export: \(path(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw GalleryError("not a gallery export: \(error)")
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
    }

    /// A JSON string literal.
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
