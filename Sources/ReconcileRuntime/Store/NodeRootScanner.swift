import Foundation
import ReconcileCore

/// Reads what a node root holds into an `ObservedState`, trusting the registry's verified-file
/// cache for files whose stat fingerprint is unchanged, and never following a link.
public struct NodeRootScanner {
  /// The root to scan.
  public var root: NodeRoot

  /// Creates a scanner.
  public init(root: NodeRoot) { self.root = root }

  /// Scans the root. `verified` maps fingerprints to the digests the registry recorded;
  /// `lastUse` is the registry's record of uses (`reconcile touch`), merged with the access
  /// times of the views' files: the later of the two is a variant's last use.
  public func scan(verified: [StatFingerprint: Digest], lastUse: [VariantID: Date] = [:], unwantedSince: [VariantID: Date] = [:]) -> ObservedState {
    var byInode: [InodeKey: StatFingerprint] = [:]
    for fingerprint in verified.keys { byInode[InodeKey(fingerprint)] = fingerprint }
    // The filesystem's free space counts only where the root is: a plan made before the node's
    // first apply (in CI, or for another node) must not be judged by this machine's disk.
    // Apply creates the root before it observes, so its plan always checks the space.
    let space = FileStatus.of(root.path)?.kind == .directory ? DirectoryListing.space(root.path) : nil
    var observed = ObservedState(lastUse: lastUse, unwantedSince: unwantedSince, filesystem: space)
    observed.blobs = scanBlobs(verified: verified, byInode: byInode)
    let (variants, accessed) = scanViews(verified: verified)
    observed.variants = variants
    for (id, date) in accessed where date > observed.lastUse[id] ?? .distantPast { observed.lastUse[id] = date }
    observed.partials = scanPartials()
    return observed
  }

  /// The variants the root holds a view directory for, in order, without reading their files.
  public func heldVariants() -> [VariantID] {
    var held: [VariantID] = []
    for name in directories(root.models) {
      for version in directories("\(root.models)/\(name)") {
        for variant in directories("\(root.models)/\(name)/\(version)") { held.append(VariantID(name: name, version: version, variant: variant)) }
      }
    }
    return held
  }

  /// When a view file was last read, if its access time says so: only an access time later
  /// than the modification time counts. On a `noatime` mount the access time stays where the
  /// file's creation put it, never after its last write, so it is no use at all; on `relatime`
  /// (the Linux default) the first read after a write and then one read a day move it, which is
  /// plenty for least-recently-used ordering. A millisecond of slack absorbs rounding.
  static func accessTime(of status: FileStatus) -> Date? {
    guard status.kind == .regular else { return nil }
    let modified = Double(status.fingerprint.mtimeNs) / 1e9
    guard status.accessTime > modified + 0.001 else { return nil }
    return Date(timeIntervalSince1970: status.accessTime)
  }

  func scanBlobs(verified: [StatFingerprint: Digest], byInode: [InodeKey: StatFingerprint]) -> [Digest: ObservedBlob] {
    var blobs: [Digest: ObservedBlob] = [:]
    for prefix in DirectoryListing.names(root.blobs) where prefix.utf8.count == 2 {
      for name in DirectoryListing.names("\(root.blobs)/\(prefix)") where name.hasPrefix(prefix) {
        guard let digest = Digest(hex: name), let status = FileStatus.of("\(root.blobs)/\(prefix)/\(name)"), status.kind == .regular else { continue }
        let verification: Verification
        if verified[status.fingerprint] == digest {
          verification = .verified
        } else if let earlier = byInode[InodeKey(status.fingerprint)], verified[earlier] == digest {
          verification = earlier.size != status.fingerprint.size ? .sizeChanged : .modified
        } else {
          verification = .neverVerified
        }
        blobs[digest] = ObservedBlob(digest: digest, fingerprint: status.fingerprint, verification: verification)
      }
    }
    return blobs
  }

  /// Every variant's view files, and the latest access of each variant's files (see `accessTime(of:)`).
  func scanViews(verified: [StatFingerprint: Digest]) -> (variants: [VariantID: ObservedVariant], accessed: [VariantID: Date]) {
    var variants: [VariantID: ObservedVariant] = [:]
    var accessed: [VariantID: Date] = [:]
    for id in heldVariants() {
      var observed = ObservedVariant(id: id)
      StoreFiles.walk(root.view(id)) { path, status in
        observed.files[path] = ObservedFile(
          fingerprint: status.fingerprint, verifiedDigest: status.kind == .regular ? verified[status.fingerprint] : nil,
          isRegularFile: status.kind == .regular)
        if let date = Self.accessTime(of: status), date > accessed[id] ?? .distantPast { accessed[id] = date }
      }
      variants[id] = observed
    }
    return (variants, accessed)
  }

  func scanPartials() -> [PartialDownload] {
    DirectoryListing.names(root.temporary).compactMap { name in
      guard name.hasSuffix(".part"), let digest = Digest(hex: String(name.prefix(64))),
        let status = FileStatus.of("\(root.temporary)/\(name)"), status.kind == .regular
      else { return nil }
      return PartialDownload(digest: digest, name: name, bytes: status.fingerprint.size, modified: Date(timeIntervalSince1970: Double(status.fingerprint.mtimeNs) / 1e9))
    }
  }

  /// Subdirectories of `path` that are real directories, not links to elsewhere.
  func directories(_ path: String) -> [String] {
    DirectoryListing.names(path).filter { FileStatus.of("\(path)/\($0)")?.kind == .directory }
  }
}
