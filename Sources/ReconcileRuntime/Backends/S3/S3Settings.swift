import Foundation

/// Where `s3://` sources are fetched from and with which credentials: AWS itself, or an
/// S3-compatible store (MinIO, Ceph, R2) at a configured endpoint.
///
/// Read once, from the environment and the node's config file, with the variable names the AWS
/// tools use, so that an existing set-up works unchanged.
public struct S3Settings: Sendable, Hashable {
  /// The store's base URL, such as `http://minio.internal:9000`, without a trailing slash;
  /// nil for AWS (`https://BUCKET.s3.REGION.amazonaws.com`).
  public var endpoint: String?
  /// The region requests are signed for.
  public var region: String
  /// Whether the bucket goes into the path (`ENDPOINT/BUCKET/KEY`) rather than the host name.
  public var pathStyle: Bool
  /// The keys requests are signed with; nil sends unsigned requests (public buckets).
  public var credentials: AWSSigV4?
  /// Where the credentials came from, for messages: `AWS_ACCESS_KEY_ID`, or a profile and file.
  public var credentialSource: String?

  /// The config file keys read by `from(environment:config:home:)`.
  public static let configKeys = ["s3_endpoint", "s3_region", "s3_path_style", "s3_profile", "s3_credentials_file"]

  /// Settings given outright; `pathStyle` defaults to true when an endpoint is set.
  public init(
    endpoint: String? = nil, region: String = "us-east-1", pathStyle: Bool? = nil, credentials: AWSSigV4? = nil,
    credentialSource: String? = nil
  ) {
    self.endpoint = endpoint.map(S3Settings.trimmed)
    self.region = region
    self.pathStyle = pathStyle ?? (endpoint != nil)
    self.credentials = credentials
    self.credentialSource = credentialSource ?? (credentials == nil ? nil : "given credentials")
  }

  /// A setting that cannot be used, naming where it came from.
  public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and how to fix it; never contains a key.
    public var description: String
  }

  /// Settings from the environment, then the config file, then the defaults.
  ///
  /// - Endpoint: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, config `s3_endpoint`; none means AWS.
  /// - Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, config `s3_region`, else `us-east-1`.
  /// - Path-style addressing: config `s3_path_style` (`true`/`false`), else on with an endpoint.
  /// - Credentials: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN`),
  ///   else the profile `AWS_PROFILE` (config `s3_profile`, else `default`) in
  ///   `AWS_SHARED_CREDENTIALS_FILE` (config `s3_credentials_file`, else `HOME/.aws/credentials`).
  ///   No keys anywhere means unsigned requests; a profile named but missing is an error.
  ///
  /// `home` defaults to `HOME` from `environment`.
  public static func from(environment: [String: String], config: [String: String] = [:], home: String? = nil) throws(Problem) -> S3Settings {
    func value(_ name: String) -> String? {
      environment[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
    }
    func setting(_ key: String) -> String? {
      config[key].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
    }

    var endpoint: String?
    if let (text, origin) = value("AWS_ENDPOINT_URL_S3").map({ ($0, "AWS_ENDPOINT_URL_S3") })
      ?? value("AWS_ENDPOINT_URL").map({ ($0, "AWS_ENDPOINT_URL") })
      ?? setting("s3_endpoint").map({ ($0, "config s3_endpoint") })
    {
      endpoint = try checkedEndpoint(text, origin: origin)
    }
    let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? setting("s3_region") ?? "us-east-1"
    guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
      throw Problem(description: "S3 region '\(region)' is not a region name such as us-east-1 (AWS_REGION, AWS_DEFAULT_REGION, config s3_region)")
    }
    var pathStyle = endpoint != nil
    if let text = setting("s3_path_style") {
      switch text.lowercased() {
      case "true", "yes", "1": pathStyle = true
      case "false", "no", "0": pathStyle = false
      default: throw Problem(description: "config s3_path_style must be true or false, got '\(text)'")
      }
    }

    let (keys, source) = try credentials(environment: environment, config: config, home: home ?? value("HOME"))
    let signing = keys.map {
      AWSSigV4(region: region, accessKeyID: $0.id, secretAccessKey: $0.secret, sessionToken: $0.token)
    }
    return S3Settings(endpoint: endpoint, region: region, pathStyle: pathStyle, credentials: signing, credentialSource: source)
  }

  /// The endpoint without a trailing slash, once it has an `http` or `https` scheme and a host.
  static func checkedEndpoint(_ text: String, origin: String) throws(Problem) -> String {
    let lower = text.lowercased()
    guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
      throw Problem(description: "S3 endpoint '\(text)' (\(origin)) needs a scheme, such as https://\(text)")
    }
    guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty,
      components.query == nil, components.fragment == nil, components.user == nil
    else {
      throw Problem(description: "S3 endpoint '\(TransferError.redacted(text))' (\(origin)) is not a URL like https://host:port")
    }
    return trimmed(text)
  }

  static func trimmed(_ endpoint: String) -> String {
    var text = endpoint
    while text.hasSuffix("/") { text.removeLast() }
    return text
  }
}

extension S3Settings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
  /// `endpoint http://127.0.0.1:9000 (path-style), region us-east-1, credentials from AWS_ACCESS_KEY_ID`;
  /// names where keys came from, never the keys.
  public var description: String {
    let place = endpoint.map { "endpoint \($0)" } ?? "AWS"
    let style = pathStyle ? "path-style" : "virtual-hosted"
    let keys = credentialSource.map { "credentials from \($0)" } ?? "no credentials (unsigned requests)"
    let token = credentials?.sessionToken == nil ? "" : " with a session token"
    return "\(place) (\(style)), region \(region), \(keys)\(token)"
  }

  /// The same as `description`: keys stay out of debug output too.
  public var debugDescription: String { "S3Settings(\(description))" }

  /// Fields without the keys, for `dump` and debuggers.
  public var customMirror: Mirror {
    Mirror(
      self,
      children: [
        "endpoint": endpoint as Any, "region": region, "pathStyle": pathStyle,
        "credentialSource": credentialSource as Any,
      ], displayStyle: .struct)
  }
}

extension AWSSigV4: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
  /// The region and service only: the keys must not reach a log through string interpolation.
  public var description: String { "AWSSigV4(\(region), \(service))" }

  /// The same as `description`.
  public var debugDescription: String { description }

  /// The region and service only, for `dump` and debuggers.
  public var customMirror: Mirror { Mirror(self, children: ["region": region, "service": service], displayStyle: .struct) }
}
