import Foundation

/// The node's registry in SQLite (`<root>/.reconcile/registry.sqlite`): what disk cannot tell —
/// the verified-file cache, and through `ledger(node:)` each node's variant times and audit log.
///
/// Safe to share between tasks: every call holds a lock for its whole database work. Several
/// processes may open the same file; WAL mode and the busy timeout let them take turns.
public final class SQLiteRegistry: @unchecked Sendable {
  /// Where the database lives, or `:memory:`.
  public let path: String

  private let database: SQLiteDatabase
  private let lock = NSLock()

  /// Opens the registry at `path`, creating the file when missing (its directory must exist),
  /// and migrates it to the latest schema.
  ///
  /// Throws `SQLiteRegistryError.schemaTooNew` when a newer reconcile wrote the file.
  ///
  /// On a read-only filesystem an existing file is opened immutable: read commands (status,
  /// plan, check, history) work; writes fail with the filesystem's error.
  public init(path: String, busyTimeout: Duration = SQLiteDatabase.defaultBusyTimeout) throws {
    let readOnly = path != ":memory:" && Self.onReadOnlyFilesystem(path) && FileStatus.of(path)?.kind == .regular
    let database = try SQLiteDatabase(path: path, busyTimeout: busyTimeout, immutable: readOnly)
    if readOnly {
      try database.execute("PRAGMA foreign_keys = ON")
    } else {
      try Self.configure(database)
    }
    try Self.migrate(database)
    self.database = database
    self.path = path
  }

  /// Whether the directory holding `path` is on a filesystem mounted read-only.
  static func onReadOnlyFilesystem(_ path: String) -> Bool {
    var info = statvfs()
    let directory = PathText.parent(of: path)
    guard statvfs(directory.isEmpty ? "." : directory, &info) == 0 else { return false }
    return info.f_flag & UInt(ST_RDONLY) != 0
  }

  /// The rows of `node`: its variant times and its audit log. Rows written before the registry
  /// knew nodes (schema 1, with no run to name their node) become `node`'s here.
  public func ledger(node: String) throws -> SQLiteNodeLedger {
    let ledger = SQLiteNodeLedger(registry: self, node: node)
    try ledger.adoptUnownedRows()
    return ledger
  }

  /// Runs `body` with the connection while holding the lock, so one call's statements never
  /// interleave with another's.
  @discardableResult
  func withDatabase<Result>(_ body: (SQLiteDatabase) throws -> Result) throws -> Result {
    lock.lock()
    defer { lock.unlock() }
    return try body(database)
  }

  /// Per-connection settings, applied on every open (SQLite does not store them in the file,
  /// except the journal mode).
  private static func configure(_ database: SQLiteDatabase) throws {
    if database.path != ":memory:" {
      // WAL lets readers (status, plan) run while an apply writes. On a file system without
      // shared memory SQLite keeps the old mode; the registry still works, only less concurrently.
      try database.execute("PRAGMA journal_mode = WAL")
      // In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last commits,
      // which for a cache and an audit log costs at most a rehash.
      try database.execute("PRAGMA synchronous = NORMAL")
    }
    try database.execute("PRAGMA foreign_keys = ON")
  }
}
