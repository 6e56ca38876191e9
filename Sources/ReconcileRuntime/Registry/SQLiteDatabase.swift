import CSQLite
import Foundation

/// One connection to an SQLite database file or an in-memory database.
///
/// Not `Sendable`: a connection is used from one task at a time. Types that share one across
/// tasks (such as `SQLiteRegistry`) serialise access themselves.
public final class SQLiteDatabase {
  /// How long a statement waits for another connection's lock before failing with `SQLITE_BUSY`:
  /// two `reconcile` processes may open the same registry, and an apply may hold it briefly.
  public static let defaultBusyTimeout: Duration = .seconds(10)

  /// The path given when opening, or `:memory:`.
  public let path: String
  /// The connection handle; valid until `deinit`.
  let handle: OpaquePointer
  /// How many `transaction` calls are running inside an outer one, to name their savepoints.
  private var savepointDepth = 0

  /// Opens the database at `path`, creating the file when missing; `:memory:` opens a private
  /// in-memory database. The parent directory must exist.
  ///
  /// `immutable` opens an existing file read-only and tells SQLite nothing can change it (no
  /// locks, no `-wal` or `-shm` files): for a file on a read-only filesystem, where a WAL
  /// database cannot be opened otherwise.
  public init(path: String, busyTimeout: Duration = SQLiteDatabase.defaultBusyTimeout, immutable: Bool = false) throws {
    var opened: OpaquePointer?
    // NOFOLLOW: a registry path that is a symbolic link is refused, not written through.
    let flags = immutable
      ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
    let name = immutable ? "file:\(path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)?immutable=1" : path
    let code = sqlite3_open_v2(name, &opened, flags, nil)
    guard code == SQLITE_OK, let opened else {
      let cause = SQLiteError.last(on: opened, code: code, sql: nil)
      sqlite3_close_v2(opened)
      throw SQLiteError(message: "cannot open database \(path): \(cause.message)", code: cause.code)
    }
    self.path = path
    self.handle = opened
    sqlite3_extended_result_codes(opened, 1)
    sqlite3_busy_timeout(opened, Self.milliseconds(busyTimeout))
  }

  deinit {
    // close_v2 defers the close until statements still alive are finalized.
    sqlite3_close_v2(handle)
  }

  /// Runs one or more `;`-separated statements that return no rows (results, if any, are ignored).
  public func execute(_ sql: String) throws {
    var errorMessage: UnsafeMutablePointer<CChar>?
    let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
    guard code == SQLITE_OK else {
      let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
      sqlite3_free(errorMessage)
      let extended = sqlite3_extended_errcode(handle)
      throw SQLiteError(message: message, code: extended & 0xff == code & 0xff ? extended : code, sql: sql)
    }
  }

  /// Compiles one statement for binding and stepping.
  public func prepare(_ sql: String) throws -> SQLiteStatement {
    try SQLiteStatement(database: self, sql: sql)
  }

  /// Runs one statement with `values` bound to its parameters and returns how many rows it changed.
  @discardableResult
  public func run(_ sql: String, _ values: [SQLiteValue] = []) throws -> Int {
    let statement = try prepare(sql)
    try statement.bind(values)
    while try statement.step() {}
    return changes
  }

  /// Runs one query with `values` bound and maps every result row through `row`.
  public func query<Row>(
    _ sql: String, _ values: [SQLiteValue] = [], row: (SQLiteStatement) throws -> Row
  ) throws -> [Row] {
    let statement = try prepare(sql)
    try statement.bind(values)
    var rows: [Row] = []
    while try statement.step() {
      rows.append(try row(statement))
    }
    return rows
  }

  /// The rowid of the latest successful INSERT on this connection.
  public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

  /// How many rows the latest INSERT, UPDATE or DELETE on this connection changed.
  public var changes: Int { Int(sqlite3_changes(handle)) }

  /// Whether a transaction is open on this connection.
  public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

  /// Runs `body` in a transaction: `BEGIN IMMEDIATE`, then `COMMIT`, or `ROLLBACK` when `body`
  /// throws. Called inside another transaction, it runs `body` in a savepoint instead, so that
  /// a failure undoes only `body`'s work.
  ///
  /// `IMMEDIATE` takes the write lock up front, so a second writer waits (up to the busy
  /// timeout) at `BEGIN` instead of failing halfway through.
  @discardableResult
  public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
    if isInTransaction { return try savepoint(body) }
    try execute("BEGIN IMMEDIATE")
    let result: Result
    do {
      result = try body()
      try execute("COMMIT")
    } catch {
      rollBackIfOpen()
      throw error
    }
    return result
  }

  private func savepoint<Result>(_ body: () throws -> Result) throws -> Result {
    savepointDepth += 1
    defer { savepointDepth -= 1 }
    let name = "reconcile_savepoint_\(savepointDepth)"
    try execute("SAVEPOINT \(name)")
    do {
      let result = try body()
      try execute("RELEASE \(name)")
      return result
    } catch {
      if isInTransaction {
        try? execute("ROLLBACK TO \(name)")
        try? execute("RELEASE \(name)")
      }
      throw error
    }
  }

  /// Rolls back after a failure; SQLite may already have done so (for example after SQLITE_FULL).
  private func rollBackIfOpen() {
    guard isInTransaction else { return }
    // The original error is what the caller needs; a failing ROLLBACK adds nothing to it.
    try? execute("ROLLBACK")
  }

  private static func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let total = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    return Int32(clamping: Int64(max(0, min(total, Double(Int32.max)))))
  }
}
