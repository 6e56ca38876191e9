import CSQLite

/// A failure reported by SQLite: its message, its (extended) result code and the SQL that failed.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
  /// SQLite's own explanation, from `sqlite3_errmsg` or `sqlite3_errstr`.
  public var message: String
  /// The extended result code, for example `SQLITE_BUSY` (5) or `SQLITE_CONSTRAINT_PRIMARYKEY` (1555).
  public var code: Int32
  /// The statement that failed, when there was one.
  public var sql: String?

  /// Creates an error from its parts.
  public init(message: String, code: Int32, sql: String? = nil) {
    self.message = message
    self.code = code
    self.sql = sql
  }

  /// The primary result code (the low byte of `code`), for example `SQLITE_CONSTRAINT` (19).
  public var primaryCode: Int32 { code & 0xff }

  /// Whether another connection held a lock for longer than the busy timeout.
  public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }

  /// The code, its name, the message and the SQL, in one line for logs.
  public var description: String {
    let name = String(cString: sqlite3_errstr(code))
    var text = "sqlite error \(code) (\(name)): \(message)"
    if let sql { text += " — in: \(sql)" }
    return text
  }

  /// The error SQLite last recorded on `handle` for a call that returned `code`.
  static func last(on handle: OpaquePointer?, code: Int32, sql: String?) -> SQLiteError {
    let message: String
    if let handle, let text = sqlite3_errmsg(handle) {
      message = String(cString: text)
    } else {
      message = String(cString: sqlite3_errstr(code))
    }
    let extended = handle.map { sqlite3_extended_errcode($0) } ?? code
    // The handle's extended code belongs to the latest call only when its primary code agrees.
    return SQLiteError(message: message, code: extended & 0xff == code & 0xff ? extended : code, sql: sql)
  }
}
