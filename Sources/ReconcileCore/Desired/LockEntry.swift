/// One variant's entry in a lock file: the pinned source and the files its globs matched.
public struct LockEntry: Sendable, Hashable, Codable {
  /// The variant.
  public var variant: VariantID
  /// The source at a fixed revision.
  public var source: SourceURL
  /// The globs the files were selected with.
  public var include: [String]
  /// The files, with size and digests.
  public var files: [FileSpec]

  /// Creates a lock entry.
  public init(variant: VariantID, source: SourceURL, include: [String], files: [FileSpec]) {
    self.variant = variant
    self.source = source
    self.include = include
    self.files = files
  }
}
