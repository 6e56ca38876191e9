import CSQLite
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A registry file that is not a database any more (corrupt, truncated, overwritten) is moved
/// aside and replaced by a fresh one: the verified-file cache is rebuilt by hashing what is on
/// disk, and the node's history starts again with a record of the gap.
extension SQLiteRegistry {
  /// Whether `error` says the file is not a usable database (as opposed to busy or read-only).
  public static func isCorruption(_ error: any Error) -> Bool {
    guard let error = error as? SQLiteError else { return false }
    return error.primaryCode == SQLITE_CORRUPT || error.primaryCode == SQLITE_NOTADB
  }

  /// What happened to a registry that had to be replaced.
  public struct Healing: Sendable, Hashable, CustomStringConvertible {
    /// The registry's path.
    public var path: String
    /// Where the unusable file went.
    public var movedTo: String
    /// What SQLite said about it.
    public var cause: String

    /// One line for the operator.
    public var description: String {
      "registry \(path) could not be read (\(cause)); moved it to \(movedTo) and started a fresh one — files on disk are hashed again"
    }
  }

  /// Opens the registry at `path`; when the file is not a usable database, moves it (and its
  /// `-wal` and `-shm` files) to `<path>.corrupt-<unix time>` and opens a fresh one.
  public static func openHealing(path: String, now: Date = Date()) throws -> (SQLiteRegistry, Healing?) {
    do {
      let registry = try SQLiteRegistry(path: path)
      // Opening reads only the header; a damaged page shows up on the first real query.
      _ = try registry.verifiedDigests()
      return (registry, nil)
    } catch where isCorruption(error) {
      let aside = "\(path).corrupt-\(Int(now.timeIntervalSince1970))"
      guard rename(path, aside) == 0 else { throw BlobStore.StoreError(what: "rename \(path) to \(aside)", code: errno) }
      for suffix in ["-wal", "-shm"] { _ = rename(path + suffix, aside + suffix) }
      let healing = Healing(path: path, movedTo: aside, cause: (error as? SQLiteError)?.message ?? "\(error)")
      return (try SQLiteRegistry(path: path), healing)
    }
  }

  /// `PRAGMA integrity_check`: an empty list when the file is sound, else SQLite's findings.
  public func integrityProblems() throws -> [String] {
    let rows = try withDatabase { database in try database.query("PRAGMA integrity_check") { $0.string(at: 0) } }
    return rows == ["ok"] ? [] : rows
  }
}
