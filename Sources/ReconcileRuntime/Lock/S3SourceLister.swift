import Foundation
import ReconcileCore

/// Lists an S3 prefix with ListObjectsV2 and hashes every matching object by streaming it once.
public struct S3SourceLister: SourceLister {
  /// Endpoint, region and credentials.
  public var settings: S3Settings

  /// Creates a lister.
  public init(settings: S3Settings) { self.settings = settings }

  /// The objects under the prefix whose relative keys match `include`, each hashed by streaming it.
  public func list(_ source: SourceURL, include: [Glob]) throws -> LockedListing {
    let location = try S3Location(parsing: source.url)
    let prefix = location.key.isEmpty || location.key.hasSuffix("/") ? location.key : location.key + "/"
    var files: [FileSpec] = []
    for object in try S3API(settings: settings).listObjects(bucket: location.bucket, prefix: prefix) {
      let path = String(object.key.dropFirst(prefix.count))
      guard !path.isEmpty, !path.hasSuffix("/"), Glob.any(include, match: path) else { continue }
      let temporary = NSTemporaryDirectory() + "reconcile-lock-\(UUID().uuidString).part"
      defer {
        unlink(temporary)
        PartialMetadata.remove(for: temporary)
      }
      let url = SourceLocator(baseDirectory: "/").url(of: path, in: source)
      let result = try S3Transfer(settings: settings, http: HTTPTransfer(directIO: false)).fetch(TransferRequest(url: url, destination: temporary, expectedSize: object.size))
      files.append(FileSpec(path: path, size: result.bytes, sha256: result.digest))
    }
    return LockedListing(pinned: source, files: files)
  }
}
