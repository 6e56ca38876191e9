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
    guard let schemeEnd = separator(in: url) else { return url }
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
    guard let colon = separator(in: text) else { return nil }
    return Scheme(rawValue: String(text[..<colon.lowerBound]))
  }

  /// Where the first `://` in `text` is (a scan of its bytes: every source of every model
  /// passes here).
  static func separator(in text: String) -> Range<String.Index>? {
    let utf8 = text.utf8
    var index = utf8.startIndex
    while let colon = utf8[index...].firstIndex(of: UInt8(ascii: ":")) {
      let first = utf8.index(after: colon)
      if first < utf8.endIndex, utf8[first] == UInt8(ascii: "/") {
        let second = utf8.index(after: first)
        if second < utf8.endIndex, utf8[second] == UInt8(ascii: "/") { return colon..<utf8.index(after: second) }
      }
      index = first
    }
    return nil
  }
}
