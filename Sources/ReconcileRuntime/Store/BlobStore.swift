import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// The content-addressed store of a node root: partial downloads, verified blobs, views.
///
/// Every step that makes a file visible is an atomic `rename`, and every name a writer creates
/// is unique to it, so two applies on one root (where `flock` cannot be trusted, as on some
/// network filesystems) never see each other's half-written files.
public struct BlobStore: Sendable {
  /// The root.
  public var root: NodeRoot

  /// A store in `root`.
  public init(root: NodeRoot) { self.root = root }

  /// Why a store operation failed: the path and the system's reason.
  public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// The operation and path.
    public var what: String
    /// `errno` at the failure.
    public var code: Int32

    /// `rename /x/y: No such file or directory`.
    public var description: String { "\(what): \(String(cString: strerror(code)))" }

    /// Whether the disk was full.
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
  }

  /// `<root>/.reconcile/quarantine`: files that failed verification, kept for inspection.
  public var quarantine: String { root.state + "/quarantine" }
  /// `<root>/.reconcile/trash`: evicted views renamed here, then deleted.
  var trash: String { root.state + "/trash" }

  /// Creates the root's directories.
  public func prepare() throws(StoreError) {
    for directory in [root.path, root.blobs, root.models, root.state, root.temporary, quarantine, trash] {
      try makeDirectories(directory)
    }
  }

  /// A new partial-download path for `digest`, taking over the largest earlier partial of the
  /// same digest when there is one: an atomic rename claims it, so only one writer resumes it.
  public func claimPartial(for digest: Digest) -> String {
    let fresh = "\(root.temporary)/\(digest.hex).\(Self.uniqueSuffix()).part"
    let candidates = DirectoryListing.names(root.temporary)
      .filter { $0.hasPrefix(digest.hex + ".") && $0.hasSuffix(".part") }
      .compactMap { name -> (String, Int64)? in
        guard let status = FileStatus.of("\(root.temporary)/\(name)"), status.kind == .regular else { return nil }
        return (name, status.fingerprint.size)
      }
      .sorted { $0.1 > $1.1 }
    for (name, _) in candidates {
      let old = "\(root.temporary)/\(name)"
      if rename(old, fresh) == 0 {
        _ = rename(old + ".meta", fresh + ".meta")
        return fresh
      }
    }
    return fresh
  }

  /// Removes a partial download and its metadata.
  public func discardPartial(_ path: String) {
    unlink(path)
    unlink(path + ".meta")
  }

  /// Makes a fully written and verified partial file the blob for `digest`: read-only, renamed
  /// into `blobs/`, the directory synced. The file's data was synced by its writer.
  public func install(partial: String, as digest: Digest) throws(StoreError) {
    let target = root.blob(digest)
    let directory = (target as NSString).deletingLastPathComponent
    try makeDirectories(directory)
    guard chmod(partial, 0o444) == 0 else { throw StoreError(what: "chmod \(partial)", code: errno) }
    guard rename(partial, target) == 0 else { throw StoreError(what: "rename \(partial) to \(target)", code: errno) }
    unlink(partial + ".meta")
    try syncDirectory(directory)
  }

  /// Points `path` of `variant`'s view at the blob: a hard link made under a unique name and
  /// renamed over the old entry, so the view never shows a missing or partial file.
  public func link(_ digest: Digest, into variant: VariantID, at path: String) throws(StoreError) {
    let target = root.view(variant) + "/" + path
    let directory = (target as NSString).deletingLastPathComponent
    try makeDirectories(directory)
    let temporary = "\(directory)/.\((path as NSString).lastPathComponent).\(Self.uniqueSuffix()).link"
    guard Glibc.link(root.blob(digest), temporary) == 0 else { throw StoreError(what: "link \(root.blob(digest)) to \(temporary)", code: errno) }
    if let existing = FileStatus.of(target), existing.kind == .directory {
      unlink(temporary)
      throw StoreError(what: "replace \(target)", code: EISDIR)
    }
    guard rename(temporary, target) == 0 else {
      let code = errno
      unlink(temporary)
      throw StoreError(what: "rename \(temporary) to \(target)", code: code)
    }
    // rename(2) does nothing when both names are links to one inode (a view relinked to the
    // blob it already is): the temporary name would stay behind as a stray view file.
    unlink(temporary)
  }

  /// Moves a blob that failed verification out of the store, keeping it for inspection.
  /// Returns where it went.
  @discardableResult
  public func quarantineBlob(_ digest: Digest) throws(StoreError) -> String {
    try makeDirectories(quarantine)
    let destination = "\(quarantine)/\(digest.hex).\(Self.uniqueSuffix())"
    guard rename(root.blob(digest), destination) == 0 else { throw StoreError(what: "rename \(root.blob(digest)) to \(destination)", code: errno) }
    return destination
  }

  /// Removes a variant's whole view: renamed away first, so it disappears at once, then deleted.
  public func removeView(_ variant: VariantID) throws(StoreError) {
    let view = root.view(variant)
    guard FileStatus.of(view) != nil else { return }
    try makeDirectories(trash)
    let away = "\(trash)/\(variant.model.name)@\(variant.model.version):\(variant.variant).\(Self.uniqueSuffix())"
    guard rename(view, away) == 0 else { throw StoreError(what: "rename \(view) to \(away)", code: errno) }
    try removeTree(away)
    // Empty version and model directories go too.
    for directory in [root.models + "/\(variant.model.name)/\(variant.model.version)", root.models + "/\(variant.model.name)"] {
      rmdir(directory)
    }
  }

  /// Removes one file of a view.
  public func removeViewFile(_ variant: VariantID, at path: String) throws(StoreError) {
    let target = root.view(variant) + "/" + path
    if unlink(target) != 0, errno != ENOENT { throw StoreError(what: "unlink \(target)", code: errno) }
  }

  /// Removes a blob no view uses.
  public func removeBlob(_ digest: Digest) throws(StoreError) {
    let target = root.blob(digest)
    if unlink(target) != 0, errno != ENOENT { throw StoreError(what: "unlink \(target)", code: errno) }
  }

  // MARK: Helpers

  /// `mkdir -p`.
  func makeDirectories(_ path: String) throws(StoreError) {
    if let status = FileStatus.of(path) {
      if status.kind == .directory { return }
      throw StoreError(what: "mkdir \(path)", code: EEXIST)
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, parent != path { try makeDirectories(parent) }
    if mkdir(path, 0o755) != 0, errno != EEXIST { throw StoreError(what: "mkdir \(path)", code: errno) }
  }

  /// `fsync` on a directory, so a rename into it survives a crash.
  func syncDirectory(_ path: String) throws(StoreError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY)
    guard fd >= 0 else { throw StoreError(what: "open \(path)", code: errno) }
    defer { close(fd) }
    if fsync(fd) != 0 { throw StoreError(what: "fsync \(path)", code: errno) }
  }

  /// `rm -rf` without following links.
  func removeTree(_ path: String) throws(StoreError) {
    guard let status = FileStatus.of(path) else { return }
    if status.kind == .directory {
      for name in DirectoryListing.names(path) { try removeTree(path + "/" + name) }
      if rmdir(path) != 0 { throw StoreError(what: "rmdir \(path)", code: errno) }
    } else if unlink(path) != 0, errno != ENOENT {
      throw StoreError(what: "unlink \(path)", code: errno)
    }
  }

  /// A name part no other writer, in this process or another, uses at the same time.
  static func uniqueSuffix() -> String {
    "\(getpid())-\(UInt64.random(in: 0...UInt64.max) & 0xffff_ffff_ffff)"
  }
}
