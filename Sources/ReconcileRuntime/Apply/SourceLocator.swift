import Foundation
import ReconcileCore

/// Turns a model's source and a file path into the URL of that file.
public struct SourceLocator: Sendable {
  /// The directory relative `file://./…` sources are resolved against: the desired-state directory.
  public var baseDirectory: String

  /// Creates a locator.
  public init(baseDirectory: String) {
    self.baseDirectory = URL(fileURLWithPath: baseDirectory).standardizedFileURL.path
  }

  /// The URL of `path` under `source`: `https://mirror/x/` + `a/b.bin` → `https://mirror/x/a/b.bin`
  /// (segments percent-encoded); `file://./mirror/` → `file:///abs/desired/mirror/a/b.bin`.
  public func url(of path: String, in source: SourceURL) -> String {
    switch source.scheme {
    case .file:
      var location = String(source.url.dropFirst("file://".count))
      if !location.hasPrefix("/") {
        location = URL(fileURLWithPath: baseDirectory).appendingPathComponent(location).standardizedFileURL.path
      }
      return "file://" + Self.joined(location, path)
    case .http, .https, .s3, .hf:
      let encoded = path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
        String(segment).addingPercentEncoding(withAllowedCharacters: .urlPathSegmentAllowed) ?? String(segment)
      }.joined(separator: "/")
      return Self.joined(source.url, encoded)
    }
  }

  static func joined(_ base: String, _ path: String) -> String {
    base.hasSuffix("/") ? base + path : base + "/" + path
  }
}

