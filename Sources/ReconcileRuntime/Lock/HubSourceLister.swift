import Foundation
import ReconcileCore

/// Lists a Hub repository at a commit with its tree API: LFS files carry their SHA-256; the
/// others are fetched once and hashed.
public struct HubSourceLister: SourceLister {
  /// Endpoint and token.
  public var settings: HubSettings

  /// Creates a lister.
  public init(settings: HubSettings) { self.settings = settings }

  /// The repository's files at the commit its revision resolves to, with the source pinned to that commit.
  public func list(_ source: SourceURL, include: [Glob]) throws -> LockedListing {
    let reference = try HubReference(parsing: source.url)
    let api = HubAPI(settings: settings)
    let commit = try api.resolveRevision(reference)
    let pinned = reference.at(revision: commit).with(path: "")
    let pinnedURL = "hf://" + (reference.kind == .dataset ? "datasets/" : "") + "\(reference.repo)@\(commit)"
    var files: [FileSpec] = []
    for file in try api.listFiles(repo: reference.repo, kind: reference.kind, commit: commit) where Glob.any(include, match: file.path) {
      if let digest = file.lfsDigest {
        files.append(FileSpec(path: file.path, size: file.size, sha256: digest, gitSHA1: nil))
      } else {
        let (digest, size) = try hashByFetching(pinned.with(path: file.path), path: file.path, base: pinnedURL)
        files.append(FileSpec(path: file.path, size: size, sha256: digest, gitSHA1: file.gitOID))
      }
    }
    return LockedListing(pinned: SourceURL(scheme: .hf, url: pinnedURL), files: files)
  }

  /// Streams one file through the normal transfer into a temporary file, hashing it.
  func hashByFetching(_ reference: HubReference, path: String, base: String) throws -> (Digest, Int64) {
    let temporary = NSTemporaryDirectory() + "reconcile-lock-\(UUID().uuidString).part"
    defer {
      unlink(temporary)
      PartialMetadata.remove(for: temporary)
    }
    let url = SourceLocator(baseDirectory: "/").url(of: path, in: SourceURL(scheme: .hf, url: base))
    let result = try HubTransfer(settings: settings, http: HTTPTransfer(directIO: false)).fetch(TransferRequest(url: url, destination: temporary))
    return (result.digest, result.bytes)
  }
}
