/// Where a model's files come from, by scheme.
public struct SourceURL: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The schemes reconcile can fetch from.
  public enum Scheme: String, Sendable, Hashable, Codable, CaseIterable {
    case hf, s3, https, http, file
  }
  /// The scheme.
  public var scheme: Scheme
  /// The URL as written.
  public var url: String

  /// Creates a source from a URL whose scheme is already known.
  public init(scheme: Scheme, url: String) {
    self.scheme = scheme
    self.url = url
  }

  /// The URL as written.
  public var description: String { url }

  /// The URL without a `user:password@` part, for what is printed or logged.
  public var redacted: String { SourceURL.redacting(url) }

  /// `url` without a `user:password@` part in its authority.
  public static func redacting(_ url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else { return url }
    let rest = url[schemeEnd.upperBound...]
    let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
    guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
    return String(url[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
  }

  /// Decodes a URL string; an unsupported scheme is an error.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let scheme = SourceURL.scheme(of: text) else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "unsupported source: \(text)")
    }
    self.init(scheme: scheme, url: text)
  }

  /// Encodes the URL as written.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(url)
  }

  /// The scheme of `text` when it is one reconcile supports.
  public static func scheme(of text: String) -> Scheme? {
    guard let colon = text.range(of: "://") else { return nil }
    return Scheme(rawValue: String(text[..<colon.lowerBound]))
  }
}
