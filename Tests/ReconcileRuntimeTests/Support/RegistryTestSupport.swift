import CSQLite
import Foundation

@testable import ReconcileRuntime

/// A directory under the system temporary directory, removed when the value is released.
final class RegistryTestDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-registry-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  deinit { try? FileManager.default.removeItem(at: url) }
}

extension SQLiteRegistry {
  /// A registry of its own in memory; nothing is written to disk.
  static func inMemory() throws -> SQLiteRegistry {
    try SQLiteRegistry(path: ":memory:")
  }

  /// The journal mode SQLite reports for this connection: `wal` for files, `memory` in memory.
  func journalMode() throws -> String {
    try withDatabase { database in
      try database.query("PRAGMA journal_mode") { $0.string(at: 0) }.first ?? ""
    }
  }

  /// The schema version recorded in the file (`PRAGMA user_version`).
  func schemaVersion() throws -> Int {
    try withDatabase { try Self.userVersion(of: $0) }
  }
}

extension SQLiteDatabase {
  /// A private, empty in-memory database.
  static func inMemory() throws -> SQLiteDatabase {
    try SQLiteDatabase(path: ":memory:")
  }
}

extension SQLiteStatement {
  /// Column `index` (0-based) of the current row in its stored storage class, to check that a
  /// bound value reads back as it was bound.
  func value(at index: Int) -> SQLiteValue {
    let position = Int32(clamping: index)
    switch sqlite3_column_type(handle, position) {
    case SQLITE_INTEGER: return .integer(int64(at: index))
    case SQLITE_FLOAT: return .real(double(at: index))
    case SQLITE_TEXT: return .text(string(at: index))
    case SQLITE_BLOB:
      guard let bytes = sqlite3_column_blob(handle, position) else { return .blob(Data()) }
      return .blob(Data(bytes: bytes, count: Int(sqlite3_column_bytes(handle, position))))
    default: return .null
    }
  }
}
