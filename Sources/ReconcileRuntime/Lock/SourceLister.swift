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
