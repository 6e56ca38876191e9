import Foundation

/// Where the Hugging Face Hub is and which token to present to it.
///
/// Read from the ecosystem's own variables, so that a machine set up for `huggingface_hub` works
/// as it is: `HF_ENDPOINT` (a mirror), `HF_TOKEN` (or the older `HUGGING_FACE_HUB_TOKEN`). The
/// token never appears in `description`, `debugDescription` or a reflection dump.
public struct HubSettings: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
  /// A setting that cannot be used, naming where it came from.
  public struct InvalidSetting: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and where it was set.
    public var description: String
  }

  /// The public Hub.
  public static let defaultEndpoint = "https://huggingface.co"

  /// The Hub's base URL, without a trailing `/`.
  public var endpoint: String
  /// The access token sent as `Authorization: Bearer …` to the Hub (never to its CDN); nil for anonymous access.
  public var token: String?
  /// The variable the token came from, named in messages that ask for a token: `HF_TOKEN` unless
  /// it was `HUGGING_FACE_HUB_TOKEN`.
  public var tokenVariable: String

  /// Settings for `endpoint` (a trailing `/` is dropped) with an optional token.
  public init(endpoint: String = HubSettings.defaultEndpoint, token: String? = nil, tokenVariable: String = "HF_TOKEN") {
    var endpoint = endpoint
    while endpoint.hasSuffix("/") { endpoint.removeLast() }
    self.endpoint = endpoint
    self.token = token
    self.tokenVariable = tokenVariable
  }

  /// The settings from the environment, then the node's config file (key `hf_endpoint`).
  /// Empty values count as unset; a token is trimmed of surrounding whitespace.
  public static func from(environment: [String: String], config: [String: String] = [:]) throws(InvalidSetting) -> HubSettings {
    func value(_ text: String?) -> String? {
      guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
      return text
    }
    var endpoint = defaultEndpoint
    if let text = value(environment["HF_ENDPOINT"]) {
      endpoint = try validated(text, origin: "HF_ENDPOINT")
    } else if let text = value(config["hf_endpoint"]) {
      endpoint = try validated(text, origin: "config 'hf_endpoint'")
    }
    for variable in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"] {
      guard let token = value(environment[variable]) else { continue }
      // A header value cannot hold a line break; say so without echoing the value.
      guard !token.contains(where: { $0.isNewline || $0 == "\0" }) else {
        throw InvalidSetting(description: "\(variable) contains a line break; it must be one token")
      }
      return HubSettings(endpoint: endpoint, token: token, tokenVariable: variable)
    }
    return HubSettings(endpoint: endpoint)
  }

  /// `HubSettings(endpoint: https://huggingface.co, token: set in HF_TOKEN)`; never the token.
  public var description: String {
    let tokenState = token == nil ? "none" : "set in \(tokenVariable)"
    return "HubSettings(endpoint: \(TransferError.redacted(endpoint)), token: \(tokenState))"
  }

  /// Same as `description`.
  public var debugDescription: String { description }

  /// The endpoint and whether a token is set, so that `dump` shows no token either.
  public var customMirror: Mirror {
    Mirror(self, children: ["endpoint": TransferError.redacted(endpoint), "token": token == nil ? "none" : "set in \(tokenVariable)"])
  }

  /// `text` without trailing `/` when it is an http or https URL with a host.
  private static func validated(_ text: String, origin: String) throws(InvalidSetting) -> String {
    var endpoint = text
    while endpoint.hasSuffix("/") { endpoint.removeLast() }
    guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
      components.query == nil, components.fragment == nil
    else {
      throw InvalidSetting(description: "\(origin) must be an http:// or https:// URL such as \(defaultEndpoint), got '\(TransferError.redacted(text))'")
    }
    return endpoint
  }
}
