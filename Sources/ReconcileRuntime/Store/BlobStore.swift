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
    /// What to do, when the cause is known better than `errno` says it.
    public var advice: String?

    /// Creates an error.
    public init(what: String, code: Int32, advice: String? = nil) {
      self.what = what
      self.code = code
      self.advice = advice
    }

    /// `rename /x/y: No such file or directory`.
    public var description: String { "\(what): \(advice ?? String(cString: strerror(code)))" }
  }

  /// `<root>/.reconcile/quarantine`: files that failed verification, kept for inspection.
  public var quarantine: String { root.state + "/quarantine" }
  /// `<root>/.reconcile/trash`: evicted views renamed here, then deleted.
  var trash: String { root.state + "/trash" }

  /// Creates the root's directories.
  public func prepare() throws(StoreError) {
    for directory in [root.path, root.blobs, root.models, root.state, root.temporary, quarantine, trash] {
      try StoreFiles.makeDirectories(directory, inside: root.path)
    }
  }

  /// A new partial-download path for `digest`, taking over the largest earlier partial of the
  /// same digest when there is one: an atomic rename claims it, so only one writer resumes it.
  public func claimPartial(for digest: Digest) -> String {
    let fresh = "\(root.temporary)/\(digest.hex).\(StoreFiles.uniqueSuffix()).part"
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
        _ = rename(PartialMetadata.path(for: old), PartialMetadata.path(for: fresh))
        return fresh
      }
    }
    return fresh
  }

  /// Removes a partial download and its metadata.
  public func discardPartial(_ path: String) {
    unlink(path)
    PartialMetadata.remove(for: path)
  }

  /// Makes a fully written and verified partial file the blob for `digest`: read-only, renamed
  /// into `blobs/`, the directory synced. The file's data was synced by its writer.
  public func install(partial: String, as digest: Digest) throws(StoreError) {
    let target = root.blob(digest)
    let directory = PathText.parent(of: target)
    try StoreFiles.makeDirectories(directory, inside: root.path)
    guard chmod(partial, 0o444) == 0 else { throw StoreError(what: "chmod \(partial)", code: errno) }
    guard rename(partial, target) == 0 else { throw StoreError(what: "rename \(partial) to \(target)", code: errno) }
    PartialMetadata.remove(for: partial)
    try syncDirectory(directory)
  }

  /// Points `path` of `variant`'s view at the blob: a hard link made under a unique name and
  /// renamed over the old entry, so the view never shows a missing or partial file.
  public func link(_ digest: Digest, into variant: VariantID, at path: String) throws(StoreError) {
    let target = root.view(variant) + "/" + path
    try StoreFiles.makeDirectories(PathText.parent(of: target), inside: root.path)
    try StoreFiles.linkReplacing(root.blob(digest), at: target)
  }

  /// Moves a blob that failed verification out of the store, keeping it for inspection.
  /// Returns where it went.
  @discardableResult
  public func quarantineBlob(_ digest: Digest) throws(StoreError) -> String {
    try StoreFiles.makeDirectories(quarantine, inside: root.path)
    let destination = "\(quarantine)/\(digest.hex).\(StoreFiles.uniqueSuffix())"
    guard rename(root.blob(digest), destination) == 0 else { throw StoreError(what: "rename \(root.blob(digest)) to \(destination)", code: errno) }
    return destination
  }

  /// Removes a variant's whole view: renamed away first, so it disappears at once, then deleted.
  public func removeView(_ variant: VariantID) throws(StoreError) {
    let view = root.view(variant)
    guard FileStatus.of(view) != nil else { return }
    try StoreFiles.makeDirectories(trash, inside: root.path)
    let away = "\(trash)/\(variant.model.name)@\(variant.model.version):\(variant.variant).\(StoreFiles.uniqueSuffix())"
    guard rename(view, away) == 0 else { throw StoreError(what: "rename \(view) to \(away)", code: errno) }
    try StoreFiles.removeTree(away)
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

  /// `fsync` on a directory, so a rename into it survives a crash.
  func syncDirectory(_ path: String) throws(StoreError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY)
    guard fd >= 0 else { throw StoreError(what: "open \(path)", code: errno) }
    defer { close(fd) }
    if fsync(fd) != 0 { throw StoreError(what: "fsync \(path)", code: errno) }
  }
}
