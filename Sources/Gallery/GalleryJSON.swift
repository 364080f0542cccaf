import Foundation
import GRDB
import MetricLearning

/// The JSON form of a gallery (export / import):
///
///     {"format": "cnnpipe-gallery", "version": 1, "model_identity": "<sha256 hex>", "dimension": 128,
///      "people": [{"name": "…", "notes": "…" | null, "created_at": "2025-01-02T03:04:05.678Z", "updated_at": "…",
///                  "embeddings": [{"source": "photo.jpg" | null, "created_at": "…", "vector": [128 numbers]}]}],
///      "head": {"method": "triplet|binary|both", "threshold": 0.71, "created_at": "…",
///               "transform": [128 rows of 128 numbers] | null, "verifier": {"weights": [128], "bias": 1.5} | null,
///               "report": {…}}}                     (version 2; version 1 has no head)
///
/// Numbers are written in their shortest form that reads back as the same Float32, so an export
/// imported again gives the identical embeddings.
public struct GalleryDocument: Codable, Sendable, Equatable {
    public var format: String
    public var version: Int
    public var modelIdentity: String
    public var dimension: Int
    public var people: [PersonRecord]
    /// The gallery's learned metric (`gallery train`), if it has one.
    public var head: HeadRecord?

    public struct HeadRecord: Codable, Sendable, Equatable {
        public var method: MetricHead.Method
        public var threshold: Float
        public var createdAt: Date
        /// W, 128 rows of 128 numbers.
        public var transform: [[Float]]?
        public var verifier: VerifierRecord?
        public var report: HeadReport

        public struct VerifierRecord: Codable, Sendable, Equatable {
            public var weights: [Float]
            public var bias: Float
        }

        enum CodingKeys: String, CodingKey {
            case method, threshold, transform, verifier, report
            case createdAt = "created_at"
        }

        public init(_ head: MetricHead) {
            method = head.method
            threshold = head.threshold
            createdAt = head.createdAt
            let d = MetricHead.dimension
            transform = head.transform.map { w in (0..<d).map { Array(w[$0 * d ..< ($0 + 1) * d]) } }
            verifier = head.verifier.map { VerifierRecord(weights: $0.weights, bias: $0.bias) }
            report = head.report
        }

        public func head() throws -> MetricHead {
            if let rows = transform, rows.count != MetricHead.dimension || rows.contains(where: { $0.count != MetricHead.dimension }) {
                throw GalleryError("gallery export: the head's transform must be \(MetricHead.dimension) rows of \(MetricHead.dimension) numbers")
            }
            let h = MetricHead(method: method, transform: transform.map { $0.flatMap { $0 } }, threshold: threshold,
                               verifier: verifier.map { MetricHead.Verifier(weights: $0.weights, bias: $0.bias) },
                               report: report, createdAt: createdAt)
            do { try h.validate() } catch { throw GalleryError("gallery export: \(error)") }
            return h
        }
    }

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
        case format, version, dimension, people, head
        case modelIdentity = "model_identity"
    }

    /// Version 2 adds the head; a document without one is written as version 1 (any cnnpipe reads it).
    public static let currentVersion = 2

    public init(modelIdentity: String, people: [PersonRecord], head: HeadRecord? = nil) {
        format = Schema.format
        version = head == nil ? 1 : 2
        self.modelIdentity = modelIdentity
        dimension = Embedding.dimension
        self.people = people
        self.head = head
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
                let id = try Self.decode(Int64.self, row, "id", path: path)
                let name = try Self.decode(String.self, row, "name", path: path)
                order.append(id)
                people[id] = .init(name: name, notes: try Self.decode(String?.self, row, "notes", path: path),
                                   createdAt: try Self.decode(Date.self, row, "created_at", path: path, person: name),
                                   updatedAt: try Self.decode(Date.self, row, "updated_at", path: path, person: name), embeddings: [])
            }
            let rows = try Row.fetchCursor(db, sql: "SELECT person_id, vector, source, created_at FROM embeddings ORDER BY person_id, id")
            while let row = try rows.next() {
                let blob = try Self.decode(Data.self, row, "vector", path: path)
                guard let vector = Embedding.decode(blob) else { throw GalleryError("\(path): an embedding of \(blob.count) bytes (corrupt gallery)") }
                let owner = try Self.decode(Int64.self, row, "person_id", path: path)
                let who = people[owner].map { printable($0.name) } ?? "person \(owner)"
                try Embedding.validate(vector, "\(path): an embedding of '\(who)' (corrupt gallery)")
                people[owner]?.embeddings.append(.init(source: try Self.decode(String?.self, row, "source", path: path),
                                                       createdAt: try Self.decode(Date.self, row, "created_at", path: path), vector: vector))
            }
            let head = try Row.fetchOne(db, sql: "SELECT * FROM heads ORDER BY id DESC LIMIT 1").map { try Self.head(from: $0, path: path) }
            return GalleryDocument(modelIdentity: identity, people: order.compactMap { people[$0] }, head: head.map(GalleryDocument.HeadRecord.init))
        }
    }

    /// The gallery as JSON (see `GalleryDocument`): the top level indented, one embedding per line.
    public func exportJSON() throws -> Data {
        GalleryJSON.encode(try document())
    }

    /// Merges a JSON export into the gallery in one transaction: new people are added, people with
    /// the same name get the embeddings they do not have yet (notes only if they had none); the
    /// export's head becomes the gallery's when the gallery has none (an existing head is kept).
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
        let head = try doc.head?.head()
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
            if let head, try Int.fetchOne(db, sql: "SELECT count(*) FROM heads") == 0 {
                try Self.insert(db, head)
                summary.headImported = true
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
        out += doc.people.isEmpty ? "]" : "\n  ]"
        if let h = doc.head {
            out += ",\n  \"head\": {\"method\": \(string(h.method.rawValue)), \"threshold\": \(h.threshold.description), "
            out += "\"created_at\": \(string(dates.string(from: h.createdAt))),\n"
            if let rows = h.transform {
                out += "    \"transform\": [\n" + rows.map { "      [" + $0.map(\.description).joined(separator: ", ") + "]" }.joined(separator: ",\n") + "\n    ],\n"
            } else {
                out += "    \"transform\": null,\n"
            }
            if let v = h.verifier {
                out += "    \"verifier\": {\"bias\": \(v.bias.description), \"weights\": [" + v.weights.map(\.description).joined(separator: ", ") + "]},\n"
            } else {
                out += "    \"verifier\": null,\n"
            }
            let report = (try? JSONEncoder.headReport.encode(h.report)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
            out += "    \"report\": \(report)}"
        }
        out += "\n}\n"
        return Data(out.utf8)
    }

    /// YYYY-MM-DDTHH:MM:SS, up to 9 fraction digits, then Z or ±HH:MM — checked before the date
    /// formatter sees the text: ICU's parser dies of SIGFPE on some other strings (found by the
    /// gallery-json fuzzer: 60 fraction digits).
    static func isISO8601DateTime(_ text: String) -> Bool {
        let b = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.upperBound <= b.count && b[range].allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        func at(_ i: Int, _ c: Character) -> Bool { i < b.count && b[i] == c.asciiValue! }
        guard digits(0..<4), at(4, "-"), digits(5..<7), at(7, "-"), digits(8..<10), at(10, "T"),
              digits(11..<13), at(13, ":"), digits(14..<16), at(16, ":"), digits(17..<19) else { return false }
        var i = 19
        if at(i, ".") {
            let start = i + 1
            i = start
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard (1...9).contains(i - start) else { return false }
        }
        if at(i, "Z") { return i + 1 == b.count }
        guard at(i, "+") || at(i, "-") else { return false }
        return digits(i + 1..<i + 3) && at(i + 3, ":") && digits(i + 4..<i + 6) && i + 6 == b.count
    }

    public static func decode(_ data: Data) throws -> GalleryDocument {
        let decoder = JSONDecoder()
        let dates = dateFormatter()
        let plain = ISO8601DateFormatter()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        decoder.dateDecodingStrategy = .custom { d in
            let text = try d.singleValueContainer().decode(String.self)
            guard isISO8601DateTime(text), let date = dates.date(from: text) ?? plain.date(from: text) else {
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
