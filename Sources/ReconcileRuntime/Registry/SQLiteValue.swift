import Foundation

/// A value SQLite stores in a column or binds to a parameter: its five storage classes.
public enum SQLiteValue: Sendable, Hashable {
  /// SQL NULL.
  case null
  /// A 64-bit signed integer.
  case integer(Int64)
  /// An IEEE 754 double.
  case real(Double)
  /// UTF-8 text.
  case text(String)
  /// Bytes, stored as given.
  case blob(Data)

  /// An integer, or NULL for nil.
  public init(_ value: Int64?) {
    self = value.map { .integer($0) } ?? .null
  }

  /// An integer, or NULL for nil.
  public init(_ value: Int?) {
    self = value.map { .integer(Int64($0)) } ?? .null
  }

  /// Text, or NULL for nil.
  public init(_ value: String?) {
    self = value.map { .text($0) } ?? .null
  }

  /// Unix seconds as a double, which keeps sub-second order; NULL for nil.
  public init(_ date: Date?) {
    self = date.map { .real($0.timeIntervalSince1970) } ?? .null
  }

  /// The raw bits of an unsigned integer (device and inode numbers may exceed `Int64.max`).
  public init(bitPattern value: UInt64) {
    self = .integer(Int64(bitPattern: value))
  }
}
