import CSQLite
import Foundation

/// A Swift type a result column can be read as, following SQLite's conversions
/// (NULL reads as 0, 0.0, "" or empty data; use an `Optional` to tell NULL apart).
public protocol SQLiteColumnValue {
  /// The value of column `index` (0-based) of the current row of `statement`.
  static func read(from statement: SQLiteStatement, at index: Int) -> Self
}

extension SQLiteStatement {
  /// Whether column `index` (0-based) of the current row is NULL.
  public func isNull(at index: Int) -> Bool {
    sqlite3_column_type(handle, Int32(clamping: index)) == SQLITE_NULL
  }

  /// Column `index` (0-based) of the current row read as `type`.
  public func column<Value: SQLiteColumnValue>(_ index: Int, as type: Value.Type = Value.self) -> Value {
    Value.read(from: self, at: index)
  }

  /// Column `index` (0-based) of the current row as an integer.
  public func int64(at index: Int) -> Int64 {
    sqlite3_column_int64(handle, Int32(clamping: index))
  }

  /// Column `index` (0-based) of the current row as a double.
  public func double(at index: Int) -> Double {
    sqlite3_column_double(handle, Int32(clamping: index))
  }

  /// Column `index` (0-based) of the current row as text.
  public func string(at index: Int) -> String {
    let position = Int32(clamping: index)
    // column_text must come before column_bytes so that the byte count is of the UTF-8 form.
    guard let text = sqlite3_column_text(handle, position) else { return "" }
    let count = Int(sqlite3_column_bytes(handle, position))
    return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
  }

  /// Column `index` (0-based) of the current row as unix seconds, the registry's date format.
  public func date(at index: Int) -> Date {
    Date(timeIntervalSince1970: double(at: index))
  }
}

extension Int: SQLiteColumnValue {
  /// The column as an integer.
  public static func read(from statement: SQLiteStatement, at index: Int) -> Int { Int(statement.int64(at: index)) }
}

extension String: SQLiteColumnValue {
  /// The column as text.
  public static func read(from statement: SQLiteStatement, at index: Int) -> String { statement.string(at: index) }
}

extension Date: SQLiteColumnValue {
  /// The column as unix seconds.
  public static func read(from statement: SQLiteStatement, at index: Int) -> Date { statement.date(at: index) }
}

extension Optional: SQLiteColumnValue where Wrapped: SQLiteColumnValue {
  /// The column, or nil when it is NULL.
  public static func read(from statement: SQLiteStatement, at index: Int) -> Wrapped? {
    statement.isNull(at: index) ? nil : Wrapped.read(from: statement, at: index)
  }
}
