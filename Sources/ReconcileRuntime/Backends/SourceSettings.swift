/// Where sources are and how to reach them: Hub endpoint and token, S3 endpoint, region and
/// credentials, read once from the environment and the config file.
public struct SourceSettings: Sendable {
  /// The Hugging Face Hub.
  public var hub: HubSettings
  /// S3 and S3-compatible stores.
  public var s3: S3Settings

  /// Creates settings.
  public init(hub: HubSettings = HubSettings(), s3: S3Settings = S3Settings()) {
    self.hub = hub
    self.s3 = s3
  }

  /// Reads `HF_ENDPOINT`, `HF_TOKEN`, the `AWS_*` variables, `~/.aws/credentials` and the
  /// config keys `hf_endpoint`, `s3_endpoint`, `s3_region`, `s3_path_style`.
  public static func from(environment: [String: String], config: [String: String]) throws -> SourceSettings {
    SourceSettings(
      hub: try HubSettings.from(environment: environment, config: config),
      s3: try S3Settings.from(environment: environment, config: config, home: environment["HOME"]))
  }
}
