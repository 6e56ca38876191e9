/// AWS Signature Version 4 for a request, which libcurl computes itself (`CURLOPT_AWS_SIGV4`).
public struct AWSSigV4: Sendable, Hashable {
  /// The region, for example `us-east-1`.
  public var region: String
  /// The service, `s3`.
  public var service: String
  /// The access key id.
  public var accessKeyID: String
  /// The secret access key; never printed.
  public var secretAccessKey: String
  /// The session token of temporary credentials, sent as `x-amz-security-token`.
  public var sessionToken: String?

  /// Creates a signing configuration.
  public init(region: String, service: String = "s3", accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
    self.region = region
    self.service = service
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
  }

  /// The `CURLOPT_AWS_SIGV4` provider string.
  var provider: String { "aws:amz:\(region):\(service)" }
}
