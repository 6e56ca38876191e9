import ReconcileCore
import Foundation

/// The verified-file cache: a file whose stat fingerprint still matches its record is trusted
/// without rehashing.
extension SQLiteRegistry: VerifiedFileCache {
  /// Every recorded fingerprint and the digest its file had when verified, loaded in one query.
  public func verifiedDigests() throws -> [StatFingerprint: Digest] {
    try withDatabase { database in
      let statement = try database.prepare(
        "SELECT device, inode, size, mtime_ns, ctime_ns, sha256 FROM verified_file"
      )
      var digests: [StatFingerprint: Digest] = [:]
      while try statement.step() {
        // A row that is not a digest is only a cache miss: the file gets hashed again.
        guard let digest = Digest(hex: statement.string(at: 5)) else { continue }
        digests[Self.fingerprint(in: statement)] = digest
      }
      return digests
    }
  }

  /// Records many verified files in one transaction, each replacing any earlier record of the
  /// same file (device and inode).
  public func recordVerified(_ entries: [(StatFingerprint, Digest)], at date: Date) throws {
    guard !entries.isEmpty else { return }
    try withDatabase { database in
      try database.transaction {
        let statement = try database.prepare(
          """
          INSERT INTO verified_file (device, inode, size, mtime_ns, ctime_ns, sha256, verified_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (device, inode) DO UPDATE SET
            size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
            sha256 = excluded.sha256, verified_at = excluded.verified_at
          """
        )
        for (fingerprint, digest) in entries {
          try statement.run(Self.values(of: fingerprint) + [.text(digest.hex), SQLiteValue(date)])
        }
      }
    }
  }

  /// Drops every record whose fingerprint is not in `keeping` (files that no longer exist or
  /// changed) and returns how many it dropped.
  @discardableResult
  public func pruneVerified(keeping: Set<StatFingerprint>) throws -> Int {
    try withDatabase { database in
      try database.transaction {
        let rows = try database.prepare(
          "SELECT device, inode, size, mtime_ns, ctime_ns FROM verified_file"
        )
        var stale: [StatFingerprint] = []
        while try rows.step() {
          let fingerprint = Self.fingerprint(in: rows)
          if !keeping.contains(fingerprint) { stale.append(fingerprint) }
        }
        let delete = try database.prepare("DELETE FROM verified_file WHERE device = ? AND inode = ?")
        for fingerprint in stale {
          try delete.run([SQLiteValue(bitPattern: fingerprint.device), SQLiteValue(bitPattern: fingerprint.inode)])
        }
        return stale.count
      }
    }
  }

  /// The fingerprint in columns 0 to 4 of the current row.
  private static func fingerprint(in statement: SQLiteStatement) -> StatFingerprint {
    StatFingerprint(
      device: UInt64(bitPattern: statement.int64(at: 0)),
      inode: UInt64(bitPattern: statement.int64(at: 1)),
      size: statement.int64(at: 2),
      mtimeNs: statement.int64(at: 3),
      ctimeNs: statement.int64(at: 4)
    )
  }

  /// The fingerprint as values for (device, inode, size, mtime_ns, ctime_ns).
  private static func values(of fingerprint: StatFingerprint) -> [SQLiteValue] {
    [
      SQLiteValue(bitPattern: fingerprint.device), SQLiteValue(bitPattern: fingerprint.inode),
      .integer(fingerprint.size), .integer(fingerprint.mtimeNs), .integer(fingerprint.ctimeNs),
    ]
  }
}
