import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// The file operations the store is built from: each makes a change visible in one atomic step
/// or removes without following a symbolic link, so a reader of the root never sees a half-made
/// entry and a link planted in the root never leads reconcile outside it.
enum StoreFiles {
  /// A name part no other writer, in this process or another, uses at the same time.
  static func uniqueSuffix() -> String {
    "\(getpid())-\(UInt64.random(in: 0...UInt64.max) & 0xffff_ffff_ffff)"
  }

  /// `mkdir -p`; throws `EEXIST` when something other than a directory is in the way.
  static func makeDirectories(_ path: String) throws(BlobStore.StoreError) {
    if let status = FileStatus.of(path) {
      if status.kind == .directory { return }
      throw inTheWay(path, status)
    }
    let parent = PathText.parent(of: path)
    if !parent.isEmpty, parent != path { try makeDirectories(parent) }
    if mkdir(path, 0o755) != 0, errno != EEXIST { throw BlobStore.StoreError(what: "mkdir \(path)", code: errno) }
  }

  /// `mkdir -p` for a path under `root` that checks every component below `root` with `lstat`:
  /// a symbolic link planted anywhere in the root (`models/x`, `.reconcile`, `blobs/sha256/ab`)
  /// is an error, never followed, so no write leaves the root. `root` itself may be a link.
  static func makeDirectories(_ path: String, inside root: String) throws(BlobStore.StoreError) {
    let base = root.hasSuffix("/") ? String(root.dropLast()) : root
    guard path.hasPrefix(base + "/") else { return try makeDirectories(path) }
    try makeDirectories(base)
    var current = base
    for component in path.dropFirst(base.count + 1).split(separator: "/") {
      current += "/" + component
      if let status = FileStatus.of(current) {
        guard status.kind == .directory else { throw inTheWay(current, status) }
        continue
      }
      if mkdir(current, 0o755) != 0, errno != EEXIST { throw BlobStore.StoreError(what: "mkdir \(current)", code: errno) }
      // Another writer may have raced us with something else.
      if let status = FileStatus.of(current), status.kind != .directory { throw inTheWay(current, status) }
    }
  }

  /// The error for something other than a directory where one is needed.
  static func inTheWay(_ path: String, _ status: FileStatus) -> BlobStore.StoreError {
    if status.kind == .symlink {
      let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
      return BlobStore.StoreError(
        what: "mkdir \(path)", code: EEXIST,
        advice: "it is a symbolic link (to \(target)), and reconcile never follows links inside its root; remove it and run again")
    }
    return BlobStore.StoreError(what: "mkdir \(path)", code: EEXIST, advice: "something that is not a directory is in the way; move it aside and run again")
  }

  /// Makes `target` a hard link to `source`: linked under a unique temporary name (in
  /// `temporaryDirectory`, else beside `target`, on the same filesystem either way) and renamed
  /// over whatever file was at `target`, so `target` never goes missing or shows a partial file.
  /// A directory at `target` is not replaced (`EISDIR`).
  static func linkReplacing(_ source: String, at target: String, temporaryDirectory: String? = nil) throws(BlobStore.StoreError) {
    try placeReplacing(target, temporaryDirectory: temporaryDirectory) { temporary throws(BlobStore.StoreError) in
      guard Glibc.link(source, temporary) == 0 else { throw BlobStore.StoreError(what: "link \(source) to \(temporary)", code: errno) }
    }
  }

  /// Makes `path` a symbolic link to `destination` the same way as `linkReplacing`: made under
  /// a unique name beside `path`, then renamed over it.
  static func symlinkReplacing(_ destination: String, at path: String) throws(BlobStore.StoreError) {
    try placeReplacing(path, temporaryDirectory: nil) { temporary throws(BlobStore.StoreError) in
      guard symlink(destination, temporary) == 0 else { throw BlobStore.StoreError(what: "symlink \(temporary)", code: errno) }
    }
  }

  /// Creates an entry with `make` under a unique temporary name, then renames it over `target`.
  private static func placeReplacing(
    _ target: String, temporaryDirectory: String?, make: (String) throws(BlobStore.StoreError) -> Void
  ) throws(BlobStore.StoreError) {
    let directory = temporaryDirectory ?? PathText.parent(of: target)
    let temporary = "\(directory)/.\((target as NSString).lastPathComponent).\(uniqueSuffix()).link"
    try make(temporary)
    if let existing = FileStatus.of(target), existing.kind == .directory {
      unlink(temporary)
      throw BlobStore.StoreError(what: "replace \(target)", code: EISDIR)
    }
    guard rename(temporary, target) == 0 else {
      let code = errno
      unlink(temporary)
      throw BlobStore.StoreError(what: "rename \(temporary) to \(target)", code: code)
    }
    // rename(2) does nothing when both names are links to one inode (a view relinked to the
    // blob it already is): the temporary name would stay behind as a stray file.
    unlink(temporary)
  }

  /// `rm -rf` without following links; returns how many entries other than directories went.
  /// Nothing at `path` is not an error.
  @discardableResult
  static func removeTree(_ path: String) throws(BlobStore.StoreError) -> Int {
    guard let status = FileStatus.of(path) else { return 0 }
    guard status.kind == .directory else {
      if unlink(path) != 0, errno != ENOENT { throw BlobStore.StoreError(what: "unlink \(path)", code: errno) }
      return 1
    }
    var removed = 0
    for name in DirectoryListing.names(path) { removed += try removeTree(path + "/" + name) }
    if rmdir(path) != 0, errno != ENOENT { throw BlobStore.StoreError(what: "rmdir \(path)", code: errno) }
    return removed
  }

  /// Every entry under `directory` that is not a directory, recursively, in name order, without
  /// following links; nothing when `directory` is not a directory. `visit` gets the entry's path
  /// relative to `directory` and its status. With `skippingHidden`, names starting with `.`
  /// (files and whole directories) are left out; with `includingDirectories`, each directory is
  /// visited too, before what it holds.
  static func walk(
    _ directory: String, skippingHidden: Bool = false, includingDirectories: Bool = false,
    _ visit: (_ relative: String, _ status: FileStatus) -> Void
  ) {
    guard FileStatus.of(directory)?.kind == .directory else { return }
    walk(directory, prefix: "", skippingHidden: skippingHidden, includingDirectories: includingDirectories, visit)
  }

  private static func walk(
    _ directory: String, prefix: String, skippingHidden: Bool, includingDirectories: Bool, _ visit: (String, FileStatus) -> Void
  ) {
    for name in DirectoryListing.names(directory) where !(skippingHidden && name.hasPrefix(".")) {
      let full = "\(directory)/\(name)"
      guard let status = FileStatus.of(full) else { continue }
      let relative = prefix.isEmpty ? name : "\(prefix)/\(name)"
      if status.kind == .directory {
        if includingDirectories { visit(relative, status) }
        walk(full, prefix: relative, skippingHidden: skippingHidden, includingDirectories: includingDirectories, visit)
      } else {
        visit(relative, status)
      }
    }
  }
}
