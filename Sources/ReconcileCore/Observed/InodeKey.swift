/// Which file an entry is, whatever its name: device and inode. Two hard links of one file
/// have the same key; its size and times do not count.
public struct InodeKey: Sendable, Hashable {
  /// The device the file lives on.
  public var device: UInt64
  /// The inode number.
  public var inode: UInt64

  /// The key of a file with this device and inode.
  public init(device: UInt64, inode: UInt64) {
    self.device = device
    self.inode = inode
  }

  /// The key of the file `fingerprint` was taken of.
  public init(_ fingerprint: StatFingerprint) {
    self.init(device: fingerprint.device, inode: fingerprint.inode)
  }
}
