import Foundation
import ReconcileCore

/// Lists a source's files at a fixed revision, with sizes and digests, for `reconcile lock`.
public protocol SourceLister: Sendable {
  /// The files of `source` matching `include`, and the source pinned to the revision listed.
  func list(_ source: SourceURL, include: [Glob]) throws -> LockedListing
}

/// What a lister found.
public struct LockedListing: Sendable {
  /// The source at the revision that was listed (a Hub commit; other sources as given).
  public var pinned: SourceURL
  /// The matching files, in path order.
  public var files: [FileSpec]

  /// Creates a listing.
  public init(pinned: SourceURL, files: [FileSpec]) {
    self.pinned = pinned
    self.files = files.sorted { $0.path < $1.path }
  }
}

/// Why a source could not be listed.
public struct ListingError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, naming the source.
  public var description: String

  /// Creates an error.
  public init(_ description: String) { self.description = description }
}

/// Lists a `file://` directory, hashing every matching file once.
public struct FileSourceLister: SourceLister {
  /// Resolves `file://./…` sources.
  public var locator: SourceLocator

  /// Creates a lister resolving relative sources against `baseDirectory`.
  public init(baseDirectory: String) { locator = SourceLocator(baseDirectory: baseDirectory) }

  public func list(_ source: SourceURL, include: [Glob]) throws -> LockedListing {
    let root = String(locator.url(of: "", in: source).dropFirst("file://".count))
    guard FileStatus.of(root)?.kind == .directory else { throw ListingError("\(source): no directory at \(root)") }
    var files: [FileSpec] = []
    var failure: Error?
    walk(root, prefix: "") { path in
      guard failure == nil, Glob.any(include, match: path) else { return }
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

  private func walk(_ directory: String, prefix: String, _ visit: (String) -> Void) {
    for name in DirectoryListing.names(directory) where !name.hasPrefix(".") {
      let full = directory + "/" + name
      let relative = prefix.isEmpty ? name : prefix + "/" + name
      switch FileStatus.of(full)?.kind {
      case .directory: walk(full, prefix: relative, visit)
      case .regular: visit(relative)
      default: continue
      }
    }
  }
}
