/// What identifies a file's content on disk without reading it: if any part changes, the
/// file must be hashed again before it is trusted.
public struct StatFingerprint: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The device the file lives on.
  public var device: UInt64
  /// The inode number.
  public var inode: UInt64
  /// The size in bytes.
  public var size: Int64
  /// Modification time in nanoseconds since the epoch.
  public var mtimeNs: Int64
  /// Status-change time in nanoseconds since the epoch.
  public var ctimeNs: Int64

  /// Creates a fingerprint.
  public init(device: UInt64, inode: UInt64, size: Int64, mtimeNs: Int64, ctimeNs: Int64) {
    self.device = device
    self.inode = inode
    self.size = size
    self.mtimeNs = mtimeNs
    self.ctimeNs = ctimeNs
  }

  /// Every part, for messages: `dev=… ino=… size=… mtime=… ctime=…`.
  public var description: String { "dev=\(device) ino=\(inode) size=\(size) mtime=\(mtimeNs) ctime=\(ctimeNs)" }

  /// Whether both are the same file: same device and inode (two hard links of one file).
  public func isSameFile(as other: StatFingerprint) -> Bool { device == other.device && inode == other.inode }

  /// Whether the file kept its content since `earlier`: same file, size and mtime. Only the
  /// ctime may differ, as creating or removing a hard link changes it.
  public func keepsContent(of earlier: StatFingerprint) -> Bool {
    isSameFile(as: earlier) && size == earlier.size && mtimeNs == earlier.mtimeNs
  }
}
