import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What the source said about a partial file's content, kept next to it (`<part>.meta`) so that
/// a resume asks for the rest of the same content (`If-Range`) and not of a newer file.
public struct PartialMetadata: Codable, Sendable, Equatable {
  /// The URL the partial bytes came from.
  public var url: String
  /// The source's entity tag for the content.
  public var etag: String?
  /// The source's `Last-Modified` for the content.
  public var lastModified: String?
  /// While the file is fetched in ranges: the bytes from its start known to be in place with no
  /// hole before them. A process killed mid-download leaves holes after it; a resume cuts the
  /// file back to this length first.
  public var validPrefix: Int64?

  /// Metadata for content from `url`.
  public init(url: String, etag: String?, lastModified: String?) {
    self.url = url
    self.etag = etag
    self.lastModified = lastModified
  }

  /// What the sidecar's name adds to its partial file's name.
  public static let suffix = ".meta"

  /// The sidecar path for the partial file at `destination`; delete it together with the partial file.
  public static func path(for destination: String) -> String { destination + suffix }

  /// The sidecar of `destination`, or nil when it is missing or unreadable.
  static func load(for destination: String) -> PartialMetadata? {
    guard let data = FileManager.default.contents(atPath: path(for: destination)) else { return nil }
    return try? JSONDecoder().decode(PartialMetadata.self, from: data)
  }

  /// Writes the sidecar of `destination` atomically (temporary file, then rename).
  func save(for destination: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try encoder.encode(self).write(to: URL(fileURLWithPath: PartialMetadata.path(for: destination)), options: .atomic)
  }

  /// Removes the sidecar of `destination`, if any.
  static func remove(for destination: String) {
    unlink(path(for: destination))
  }

  /// The `If-Range` value for a resume: a strong entity tag, else the modification date.
  /// A weak tag cannot be used, since `If-Range` compares strongly.
  var ifRange: String? {
    if let etag, !etag.hasPrefix("W/") { return etag }
    return lastModified
  }
}
