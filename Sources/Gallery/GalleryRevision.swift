import GRDB

extension Gallery {
    /// A short text that changes whenever what identification depends on changes: people and
    /// their names, their embeddings, the learned head. A tagging run records it in each photo, so
    /// a later run with the same gallery can skip the photos already done.
    public func revision() throws -> String {
        try read { db in
            let people = try String.fetchOne(db, sql: "SELECT group_concat(id || ':' || name, ',') FROM (SELECT id, name FROM people ORDER BY id)") ?? ""
            let embeddings = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(max(id), 0) AS last FROM embeddings")
            let head = try Int.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM heads") ?? 0
            let text = "\(people)|\(embeddings?["n"] ?? 0)|\(embeddings?["last"] ?? 0)|\(head)"
            return String(StableHash.of(text), radix: 16)
        }
    }
}

/// FNV-1a, 64 bits: a stable digest of a settings text (not a security measure).
public enum StableHash {
    public static func of(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
