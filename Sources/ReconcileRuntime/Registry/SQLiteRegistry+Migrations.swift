extension SQLiteRegistry {
  /// A step of the schema; its version is the file's `user_version` after it.
  typealias Migration = SchemaMigration

  /// Every migration, in order; the last one's version is the schema this build writes.
  static let migrations: [Migration] = [
    Migration(
      version: 1,
      summary: "verified-file cache, variant use and unwanted times, audit log",
      sql: """
        CREATE TABLE verified_file (
          device      INTEGER NOT NULL,  -- st_dev, raw bits of a UInt64
          inode       INTEGER NOT NULL,  -- st_ino, raw bits of a UInt64
          size        INTEGER NOT NULL,
          mtime_ns    INTEGER NOT NULL,
          ctime_ns    INTEGER NOT NULL,
          sha256      TEXT    NOT NULL CHECK (length(sha256) = 64),
          verified_at REAL    NOT NULL,  -- unix seconds
          -- One row per file: a file that changed replaces its stale record.
          PRIMARY KEY (device, inode)
        ) WITHOUT ROWID;

        CREATE TABLE variant_last_use (
          model       TEXT NOT NULL,
          version     TEXT NOT NULL,
          variant     TEXT NOT NULL,
          last_use_at REAL NOT NULL,     -- unix seconds
          PRIMARY KEY (model, version, variant)
        ) WITHOUT ROWID;

        CREATE TABLE variant_unwanted (
          model          TEXT NOT NULL,
          version        TEXT NOT NULL,
          variant        TEXT NOT NULL,
          unwanted_since REAL NOT NULL,  -- unix seconds
          PRIMARY KEY (model, version, variant)
        ) WITHOUT ROWID;

        CREATE TABLE audit_run (
          id             INTEGER PRIMARY KEY,
          started_at     REAL NOT NULL,  -- unix seconds
          finished_at    REAL,
          user           TEXT NOT NULL,
          host           TEXT NOT NULL,
          node           TEXT NOT NULL,
          command        TEXT NOT NULL,
          desired_commit TEXT,
          outcome        TEXT
        );
        CREATE INDEX audit_run_by_start ON audit_run (started_at);

        CREATE TABLE audit_action (
          id          INTEGER PRIMARY KEY,
          run_id      INTEGER NOT NULL REFERENCES audit_run (id) ON DELETE CASCADE,
          action      TEXT    NOT NULL,
          subject     TEXT    NOT NULL,
          bytes       INTEGER NOT NULL DEFAULT 0,
          source      TEXT,
          started_at  REAL    NOT NULL,  -- unix seconds
          finished_at REAL,
          outcome     TEXT    NOT NULL,
          detail      TEXT
        );
        CREATE INDEX audit_action_by_run ON audit_action (run_id, id);
        """
    ),
    Migration(
      version: 2,
      summary: "variant use and unwanted times carry the node, so nodes can share a ledger",
      // SQLite cannot change a primary key: each table is rebuilt. Rows written before the
      // column existed belong to the node of the latest run, or to '' when none ran; a ledger
      // adopts '' rows when it opens (`SQLiteRegistry.ledger(node:)`).
      sql: """
        CREATE TABLE variant_last_use_2 (
          node        TEXT NOT NULL,
          model       TEXT NOT NULL,
          version     TEXT NOT NULL,
          variant     TEXT NOT NULL,
          last_use_at REAL NOT NULL,     -- unix seconds
          PRIMARY KEY (node, model, version, variant)
        ) WITHOUT ROWID;
        INSERT INTO variant_last_use_2 (node, model, version, variant, last_use_at)
        SELECT coalesce((SELECT node FROM audit_run ORDER BY started_at DESC, id DESC LIMIT 1), ''),
               model, version, variant, last_use_at
        FROM variant_last_use;
        DROP TABLE variant_last_use;
        ALTER TABLE variant_last_use_2 RENAME TO variant_last_use;

        CREATE TABLE variant_unwanted_2 (
          node           TEXT NOT NULL,
          model          TEXT NOT NULL,
          version        TEXT NOT NULL,
          variant        TEXT NOT NULL,
          unwanted_since REAL NOT NULL,  -- unix seconds
          PRIMARY KEY (node, model, version, variant)
        ) WITHOUT ROWID;
        INSERT INTO variant_unwanted_2 (node, model, version, variant, unwanted_since)
        SELECT coalesce((SELECT node FROM audit_run ORDER BY started_at DESC, id DESC LIMIT 1), ''),
               model, version, variant, unwanted_since
        FROM variant_unwanted;
        DROP TABLE variant_unwanted;
        ALTER TABLE variant_unwanted_2 RENAME TO variant_unwanted;

        -- Every audit query names the node: its latest runs, its unfinished runs.
        DROP INDEX audit_run_by_start;
        CREATE INDEX audit_run_by_node ON audit_run (node, started_at);
        """
    ),
    Migration(
      version: 3,
      summary: "why a run failed or stopped",
      sql: """
        -- `SIGTERM` for a run stopped by a signal, the first error of a failed one.
        ALTER TABLE audit_run ADD COLUMN detail TEXT;
        """
    ),
  ]

  /// The schema version this build writes.
  static var latestSchemaVersion: Int { migrations.last?.version ?? 0 }

  /// Brings `database` to the latest schema, one migration per transaction, and returns the
  /// versions applied. A file already current is only read: opening it needs no write lock.
  @discardableResult
  static func migrate(_ database: SQLiteDatabase) throws -> [Int] {
    let latest = latestSchemaVersion
    let found = try userVersion(of: database)
    try refuseNewer(found, in: database)
    guard found < latest else { return [] }

    var applied: [Int] = []
    for migration in migrations where migration.version > found {
      let ran = try database.transaction { () throws -> Bool in
        // Another process may have migrated between our read and our write lock.
        let current = try userVersion(of: database)
        try refuseNewer(current, in: database)
        guard current == migration.version - 1 else { return false }
        try database.execute(migration.sql)
        try database.execute("PRAGMA user_version = \(migration.version)")
        return true
      }
      if ran { applied.append(migration.version) }
    }
    return applied
  }

  /// The `user_version` stored in the file's header.
  static func userVersion(of database: SQLiteDatabase) throws -> Int {
    try database.query("PRAGMA user_version") { $0.column(0, as: Int.self) }.first ?? 0
  }

  private static func refuseNewer(_ version: Int, in database: SQLiteDatabase) throws {
    guard version > latestSchemaVersion else { return }
    throw SQLiteRegistryError.schemaTooNew(path: database.path, found: version, supported: latestSchemaVersion)
  }
}
