import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Placing hard links so that a path never shows a missing or partial file.
enum StoreLinks {
  /// Makes `target` a hard link to `source`: the link is made under a unique name in the same
  /// directory and renamed over `target`. A directory at `target` is not replaced.
  static func replace(_ target: String, withLinkTo source: String) throws(BlobStore.StoreError) {
    let directory = (target as NSString).deletingLastPathComponent
    let temporary = "\(directory)/.\((target as NSString).lastPathComponent).\(BlobStore.uniqueSuffix()).link"
    guard Glibc.link(source, temporary) == 0 else { throw BlobStore.StoreError(what: "link \(source) to \(temporary)", code: errno) }
    if let existing = FileStatus.of(target), existing.kind == .directory {
      unlink(temporary)
      throw BlobStore.StoreError(what: "replace \(target)", code: EISDIR)
    }
    guard rename(temporary, target) == 0 else {
      let code = errno
      unlink(temporary)
      throw BlobStore.StoreError(what: "rename \(temporary) to \(target)", code: code)
    }
    // rename(2) does nothing when both names are links to one inode: the temporary name would
    // stay behind.
    unlink(temporary)
  }
}
