import COpenSSL
import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// Publishes Hub models held by the node as a Hugging Face cache (`HF_HUB_CACHE` layout), so
/// transformers and diffusers load them with `HF_HUB_OFFLINE=1` and no second copy on disk:
///
/// ```
/// <cache>/models--ORG--REPO/blobs/<etag>              hard links into reconcile's blobs
/// <cache>/models--ORG--REPO/snapshots/<commit>/<path> relative symlinks to ../../blobs/<etag>
/// <cache>/models--ORG--REPO/refs/<revision>           the commit, no trailing newline
/// ```
///
/// The etag of a file is its SHA-256 when it is stored in Git LFS and its git blob SHA-1
/// otherwise, as the Hub names them: the SHA-1 comes from the lock file (`git_sha1`), or is
/// computed from the stored blob for small files declared by hand.
public struct HFCachePublisher: Sendable {
  /// The node's store.
  public var root: NodeRoot
  /// The cache directory.
  public var cache: String

  /// Creates a publisher.
  public init(root: NodeRoot, cache: String) {
    self.root = root
    self.cache = cache
  }

  /// Files below this size without a recorded git SHA-1 are treated as kept outside LFS.
  static let lfsThreshold: Int64 = 10 << 20

  /// Publishes one snapshot: for each file a hard link of the store's blob under its etag and a
  /// relative symlink in the snapshot, then the ref naming the commit. Entries already
  /// resolving to the store's blob are left as they are (nothing is read or written).
  public func publish(_ publication: CachePublication) throws {
    let repository = "\(cache)/\(publication.repository)"
    for file in publication.files {
      let snapshot = "\(cache)/\(publication.snapshotPath(file.path))"
      if isPublished(snapshot, blob: root.blob(file.sha256)) { continue }
      let etag = try etag(of: file, lockedFromHub: publication.lockedFromHub)
      try ensureLink(from: root.blob(file.sha256), to: "\(repository)/blobs/\(etag)")
      let depth = file.path.split(separator: "/").count - 1
      try ensureSymlink(at: snapshot, pointingTo: String(repeating: "../", count: depth + 2) + "blobs/\(etag)")
    }
    if let ref = publication.ref {
      try write(publication.commit, to: "\(repository)/refs/\(ref)")
    }
  }

  /// Whether the snapshot entry already resolves to a hard link of the store's blob, so
  /// nothing needs reading or writing (a second apply hashes nothing).
  func isPublished(_ snapshot: String, blob: String) -> Bool {
    guard let cached = Self.resolvedFingerprint(ofSnapshotEntry: snapshot), let stored = FileStatus.of(blob)?.fingerprint else { return false }
    return cached.isSameFile(as: stored)
  }

  /// The fingerprint of the file a snapshot entry's symbolic link resolves to, if it is one.
  static func resolvedFingerprint(ofSnapshotEntry snapshot: String) -> StatFingerprint? {
    guard FileStatus.of(snapshot)?.kind == .symlink, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: snapshot) else { return nil }
    let resolved = URL(fileURLWithPath: PathText.parent(of: snapshot)).appendingPathComponent(target).standardizedFileURL.path
    return FileStatus.of(resolved)?.fingerprint
  }

  /// The Hub's etag of `file`: its git SHA-1 when known, its SHA-256 when it is an LFS file (a
  /// file of a Hub lock without git SHA-1, or a large one), else the SHA-1 of the stored blob.
  func etag(of file: ViewFile, lockedFromHub: Bool = false) throws -> String {
    if let git = file.gitSHA1 { return git }
    guard !lockedFromHub, file.size < Self.lfsThreshold else { return file.sha256.hex }
    return try Self.gitBlobSHA1(ofFileAt: root.blob(file.sha256))
  }

  /// `sha1("blob <size>\0" + content)`, the name git gives a file's content.
  static func gitBlobSHA1(ofFileAt path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw BlobStore.StoreError(what: "read \(path)", code: errno == 0 ? ENOENT : errno)
    }
    guard let context = EVP_MD_CTX_new() else { throw BlobStore.StoreError(what: "sha1 \(path)", code: ENOMEM) }
    defer { EVP_MD_CTX_free(context) }
    EVP_DigestInit_ex(context, EVP_sha1(), nil)
    let header = Array("blob \(data.count)\0".utf8)
    EVP_DigestUpdate(context, header, header.count)
    data.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
    var output = [UInt8](repeating: 0, count: 20)
    var length: UInt32 = 0
    EVP_DigestFinal_ex(context, &output, &length)
    return output.map { String(format: "%02x", $0) }.joined()
  }

  func ensureLink(from source: String, to target: String) throws {
    if let existing = FileStatus.of(target), let blob = FileStatus.of(source), existing.fingerprint.isSameFile(as: blob.fingerprint) { return }
    try makeParent(of: target)
    do throws(BlobStore.StoreError) {
      try StoreFiles.linkReplacing(source, at: target)
    } catch where error.what.hasPrefix("link ") {
      // A hard link cannot cross filesystems: say where the cache has to be.
      throw BlobStore.StoreError(what: error.what + " (the HF cache must be on the root's filesystem)", code: error.code)
    }
  }

  func ensureSymlink(at path: String, pointingTo destination: String) throws {
    if FileStatus.of(path)?.kind == .symlink, (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == destination { return }
    try makeParent(of: path)
    try StoreFiles.symlinkReplacing(destination, at: path)
  }

  func write(_ text: String, to path: String) throws {
    if let current = try? String(contentsOfFile: path, encoding: .utf8), current == text { return }
    try makeParent(of: path)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
  }

  func makeParent(of path: String) throws {
    try StoreFiles.makeDirectories(PathText.parent(of: path))
  }
}
