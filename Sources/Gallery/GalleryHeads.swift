import Foundation
import GRDB
import MetricLearning

extension Gallery {
    /// The head in use: the newest one `gallery train` stored (nil when none).
    public func currentHead() throws -> MetricHead? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM heads ORDER BY id DESC LIMIT 1") else { return nil }
            return try Self.head(from: row, path: path)
        }
    }

    /// Stores `head` as the one in use (earlier heads stay in the table, unused, until `removeHeads`).
    public func saveHead(_ head: MetricHead) throws {
        do { try head.validate() } catch { throw GalleryError("\(error)") }   // the same one-line error type as the rest
        try write { db in try Self.insert(db, head) }
    }

    /// Removes every head (matching goes back to the plain distance); returns how many there were.
    @discardableResult
    public func removeHeads() throws -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM heads")
            return db.changesCount
        }
    }

    static func insert(_ db: Database, _ head: MetricHead) throws {
        let report = try JSONEncoder.headReport.encode(head.report)
        try db.execute(sql: "INSERT INTO heads (method, transform, threshold, verifier, report, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [head.method.rawValue, head.transform.map(Self.encodeFloats), Double(head.threshold),
                                   head.verifier.map { Self.encodeFloats($0.weights + [$0.bias]) },
                                   String(decoding: report, as: UTF8.self), head.createdAt])
    }

    static func head(from row: Row, path: String) throws -> MetricHead {
        let methodName: String = row["method"]
        guard let method = MetricHead.Method(rawValue: methodName) else { throw GalleryError("\(path): unknown head method '\(methodName)'") }
        let transform = (row["transform"] as Data?).map(Self.decodeFloats)
        let verifier = (row["verifier"] as Data?).map(Self.decodeFloats).map {
            MetricHead.Verifier(weights: Array($0.dropLast()), bias: $0.last ?? 0)
        }
        let text: String = row["report"]
        let report: HeadReport
        do {
            report = try JSONDecoder.headReport.decode(HeadReport.self, from: Data(text.utf8))
        } catch {
            throw GalleryError("\(path): the stored head's report cannot be read (\(error))")
        }
        let threshold: Double = row["threshold"]
        let head = MetricHead(method: method, transform: transform, threshold: Float(threshold), verifier: verifier,
                              report: report, createdAt: row["created_at"])
        do { try head.validate() } catch { throw GalleryError("\(path): \(error)") }
        return head
    }

    static func encodeFloats(_ values: [Float]) -> Data {
        var data = Data(count: values.count * 4)
        data.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        return data
    }

    static func decodeFloats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// Every embedding with its person, for training (people in name order).
    public func trainingSet() throws -> TrainingSet {
        try read { db in
            var people: [String] = [], labels: [Int] = [], vectors: [Float] = []
            var lastID: Int64 = -1
            let rows = try Row.fetchCursor(db, sql: "SELECT p.id, p.name, e.vector FROM embeddings e JOIN people p ON p.id = e.person_id ORDER BY p.name, e.id")
            while let row = try rows.next() {
                let id: Int64 = row[0]
                if id != lastID { people.append(row[1]); lastID = id }
                let blob: Data = row[2]
                guard let v = Embedding.decode(blob) else { throw GalleryError("\(path): an embedding of \(blob.count) bytes (corrupt gallery)") }
                labels.append(people.count - 1)
                vectors += v
            }
            return try TrainingSet(people: people, labels: labels, vectors: vectors)
        }
    }
}

extension JSONEncoder {
    /// The report as stored and exported: keys sorted, so the text is stable.
    static var headReport: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }
}

extension JSONDecoder {
    static var headReport: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }
}
