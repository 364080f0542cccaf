import Foundation
import GRDB

/// A face gallery: one SQLite file (WAL) holding people, their face embeddings and the identity of
/// the model that made the embeddings (the SHA-256 of the model file).
///
/// Every change is one IMMEDIATE transaction and connections wait up to `busyTimeout` for each
/// other, so several processes can enrol into the same file at once without losing anything.
public final class Gallery: Sendable {
    public let path: String
    /// The model identity stored in the gallery (nil only for a gallery nothing was enrolled into yet).
    public let modelIdentity: String?
    /// True when the caller opened the gallery with a model identity (and it matched): only then
    /// may it enrol embeddings or match against them.
    public let identityChecked: Bool
    let pool: DatabasePool

    public static let busyTimeout: TimeInterval = 60

    /// The user's own gallery, used wherever none is named: $CNNPIPE_GALLERY, else
    /// $XDG_DATA_HOME/cnnpipe/people.db (~/.local/share/cnnpipe/people.db). One per user, so that
    /// people enrolled once are known from any folder.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["CNNPIPE_GALLERY"], !path.isEmpty { return path }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return data + "/cnnpipe/people.db"
    }

    /// Opens (or, with `create`, creates) the gallery at `path`. With a `modelIdentity`, a new gallery
    /// takes it and an existing one must have been made with it; without one, the gallery can be
    /// listed, renamed, exported and so on, but not enrolled into or matched against.
    ///
    /// `readOnly` opens an existing gallery for matching only: SQLite read-only, no write lock, nothing
    /// written (a copy shipped to a cluster node or a file on a read-only share works, and any number
    /// of processes and threads read it at once).
    public init(path: String, modelIdentity: String? = nil, create: Bool = true, readOnly: Bool = false) throws {
        self.path = path
        if (!create || readOnly) && !FileManager.default.fileExists(atPath: path) {
            throw GalleryError("\(path): no such gallery")
        }
        var config = Configuration()
        config.busyMode = .timeout(Self.busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "gallery"
        config.readonly = readOnly
        do {
            // Two processes opening a new file at once both switch it to WAL; SQLite answers one of
            // them "locked" at once (a lock upgrade the busy timeout cannot wait for), so try again.
            pool = try Self.retryingWhileLocked { try DatabasePool(path: path, configuration: config) }
        } catch {
            throw GalleryError("\(path): cannot open gallery: \(Self.message(error))")
        }
        let stored: String?
        do {
            try Gallery.retryingWhileLocked { [pool] in try Gallery.checkIsGallery(pool, path: path) }
            if readOnly {
                stored = try pool.read { db -> String? in try Self.readOnlyIdentity(db, path: path) }
            } else {
                try Self.migrate(pool)
                stored = try pool.write { db -> String? in
                    let version = try Self.metadata(db, Schema.Key.schemaVersion).flatMap(Int.init) ?? 0
                    guard version <= Schema.version else {
                        throw GalleryError("\(path): gallery schema version \(version) is newer than this cnnpipe's (\(Schema.version)); update cnnpipe")
                    }
                    let current = try Self.metadata(db, Schema.Key.modelIdentity)
                    if current == nil, let given = modelIdentity {
                        try Self.setMetadata(db, Schema.Key.modelIdentity, given)
                        return given
                    }
                    return current
                }
            }
        } catch let error as GalleryError {
            throw error
        } catch {
            throw GalleryError("\(path): \(Self.message(error))")
        }
        if let given = modelIdentity, let stored, stored != given {
            throw Self.identityMismatch(path: path, stored: stored, given: given)
        }
        self.modelIdentity = stored
        identityChecked = modelIdentity != nil
    }

    /// A read-only open cannot migrate: the schema must be this build's, and the identity is what is stored.
    private static func readOnlyIdentity(_ db: Database, path: String) throws -> String? {
        let version = try metadata(db, Schema.Key.schemaVersion).flatMap(Int.init) ?? 0
        guard version == Schema.version, try Schema.migrator.hasCompletedMigrations(db) else {
            throw GalleryError("\(path): gallery schema version \(version), this cnnpipe reads version \(Schema.version) "
                + (version > Schema.version ? "; update cnnpipe" : "; open it once for writing (cnnpipe gallery list) to upgrade it"))
        }
        return try metadata(db, Schema.Key.modelIdentity)
    }

    static func identityMismatch(path: String, stored: String, given: String, what: String = "these embeddings") -> GalleryError {
        GalleryError("\(path): model identity mismatch: the gallery holds embeddings of model sha256:\(stored), "
            + "\(what) come from model sha256:\(given); embeddings of different models cannot be compared (use another gallery)")
    }

    // MARK: Opening

    /// Refuses an SQLite file that has tables but is not a gallery (migrating would add ours to it).
    private static func checkIsGallery(_ pool: DatabasePool, path: String) throws {
        try pool.read { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            guard !tables.isEmpty else { return }
            let format = tables.contains("metadata") ? try String.fetchOne(db, sql: "SELECT value FROM metadata WHERE key = 'format'") : nil
            let isGallery = format == Schema.format
            // A gallery caught between creating grdb_migrations and its first migration is fine too.
            if !isGallery && Set(tables) != ["grdb_migrations"] {
                throw GalleryError("\(path): not a cnnpipe gallery (an SQLite file with other tables: \(tables.sorted().prefix(5).joined(separator: ", ")))")
            }
            let extra = Set(tables).subtracting(["metadata", "people", "embeddings", "heads", "grdb_migrations"])
            if isGallery && !extra.isEmpty {
                throw GalleryError("\(path): not a cnnpipe gallery (tables a gallery does not have: \(extra.sorted().prefix(5).joined(separator: ", ")))")
            }
        }
    }

    /// GRDB reads the applied migrations before it opens the migration's transaction, so two processes
    /// creating the same gallery at once can both try "v1"; the loser fails on the existing tables and,
    /// retrying, finds the migration applied.
    private static func migrate(_ pool: DatabasePool) throws {
        var attempt = 0
        while true {
            do {
                try retryingWhileLocked { try Schema.migrator.migrate(pool) }
                return
            } catch {
                attempt += 1
                if attempt >= 3 { throw error }
                usleep(20_000)
            }
        }
    }

    /// Runs `body` again (for up to `busyTimeout`) while SQLite says the database is busy or locked.
    static func retryingWhileLocked<T>(_ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(busyTimeout)
        while true {
            do {
                return try body()
            } catch let error as DatabaseError where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && Date() < deadline {
                usleep(useconds_t.random(in: 5_000...30_000))
            }
        }
    }

    static func metadata(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM metadata WHERE key = ?", arguments: [key])
    }

    static func setMetadata(_ db: Database, _ key: String, _ value: String) throws {
        try db.execute(sql: "INSERT INTO metadata (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       arguments: [key, value])
    }

    /// GRDB's errors carry the SQL; one line with SQLite's message is what a user needs.
    static func message(_ error: Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    /// Runs `body` in one IMMEDIATE transaction (the write lock taken up front, so a concurrent writer
    /// waits instead of failing on a stale snapshot); database errors become one-line gallery errors.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            var result: T?
            try pool.writeInTransaction(.immediate) { db in
                result = try body(db)
                return .commit
            }
            return result!
        } catch let error as GalleryError {
            throw error
        } catch {
            throw GalleryError("\(path): \(Self.message(error))")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as GalleryError {
            throw error
        } catch {
            throw GalleryError("\(path): \(Self.message(error))")
        }
    }

    // MARK: People

    /// Checks a person's name: not empty, one line, no surrounding spaces.
    public static func validateName(_ name: String) throws {
        guard !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw GalleryError("a person's name cannot be empty") }
        guard name == name.trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw GalleryError("'\(name)': a name cannot start or end with spaces")
        }
        guard !name.contains(where: { $0.isNewline || $0 == "\t" }) else { throw GalleryError("a name must be one line without tabs") }
        // NUL would cut the name short in C strings; ESC and the other controls would drive the terminal.
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw GalleryError("\(printable(name)): a name cannot contain control characters")
        }
    }

    /// Adds embeddings to `name` (creating the person if needed) in one transaction. `sources` (photo
    /// paths) is empty or one per embedding; `notes`, when given, replaces the person's notes.
    /// An embedding the person already has (the same 128 numbers) is not stored twice.
    @discardableResult
    public func enroll(name: String, embeddings: [[Float]], sources: [String] = [], notes: String? = nil) throws -> EnrolmentSummary {
        guard identityChecked else {
            throw GalleryError("\(path): open the gallery with the model identity to enrol embeddings")
        }
        try Self.validateName(name)
        guard sources.isEmpty || sources.count == embeddings.count else {
            throw GalleryError("enroll: \(embeddings.count) embeddings but \(sources.count) sources")
        }
        for (i, e) in embeddings.enumerated() { try Embedding.validate(e, sources.isEmpty ? "\(name) #\(i + 1)" : sources[i]) }
        let now = Date()
        return try write { db in
            try Self.add(db, name: name, notes: notes, createdAt: now, updatedAt: now,
                         embeddings: embeddings.enumerated().map { (Embedding.encode($1), sources.isEmpty ? nil : sources[$0], now) })
        }
    }

    /// Inserts or updates one person and adds the embeddings it does not have yet.
    static func add(_ db: Database, name: String, notes: String?, createdAt: Date, updatedAt: Date,
                    embeddings: [(vector: Data, source: String?, createdAt: Date)]) throws -> EnrolmentSummary {
        var summary = EnrolmentSummary()
        let personID: Int64
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM people WHERE name = ?", arguments: [name]) {
            personID = existing
            summary.peopleUpdated = 1
            try db.execute(sql: "UPDATE people SET notes = coalesce(?, notes), updated_at = max(updated_at, ?) WHERE id = ?",
                           arguments: [notes, updatedAt, personID])
        } else {
            try db.execute(sql: "INSERT INTO people (name, notes, created_at, updated_at) VALUES (?, ?, ?, ?)",
                           arguments: [name, notes, createdAt, updatedAt])
            personID = db.lastInsertedRowID
            summary.peopleAdded = 1
        }
        var known = Set(summary.peopleUpdated == 1
                        ? try Data.fetchAll(db, sql: "SELECT vector FROM embeddings WHERE person_id = ?", arguments: [personID])
                        : [])
        let insert = try db.cachedStatement(sql: "INSERT INTO embeddings (person_id, vector, source, created_at) VALUES (?, ?, ?, ?)")
        for e in embeddings {
            guard known.insert(e.vector).inserted else { summary.embeddingsAlreadyPresent += 1; continue }
            try insert.execute(arguments: [personID, e.vector, e.source, e.createdAt])
            summary.embeddingsAdded += 1
        }
        return summary
    }

    /// Everyone enrolled, by name, with their embedding counts.
    public func people() throws -> [Person] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT p.name, p.notes, p.created_at, p.updated_at, count(e.id) AS n
                FROM people p LEFT JOIN embeddings e ON e.person_id = p.id
                GROUP BY p.id ORDER BY p.name
                """).map { row in
                let name = try Self.decode(String.self, row, "name", path: path)
                return Person(name: name, notes: try Self.decode(String?.self, row, "notes", path: path),
                              embeddingCount: try Self.decode(Int.self, row, "n", path: path),
                              createdAt: try Self.decode(Date.self, row, "created_at", path: path, person: name),
                              updatedAt: try Self.decode(Date.self, row, "updated_at", path: path, person: name))
            }
        }
    }

    /// (people, embeddings) in the gallery.
    public func counts() throws -> (people: Int, embeddings: Int) {
        try read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM people") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings") ?? 0)
        }
    }

    public func rename(_ name: String, to newName: String) throws {
        try Self.validateName(newName)
        try write { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM people WHERE name = ?", arguments: [name]) else {
                throw GalleryError("no person '\(name)' in \(path)")
            }
            guard name != newName else { return }
            guard try Int64.fetchOne(db, sql: "SELECT id FROM people WHERE name = ?", arguments: [newName]) == nil else {
                throw GalleryError("'\(newName)' is already in \(path)")
            }
            try db.execute(sql: "UPDATE people SET name = ?, updated_at = ? WHERE id = ?", arguments: [newName, Date(), id])
        }
    }

    /// Replaces (nil: clears) a person's notes.
    public func setNotes(_ name: String, _ notes: String?) throws {
        try write { db in
            try db.execute(sql: "UPDATE people SET notes = ?, updated_at = ? WHERE name = ?", arguments: [notes, Date(), name])
            guard db.changesCount == 1 else { throw GalleryError("no person '\(name)' in \(path)") }
        }
    }

    /// Removes a person and their embeddings; returns how many embeddings went with them.
    @discardableResult
    public func remove(_ name: String) throws -> Int {
        try write { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM people WHERE name = ?", arguments: [name]) else {
                throw GalleryError("no person '\(name)' in \(path)")
            }
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings WHERE person_id = ?", arguments: [id]) ?? 0
            try db.execute(sql: "DELETE FROM people WHERE id = ?", arguments: [id])     // embeddings: ON DELETE CASCADE
            return n
        }
    }

    /// The schema version recorded in the file.
    public func schemaVersion() throws -> Int {
        try read { db in try Self.metadata(db, Schema.Key.schemaVersion).flatMap(Int.init) ?? 0 }
    }
}

extension Gallery {
    /// A column of a stored row, or a one-line error naming the gallery (a row written by another
    /// program can hold anything: GRDB's subscripts would stop the process).
    static func decode<T: DatabaseValueConvertible>(_ type: T.Type, _ row: Row, _ column: String, path: String,
                                                     person: String? = nil) throws -> T {
        do { return try row.decode(T.self, forColumn: column) } catch {
            let who = person.map { " of '\(printable($0))'" } ?? ""
            throw GalleryError("\(path): \(column)\(who) is not a valid \(T.self) (corrupt gallery)")
        }
    }

    static func decode<T: DatabaseValueConvertible>(_ type: T?.Type, _ row: Row, _ column: String, path: String) throws -> T? {
        do { return try row.decode(T?.self, forColumn: column) } catch {
            throw GalleryError("\(path): \(column) is not a valid \(T.self) (corrupt gallery)")
        }
    }
}

/// Text for a terminal: control characters (ESC, NUL, ...) shown as \u{..} escapes instead of acting.
public func printable(_ text: String) -> String {
    var out = ""
    for u in text.unicodeScalars {
        if u.properties.generalCategory == .control && u != "\n" && u != "\t" {
            out += "\\u{" + String(u.value, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(u)
        }
    }
    return out
}
