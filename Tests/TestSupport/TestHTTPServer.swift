import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A real HTTP file server on 127.0.0.1 for tests: `test_http_server.py` run by `python3`,
/// honouring `Range` and `If-Range`, logging requests, and misbehaving on request.
///
/// The script exits when its stdin closes, so it ends with this object or, at the latest, with
/// the test process.
public final class TestHTTPServer: @unchecked Sendable {
  /// One request the server saw (control requests are not logged).
  public struct LoggedRequest: Decodable, Sendable, Equatable {
    /// `GET` or `HEAD`.
    public var method: String
    /// The percent-decoded path.
    public var path: String
    /// The `Host` header: which name and port the client asked for.
    public var host: String?
    /// When the request arrived, in seconds since 1970.
    public var time: Double
    /// The `Range` header, if sent.
    public var range: String?
    /// The `If-Range` header, if sent.
    public var ifRange: String?
    /// Whether an `Authorization` header was sent (its value is never logged).
    public var authorizationPresent: Bool

    /// The bytes a `Range: bytes=N-M` header asks for, as `N..<M+1`; nil for any other form.
    public var byteRange: Range<Int64>? {
      guard let range, range.hasPrefix("bytes=") else { return nil }
      let parts = range.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
      guard parts.count == 2, let first = Int64(parts[0]), let last = Int64(parts[1]), first <= last, last < .max else { return nil }
      return first..<(last + 1)
    }

    enum CodingKeys: String, CodingKey {
      case method, path, host, time, range
      case ifRange = "if_range"
      case authorizationPresent = "authorization_present"
    }
  }

  /// Ways the server can misbehave for one path.
  public enum Behaviour: String, Sendable {
    /// Answers `status` (default 500) for the next `count` requests (default 1).
    case fail
    /// Declares the full `Content-Length`, sends half, closes.
    case truncate
    /// Sends the right length with other content.
    case wrongBytes = "wrong-bytes"
    /// Answers every request with 200 and the whole file.
    case ignoreRange = "ignore-range"
    /// Sends the first 64 KiB, then nothing until the client gives up.
    case stall
    /// Sends `rate` bytes per second.
    case throttle
    /// Always answers `status`.
    case status
    /// Answers `status` (default 302) with `Location: location`.
    case redirect
    /// Reads the request, then sends nothing until the client gives up.
    case silent
    /// Answers 200 without `Content-Length`: the file, then filler bytes until the client gives up.
    case endless
    /// Answers 200 declaring `Content-Length: length` (default: the file's size), whatever the
    /// file's size and any `Range`; sends `limit` bytes (default `length`), the file then
    /// filler, and closes.
    case lie
    /// Answers 200 with `headerBytes` bytes of extra header lines (as one line when `oneLine`),
    /// then the file.
    case hugeHeaders = "huge-headers"
  }

  /// A control request failed or the server did not start.
  public struct Failure: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
  }

  /// `http://127.0.0.1:PORT`, without a trailing slash.
  public let baseURL: String
  /// The port the server listens on.
  public let port: UInt16

  private let server: ServerProcess

  /// Starts a server for the files under `directory`.
  public init(serving directory: URL) throws {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("test_http_server.py")
    let (server, line) = try ServerProcess.launch(python: [script.path, directory.path])
    self.server = server
    guard let port = UInt16(line.trimmingCharacters(in: .whitespaces)) else {
      server.stop()
      throw Failure(description: "test_http_server.py did not start (printed \(line.debugDescription))")
    }
    self.port = port
    baseURL = "http://127.0.0.1:\(port)"
  }

  deinit { stop() }

  /// `baseURL` followed by `path` (which starts with `/`).
  public func url(_ path: String) -> String { baseURL + path }

  /// Every file request since the start or the last `reset()`, oldest first.
  public func requests() throws -> [LoggedRequest] {
    let (status, body) = try call("GET", "/__log")
    guard status == 200 else { throw Failure(description: "GET /__log answered \(status)") }
    return try JSONDecoder().decode([LoggedRequest].self, from: body)
  }

  /// Makes the server misbehave for `path`. `retryAfter` (with `.fail` and `.status`) is sent
  /// as `Retry-After`: as given, or for `date:N` an HTTP-date N seconds after the answer. With
  /// `rangeFrom`, only requests whose `Range` starts at that byte misbehave.
  public func behave(
    path: String, mode: Behaviour, count: Int? = nil, rate: Int? = nil, status: Int? = nil, location: String? = nil,
    retryAfter: String? = nil, length: Int? = nil, limit: Int? = nil, headerBytes: Int? = nil, oneLine: Bool = false,
    rangeFrom: Int64? = nil
  ) throws {
    var spec: [String: Any] = ["path": path, "mode": mode.rawValue, "one_line": oneLine]
    if let rangeFrom { spec["range_from"] = rangeFrom }
    if let location { spec["location"] = location }
    if let retryAfter { spec["retry_after"] = retryAfter }
    if let length { spec["length"] = length }
    if let limit { spec["limit"] = limit }
    if let headerBytes { spec["header_bytes"] = headerBytes }
    if let count { spec["count"] = count }
    if let rate { spec["rate"] = rate }
    if let status { spec["status"] = status }
    let body = try JSONSerialization.data(withJSONObject: spec)
    let (answer, text) = try call("POST", "/__behave", body: body)
    guard answer == 200 else { throw Failure(description: "POST /__behave answered \(answer): \(String(decoding: text, as: UTF8.self))") }
  }

  /// Clears the request log and every behaviour.
  public func reset() throws {
    let (status, _) = try call("POST", "/__reset")
    guard status == 200 else { throw Failure(description: "POST /__reset answered \(status)") }
  }

  /// Stops the server and waits for it to exit.
  public func stop() { server.stop() }

  /// One HTTP/1.1 request over a fresh loopback connection; the status and body of the answer.
  private func call(_ method: String, _ path: String, body: Data = Data()) throws -> (Int, Data) {
    try LoopbackHTTP.call(port: port, method, path, body: body)
  }
}
