import CSQLite
import Foundation

/// A compiled SQL statement: bind its parameters, step through its rows, read typed columns.
///
/// Parameter indices start at 1 and column indices at 0, as in SQLite. The statement keeps its
/// connection open and is finalized when released.
public final class SQLiteStatement {
  /// The SQL this statement was compiled from.
  public let sql: String
  /// The connection, kept alive as long as the statement is.
  let database: SQLiteDatabase
  /// The compiled statement; valid until `deinit`.
  let handle: OpaquePointer

  init(database: SQLiteDatabase, sql: String) throws {
    var prepared: OpaquePointer?
    let code = sqlite3_prepare_v2(database.handle, sql, -1, &prepared, nil)
    guard code == SQLITE_OK else {
      sqlite3_finalize(prepared)
      throw SQLiteError.last(on: database.handle, code: code, sql: sql)
    }
    guard let prepared else {
      throw SQLiteError(message: "no statement in the SQL text", code: SQLITE_MISUSE, sql: sql)
    }
    self.sql = sql
    self.database = database
    self.handle = prepared
  }

  deinit {
    sqlite3_finalize(handle)
  }

  // MARK: Binding

  /// Binds `values` to parameters 1, 2, … in order.
  public func bind(_ values: [SQLiteValue]) throws {
    for (offset, value) in values.enumerated() {
      try bind(value, at: offset + 1)
    }
  }

  /// Binds `value` to the parameter at `index` (1-based).
  public func bind(_ value: SQLiteValue, at index: Int) throws {
    let position = Int32(clamping: index)
    let code: Int32
    switch value {
    case .null:
      code = sqlite3_bind_null(handle, position)
    case .integer(let number):
      code = sqlite3_bind_int64(handle, position, number)
    case .real(let number):
      code = sqlite3_bind_double(handle, position, number)
    case .text(let text):
      let length = UInt64(text.utf8.count)
      // withCString gives a valid pointer even for "", which SQLite would otherwise bind as NULL.
      code = text.withCString {
        sqlite3_bind_text64(handle, position, $0, length, reconcile_sqlite_transient, UInt8(SQLITE_UTF8))
      }
    case .blob(let bytes):
      if bytes.isEmpty {
        code = sqlite3_bind_zeroblob(handle, position, 0)
      } else {
        code = bytes.withUnsafeBytes {
          sqlite3_bind_blob64(handle, position, $0.baseAddress, UInt64($0.count), reconcile_sqlite_transient)
        }
      }
    }
    guard code == SQLITE_OK else {
      throw SQLiteError.last(on: database.handle, code: code, sql: sql)
    }
  }

  // MARK: Stepping

  /// Advances to the next row: true when a row is ready to read, false when the statement is done.
  public func step() throws -> Bool {
    let code = sqlite3_step(handle)
    switch code {
    case SQLITE_ROW:
      return true
    case SQLITE_DONE:
      return false
    default:
      let error = SQLiteError.last(on: database.handle, code: code, sql: sql)
      sqlite3_reset(handle)
      throw error
    }
  }

  /// Rewinds the statement to run again; bound values are kept.
  public func reset() {
    // reset repeats the latest step's error, which step already reported.
    sqlite3_reset(handle)
  }

  /// Rewinds, binds `values` and steps to the end: one run of a statement that returns no rows.
  public func run(_ values: [SQLiteValue]) throws {
    reset()
    try bind(values)
    while try step() {}
  }
}
