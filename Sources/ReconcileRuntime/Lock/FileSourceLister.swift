import ReconcileCore

/// Lists a `file://` directory, hashing every matching file once.
public struct FileSourceLister: SourceLister {
  /// Resolves `file://./…` sources.
  public var locator: SourceLocator

  /// Creates a lister resolving relative sources against `baseDirectory`.
  public init(baseDirectory: String) { locator = SourceLocator(baseDirectory: baseDirectory) }

  /// Every regular file under the directory whose path matches `include`, hidden names left out, each hashed.
  public func list(_ source: SourceURL, include: [Glob]) throws -> LockedListing {
    let root = String(locator.url(of: "", in: source).dropFirst("file://".count))
    guard FileStatus.of(root)?.kind == .directory else { throw ListingError("\(source): no directory at \(root)") }
    var files: [FileSpec] = []
    var failure: Error?
    StoreFiles.walk(root, skippingHidden: true) { path, status in
      guard status.kind == .regular, failure == nil, Glob.any(include, match: path) else { return }
      do {
        let (digest, size) = try FileHasher.digest(ofFileAt: root + "/" + path)
        files.append(FileSpec(path: path, size: size, sha256: digest))
      } catch {
        failure = ListingError("\(source): \(path): \(error)")
      }
    }
    if let failure { throw failure }
    return LockedListing(pinned: source, files: files)
  }
}
