import Foundation
import ReconcileCore

/// Fetches one file into a partial file, hashing it on the way; blocking, called from worker threads.
public protocol Transfer: Sendable {
  /// Fetches `request.url` into `request.destination`, resuming a non-empty partial file.
  func fetch(_ request: TransferRequest) throws(TransferError) -> TransferResult
}

/// One file to fetch into a partial file.
public struct TransferRequest: Sendable {
  /// The file's full URL: `http`, `https` or `file` (absolute path).
  public var url: String
  /// The `.part` path; when it exists and is non-empty the transfer resumes after its bytes.
  public var destination: String
  /// A body that would make the file longer than this is aborted, so a wrong file never fills the disk.
  public var expectedSize: Int64?
  /// Extra request headers, such as `Authorization`; their values never appear in messages.
  public var headers: [String: String]
  /// Seconds to wait for a connection.
  public var connectTimeout: Double
  /// Seconds without a single byte after which the transfer is abandoned as stalled.
  public var stallTimeout: Double
  /// Called now and then with the file's length so far and its expected total, from the transfer's thread.
  public var progress: (@Sendable (_ written: Int64, _ total: Int64?) -> Void)?
  /// Set by another thread to stop the transfer promptly.
  public var cancellation: CancellationFlag?
  /// The SHA-256 the desired state pins, for sources that can check it before any byte moves.
  public var expectedSHA256: Digest?
  /// Signs the request with AWS Signature Version 4 (S3 and S3-compatible stores) when set.
  public var signing: AWSSigV4?
  /// Called with each chunk's byte count before it is written, from the transfer's thread; it
  /// may sleep to hold the transfer to a rate (a tenant's bandwidth, see `BandwidthLimiter`).
  public var throttle: (@Sendable (Int) -> Void)?
  /// Connections one big file may be fetched over at once, in ranges (`policy.connections_per_file`);
  /// 1 fetches every file as one stream.
  public var connections = 1

  /// A request with the default timeouts (30 s each).
  public init(
    url: String, destination: String, expectedSize: Int64? = nil, headers: [String: String] = [:],
    connectTimeout: Double = 30, stallTimeout: Double = 30,
    progress: (@Sendable (_ written: Int64, _ total: Int64?) -> Void)? = nil,
    cancellation: CancellationFlag? = nil, signing: AWSSigV4? = nil
  ) {
    self.url = url
    self.destination = destination
    self.expectedSize = expectedSize
    self.headers = headers
    self.connectTimeout = connectTimeout
    self.stallTimeout = stallTimeout
    self.progress = progress
    self.cancellation = cancellation
    self.signing = signing
  }
}

/// What a completed transfer left in the partial file.
public struct TransferResult: Sendable, Equatable {
  /// SHA-256 of the whole partial file, resumed bytes included.
  public var digest: Digest
  /// The partial file's length.
  public var bytes: Int64
  /// Bytes that were already there and kept (0 when the transfer started from scratch): the
  /// prefix, and for a file fetched in ranges the spans kept after it.
  public var resumedFrom: Int64
  /// Whether a partial file was discarded because the source answered a resume with the full file.
  public var restarted: Bool
  /// The final HTTP status (200, 206, or 416 when the partial file was already complete); 200 for files.
  public var status: Int
  /// The validator the source gave for this content, if any.
  public var etag: String?

  /// A result with every field given.
  public init(digest: Digest, bytes: Int64, resumedFrom: Int64, restarted: Bool, status: Int, etag: String?) {
    self.digest = digest
    self.bytes = bytes
    self.resumedFrom = resumedFrom
    self.restarted = restarted
    self.status = status
    self.etag = etag
  }
}

/// Why a transfer failed: the URL, the cause, and whether trying again may help.
public struct TransferError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The kinds of failure callers tell apart.
  public enum Kind: Sendable, Equatable {
    /// The source answered with this status (for `file://`: 404 missing, 403 permission denied).
    case http(Int)
    /// Connecting, resolving, TLS or the connection itself failed, or the body was cut short.
    case network
    /// No connection within the connect timeout.
    case timedOut
    /// No byte arrived for the stall timeout.
    case stalled
    /// The source sent more than it may: more bytes than the file's expected size, or response
    /// headers larger than `HTTPTransfer.maximumHeaderBytes`.
    case tooLarge
    /// The destination's file system is full.
    case diskFull
    /// Reading or writing a local file failed.
    case io
    /// The request's cancellation flag was set.
    case cancelled
    /// The URL's scheme or form is not one this transfer handles.
    case unsupported
  }

  /// The kind of failure.
  public var kind: Kind
  /// The URL that failed, without any user or password part.
  public var url: String
  /// The cause, short, without header values.
  public var message: String
  /// Whether the same request may succeed later: server errors, throttling, network trouble,
  /// timeouts, stalls and truncated bodies.
  public var isRetryable: Bool
  /// The first 4 KiB of an error response's body (S3 names its cause there); never printed.
  public var responseBody: Data?
  /// Seconds a 429 or 503 answer asked the client to wait before trying again (`Retry-After`,
  /// either form), if it said.
  public var retryAfter: Double?

  /// An error whose retryability follows from its kind unless given.
  public init(_ kind: Kind, url: String, message: String, isRetryable: Bool? = nil) {
    self.kind = kind
    self.url = TransferError.redacted(url)
    self.message = message
    self.isRetryable = isRetryable ?? TransferError.retryable(kind)
  }

  /// `url: message`, for example `https://host/x/model.bin: HTTP 404 Not Found`.
  public var description: String { "\(url): \(message)" }

  static func retryable(_ kind: Kind) -> Bool {
    switch kind {
    case .http(let status): status >= 500 || status == 408 || status == 429
    case .network, .timedOut, .stalled: true
    case .tooLarge, .diskFull, .io, .cancelled, .unsupported: false
    }
  }

  /// `url` without a `user:password@` part, which must not reach logs.
  static func redacted(_ url: String) -> String { SourceURL.redacting(url) }

  /// The error for a local file operation that failed with `error`.
  static func file(_ error: FileStreamError, url: String) -> TransferError {
    switch error {
    case .diskFull: TransferError(.diskFull, url: url, message: error.description)
    case .io: TransferError(.io, url: url, message: error.description)
    }
  }
}

extension TransferError.Kind {
  /// The kind as a metrics label: `http_4xx`, `http_5xx`, `network`, `timeout`, `stalled`,
  /// `too_large`, `disk_full`, `io`, `cancelled`, `unsupported`.
  public var metricLabel: String {
    switch self {
    case .http(let status): status >= 500 ? "http_5xx" : status >= 400 ? "http_4xx" : "http_other"
    case .network: "network"
    case .timedOut: "timeout"
    case .stalled: "stalled"
    case .tooLarge: "too_large"
    case .diskFull: "disk_full"
    case .io: "io"
    case .cancelled: "cancelled"
    case .unsupported: "unsupported"
    }
  }
}
