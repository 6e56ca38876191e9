import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// What `lstat` says about one path, without following a symbolic link.
public struct FileStatus: Sendable, Hashable {
  /// The kinds of entries the scanner tells apart.
  public enum Kind: Sendable, Hashable {
    case regular, directory, symlink, other
  }
  /// The entry's kind.
  public var kind: Kind
  /// Device, inode, size and times.
  public var fingerprint: StatFingerprint
  /// Last access time, in seconds since the epoch.
  public var accessTime: Double
  /// Hard link count.
  public var links: Int

  /// `lstat(path)`, or nil when nothing is there.
  public static func of(_ path: String) -> FileStatus? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    let kind: Kind
    switch info.st_mode & S_IFMT {
    case S_IFREG: kind = .regular
    case S_IFDIR: kind = .directory
    case S_IFLNK: kind = .symlink
    default: kind = .other
    }
    let fingerprint = StatFingerprint(
      device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
      mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
      ctimeNs: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    return FileStatus(kind: kind, fingerprint: fingerprint, accessTime: Double(info.st_atim.tv_sec) + Double(info.st_atim.tv_nsec) / 1e9, links: Int(info.st_nlink))
  }
}
