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
  /// hole before them. A process killed mid-download leaves holes after it; a resume keeps this
  /// prefix and the `done` spans, and cuts the file back to the prefix when it cannot use them.
  public var validPrefix: Int64?
  /// While the file is fetched in ranges: the spans `[start, end)` after `validPrefix` known to
  /// be written in full (sorted, disjoint, at most `ByteSpans.maximumCount`). A resume with the
  /// same validator fetches only what neither covers. Absent in sidecars of older versions.
  public var done: [[Int64]]?

  /// Metadata for content from `url`.
  public init(url: String, etag: String?, lastModified: String?) {
    self.url = url
    self.etag = etag
    self.lastModified = lastModified
  }

  enum CodingKeys: String, CodingKey {
    case url, etag, lastModified, validPrefix, done
  }

  /// Decodes a sidecar leniently past its `url`: a field of the wrong type (a span that is not a
  /// pair of integers, a number too big for 64 bits) is dropped rather than failing the whole
  /// sidecar (a damaged `validPrefix` keeps nothing), and the values that remain are clamped by
  /// `kept(fileSize:expected:)` before use.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    url = try container.decode(String.self, forKey: .url)
    etag = try? container.decodeIfPresent(String.self, forKey: .etag)
    lastModified = try? container.decodeIfPresent(String.self, forKey: .lastModified)
    done = try? container.decodeIfPresent([[Int64]].self, forKey: .done)
    if container.contains(.validPrefix) {
      // A damaged prefix says the file has holes but not where: nothing of it is trusted.
      validPrefix = try? container.decodeIfPresent(Int64.self, forKey: .validPrefix)
      if validPrefix == nil { (validPrefix, done) = (0, nil) }
    }
  }

  /// What the sidecar's name adds to its partial file's name.
  public static let suffix = ".meta"

  /// The sidecar path for the partial file at `destination`; delete it together with the partial file.
  public static func path(for destination: String) -> String { destination + suffix }

  /// The biggest sidecar read: a few hundred bytes of URL and validators and at most
  /// `ByteSpans.maximumCount` spans fit many times over; anything bigger is not one of ours.
  static let maximumBytes = 256 << 10

  /// The sidecar of `destination`, or nil when it is missing, unreadable or too big.
  static func load(for destination: String) -> PartialMetadata? {
    guard let size = FileStatus.of(path(for: destination))?.fingerprint.size, size <= maximumBytes,
      let data = FileManager.default.contents(atPath: path(for: destination))
    else { return nil }
    return try? JSONDecoder().decode(PartialMetadata.self, from: data)
  }

  /// What a resume of ranges may keep of the partial file, now `fileSize` bytes long, of a file
  /// of `expected` bytes: the prefix and spans clamped, merged and bounded (`ByteSpans.kept`);
  /// nil when the sidecar is not of a ranged download (no `validPrefix`).
  func kept(fileSize: Int64, expected: Int64?) -> ByteSpans.Kept? {
    guard let validPrefix else { return nil }
    let size = min(fileSize, expected ?? fileSize)
    return ByteSpans.kept(prefix: validPrefix, spans: ByteSpans.ranges(done ?? []), size: size)
  }

  /// Records `kept` as the prefix and the spans after it.
  mutating func record(_ kept: ByteSpans.Kept) {
    validPrefix = kept.prefix
    done = kept.spans.isEmpty ? nil : kept.spans.map { [$0.lowerBound, $0.upperBound] }
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
