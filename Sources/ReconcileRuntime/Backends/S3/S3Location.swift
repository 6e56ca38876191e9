import Foundation

/// One object (or prefix) in a bucket, from `s3://BUCKET/KEY`, and the HTTPS URL that reaches it.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
  /// The bucket name.
  public var bucket: String
  /// The key as stored, not percent-encoded; empty for the whole bucket.
  public var key: String

  /// A location from its parts; `key` is the key itself, not percent-encoded.
  public init(bucket: String, key: String) {
    self.bucket = bucket
    self.key = key
  }

  /// Parses `s3://BUCKET/KEY`. The key is read the way a URL's path is: percent escapes are
  /// decoded (`SourceLocator` encodes each path segment), and characters a URL would escape,
  /// such as spaces, may also appear as they are. A key whose `%` starts no valid escape is
  /// taken literally.
  public init(parsing text: String) throws(S3LocationError) {
    guard text.count > 5, text.prefix(5).lowercased() == "s3://" else {
      throw S3LocationError(text: text, reason: "not an s3://BUCKET/KEY URL")
    }
    let rest = text.dropFirst(5)
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let bucket = String(rest[..<slash])
    if let reason = S3Location.problem(withBucket: bucket) { throw S3LocationError(text: text, reason: reason) }
    let written = slash == rest.endIndex ? "" : String(rest[rest.index(after: slash)...])
    let key = written.removingPercentEncoding ?? written
    let segments = key.split(separator: "/", omittingEmptySubsequences: false)
    // HTTP clients resolve dot segments before sending, so such a key would fetch another object.
    if segments.contains(where: { $0 == "." || $0 == ".." }) {
      throw S3LocationError(text: text, reason: "a key with a '.' or '..' segment cannot be fetched over HTTP")
    }
    self.init(bucket: bucket, key: key)
  }

  /// `s3://BUCKET/KEY`, with the key escaped where a URL needs it (`%`, spaces, controls, non-ASCII).
  public var description: String {
    "s3://\(bucket)/" + (key.addingPercentEncoding(withAllowedCharacters: .s3DisplayAllowed) ?? key)
  }

  /// The HTTPS (or endpoint's) URL of this object under `settings`:
  /// - path-style: `ENDPOINT/BUCKET/KEY`, or `https://s3.REGION.amazonaws.com/BUCKET/KEY` on AWS;
  /// - virtual-hosted: `https://BUCKET.s3.REGION.amazonaws.com/KEY`, or the bucket put in front
  ///   of the endpoint's host.
  ///
  /// The key is encoded the way SigV4's canonical request expects (every byte but
  /// `A-Z a-z 0-9 - _ . ~` and `/`), since libcurl signs the path exactly as it is sent. A bucket
  /// with dots is addressed path-style on AWS, as the AWS SDKs do: its virtual host name would
  /// not match the `*.s3.REGION.amazonaws.com` certificate.
  public func url(_ settings: S3Settings) -> String {
    let path = S3Location.encoded(key, keepingSlashes: true)
    let pathStyle = settings.pathStyle || (settings.endpoint == nil && bucket.contains("."))
    guard let endpoint = settings.endpoint else {
      let domain = settings.region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
      return pathStyle
        ? "https://s3.\(settings.region).\(domain)/\(bucket)/\(path)"
        : "https://\(bucket).s3.\(settings.region).\(domain)/\(path)"
    }
    if pathStyle { return "\(endpoint)/\(bucket)/\(path)" }
    guard let hostStart = endpoint.range(of: "://")?.upperBound else { return "\(endpoint)/\(bucket)/\(path)" }
    return endpoint[..<hostStart] + bucket + "." + endpoint[hostStart...] + "/" + path
  }

  /// `text` with every byte but the unreserved characters (and `/` when kept) percent-encoded, as
  /// SigV4 canonical URIs and query strings require.
  static func encoded(_ text: String, keepingSlashes: Bool) -> String {
    let allowed = keepingSlashes ? CharacterSet.sigV4Unreserved.union(CharacterSet(charactersIn: "/")) : .sigV4Unreserved
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
  }

  /// Why `bucket` is not a valid bucket name, or nil when it is: 3 to 63 lowercase letters,
  /// digits, dots and hyphens, starting and ending with a letter or digit, no `..`, not an IPv4
  /// address.
  static func problem(withBucket bucket: String) -> String? {
    if bucket.isEmpty { return "the bucket name is missing" }
    guard (3...63).contains(bucket.count) else { return "bucket name '\(bucket)' must have 3 to 63 characters" }
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
    guard bucket.allSatisfy(allowed.contains) else {
      return "bucket name '\(bucket)' may only have lowercase letters, digits, dots and hyphens"
    }
    guard let first = bucket.first, let last = bucket.last, first.isLetter || first.isNumber, last.isLetter || last.isNumber else {
      return "bucket name '\(bucket)' must start and end with a letter or digit"
    }
    if bucket.contains("..") { return "bucket name '\(bucket)' must not contain '..'" }
    let parts = bucket.split(separator: ".", omittingEmptySubsequences: false)
    if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return "bucket name '\(bucket)' must not be an IP address" }
    return nil
  }
}

/// An `s3://` URL that names no bucket and key reconcile can fetch.
public struct S3LocationError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The URL as given.
  public var text: String
  /// What is wrong with it.
  public var reason: String

  /// `text: reason`.
  public var description: String { "\(text): \(reason)" }
}

extension CharacterSet {
  /// The bytes SigV4 leaves unencoded: `A-Z a-z 0-9 - _ . ~`.
  static let sigV4Unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

  /// The characters an `s3://` URL shows as they are.
  static let s3DisplayAllowed: CharacterSet = {
    var set = CharacterSet.urlPathAllowed
    set.remove(charactersIn: "%?#")
    return set
  }()
}
