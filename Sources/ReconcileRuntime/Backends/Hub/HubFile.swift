import Foundation
import ReconcileCore

/// One file of a Hub repository at a commit, as the tree API lists it.
public struct HubFile: Sendable, Hashable, Codable {
  /// The path in the repository.
  public var path: String
  /// The file's size in bytes (for an LFS file, the object's, not the pointer's).
  public var size: Int64
  /// The git blob id (SHA-1) of what git stores: the file itself, or for an LFS file its pointer.
  public var gitOID: String
  /// The SHA-256 of the content when the file is stored with LFS (the Hub's `lfs.oid`), lowercase hex.
  public var lfsSHA256: String?

  /// A file with every field given.
  public init(path: String, size: Int64, gitOID: String, lfsSHA256: String? = nil) {
    self.path = path
    self.size = size
    self.gitOID = gitOID
    self.lfsSHA256 = lfsSHA256
  }

  /// `lfsSHA256` as a digest, when it is one.
  public var lfsDigest: Digest? { lfsSHA256.flatMap { Digest(hex: $0) } }
}

/// What the Hub says about one file before any byte of it is fetched: the answer to a `HEAD`
/// on its resolve URL.
public struct HubFileMetadata: Sendable, Hashable {
  /// The resolve URL that was asked (after redirects within the Hub, such as a renamed repository).
  public var url: String
  /// The status of the answer: 302 or 307 to the CDN, or 200 when the Hub serves the file itself.
  public var status: Int
  /// `X-Linked-Etag`, else `ETag`, without `W/` and quotes: the SHA-256 of an LFS file, the git
  /// blob id of another.
  public var etag: String?
  /// `X-Linked-Size`, else the `Content-Length` of a 200 answer.
  public var size: Int64?
  /// `X-Repo-Commit`: the commit the revision resolved to.
  public var commit: String?
  /// Where the Hub redirects for the bytes (absolute), if it does.
  public var location: String?

  /// Metadata with every field given.
  public init(url: String, status: Int, etag: String?, size: Int64?, commit: String?, location: String?) {
    self.url = url
    self.status = status
    self.etag = etag
    self.size = size
    self.commit = commit
    self.location = location
  }

  /// The content's SHA-256 when the etag is one (LFS files); nil for a git blob id or no etag.
  public var sha256: Digest? { etag.flatMap { Digest(hex: $0.lowercased()) } }

  /// `"abc"`, `W/"abc"` → `abc`.
  static func strippedETag(_ value: String) -> String {
    var text = Substring(value.trimmingCharacters(in: .whitespaces))
    if text.hasPrefix("W/") { text = text.dropFirst(2) }
    if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
    return String(text)
  }
}
