import GRDB
import MetricLearning

/// The gallery's tables, built by GRDB migrations (each one transaction, recorded in grdb_migrations).
///
///     metadata   (key TEXT PRIMARY KEY, value TEXT)   format, schema_version, model_identity
///     people     (id, name UNIQUE, notes, created_at, updated_at)
///     embeddings (id, person_id → people ON DELETE CASCADE, vector BLOB (128 × Float32 LE),
///                 source (photo path), created_at)
///     heads      (id, method, transform BLOB (128 × 128 Float32 LE) | NULL, threshold,
///                 verifier BLOB (129 × Float32 LE: 128 weights, bias) | NULL, report (JSON), created_at)
///                 learned metrics (gallery train); the newest is the one in use.
enum Schema {
    /// The schema this build writes; a gallery with a newer one is refused.
    static let version = 2
    static let format = "cnnpipe-gallery"

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE metadata (
                    key   TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE people (
                    id         INTEGER PRIMARY KEY AUTOINCREMENT,
                    name       TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
                    notes      TEXT,
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL
                );
                CREATE TABLE embeddings (
                    id         INTEGER PRIMARY KEY AUTOINCREMENT,
                    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                    vector     BLOB NOT NULL CHECK (length(vector) = \(Embedding.byteCount)),
                    source     TEXT,
                    created_at DATETIME NOT NULL
                );
                CREATE INDEX embeddings_person ON embeddings(person_id);
                """)
            try db.execute(sql: "INSERT INTO metadata (key, value) VALUES ('format', ?), ('schema_version', '1')",
                           arguments: [format])
        }
        m.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE heads (
                    id         INTEGER PRIMARY KEY AUTOINCREMENT,
                    method     TEXT NOT NULL CHECK (method IN ('triplet', 'binary', 'both')),
                    transform  BLOB CHECK (transform IS NULL OR length(transform) = \(MetricHead.dimension * MetricHead.dimension * 4)),
                    threshold  REAL NOT NULL,
                    verifier   BLOB CHECK (verifier IS NULL OR length(verifier) = \((MetricHead.dimension + 1) * 4)),
                    report     TEXT NOT NULL,
                    created_at DATETIME NOT NULL
                );
                UPDATE metadata SET value = '2' WHERE key = 'schema_version';
                """)
        }
        // A later migration: register "v3", ALTER/CREATE what it needs, and set schema_version to 3.
        return m
    }

    enum Key {
        static let format = "format"
        static let schemaVersion = "schema_version"
        static let modelIdentity = "model_identity"
    }
}
