import Foundation

/// Fetches `s3://BUCKET/KEY` from AWS S3 or an S3-compatible store: a SigV4-signed `GET` (libcurl
/// signs it, `CURLOPT_AWS_SIGV4`) through `HTTPTransfer`, so resuming with `Range`/`If-Range`,
/// hashing and the size limit work as for any HTTP source.
///
/// Errors name the `s3://` URL and S3's own error code with what to check, for example
/// `s3://models/a.bin: SignatureDoesNotMatch — check AWS_SECRET_ACCESS_KEY`; keys and tokens
/// never appear in them.
public struct S3Transfer: Transfer {
  /// Endpoint, region, addressing and credentials.
  public var settings: S3Settings
  /// The HTTP transfer that moves the bytes.
  public var http: HTTPTransfer

  /// A transfer for `settings`.
  public init(settings: S3Settings, http: HTTPTransfer = HTTPTransfer()) {
    self.settings = settings
    self.http = http
  }

  /// Downloads the object `request.url` (`s3://BUCKET/KEY`) into `request.destination`,
  /// resuming a non-empty one.
  public func fetch(_ request: TransferRequest) throws(TransferError) -> TransferResult {
    let location: S3Location
    do {
      location = try S3Location(parsing: request.url)
    } catch {
      throw TransferError(.unsupported, url: request.url, message: error.reason)
    }
    guard !location.key.isEmpty, !location.key.hasSuffix("/") else {
      throw TransferError(.unsupported, url: request.url, message: "names a prefix, not an object")
    }
    var signed = request
    signed.url = location.url(settings)
    signed.signing = settings.credentials
    signed.headers.merge(S3Transfer.signedHeaders(settings)) { _, s3 in s3 }
    do {
      return try http.fetch(signed)
    } catch {
      throw S3Transfer.error(error, url: request.url, endpointURL: signed.url, settings: settings, permission: "s3:GetObject on \(location.bucket)/\(location.key)")
    }
  }

  /// The headers a signed `GET` needs besides those libcurl adds: S3 wants the payload's hash
  /// (the empty body's), and libcurl then signs it with the other `x-amz-` headers.
  static func signedHeaders(_ settings: S3Settings) -> [String: String] {
    settings.credentials == nil ? [:] : ["x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]
  }

  /// `error` restated for `url` (the `s3://` one): S3's error code and what to check for an error
  /// status, the endpoint URL that was tried for anything else.
  static func error(_ error: TransferError, url: String, endpointURL: String, settings: S3Settings, permission: String) -> TransferError {
    // The response body stays behind: S3 can echo the access key id and the signed string in it.
    if case .http(let status) = error.kind {
      let signed = settings.credentials != nil
      let message: String
      if let document = S3ErrorDocument(error.responseBody) {
        message = document.cause(status: status, permission: permission, signed: signed)
      } else if status == 401 || status == 403 {
        message = signed
          ? "\(error.message) — check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile in ~/.aws/credentials"
          : "\(error.message) — no credentials were sent; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
      } else {
        message = error.message
      }
      var restated = TransferError(error.kind, url: url, message: message, isRetryable: error.isRetryable)
      restated.retryAfter = error.retryAfter  // S3's 503 SlowDown may say how long to slow down
      return restated
    }
    return TransferError(error.kind, url: url, message: "\(error.message) (\(endpointURL))", isRetryable: error.isRetryable)
  }
}
