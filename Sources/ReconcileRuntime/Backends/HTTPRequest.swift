import CCurl
import Foundation

/// A small request whose response fits in memory: API calls (Hub revisions and trees, S3
/// listings) and metadata checks before a transfer.
public struct HTTPRequest: Sendable {
  /// `GET` or `HEAD`.
  public var method: String = "GET"
  /// The URL.
  public var url: String
  /// Request headers; values never appear in messages.
  public var headers: [String: String] = [:]
  /// Whether to follow redirects (up to 10); when false a 3xx is the response.
  public var followRedirects = true
  /// Signs the request with SigV4 when set.
  public var signing: AWSSigV4?
  /// Seconds for the whole exchange.
  public var timeout: Double = 60
  /// A response body longer than this is an error.
  public var maximumBodySize = 64 << 20

  /// Creates a request.
  public init(url: String, method: String = "GET", headers: [String: String] = [:]) {
    self.url = url
    self.method = method
    self.headers = headers
  }

  /// What came back.
  public struct Response: Sendable {
    /// The final status code.
    public var status: Int
    /// The final response's headers, names lowercased.
    public var headers: [String: String]
    /// The body.
    public var body: Data
    /// The URL after redirects.
    public var effectiveURL: String

    /// A header's value, by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
  }

  /// Runs the request. Network failures throw `TransferError` (kinds `.network`, `.timedOut`);
  /// any HTTP status is returned, not thrown.
  public func perform() throws(TransferError) -> Response {
    // A handle from the pool keeps its connection: a Hub resolve, tree listing and the
    // downloads after it reuse one connection to the host instead of a handshake each.
    guard HTTPTransfer.curlReady, let handle = CurlHandlePool.shared.take(for: url) else {
      throw TransferError(.unsupported, url: url, message: "libcurl failed to initialise")
    }
    var succeeded = false
    defer { CurlHandlePool.shared.give(handle, for: url, reusable: succeeded) }
    let context = ResponseContext(limit: maximumBodySize)
    let unmanaged = Unmanaged.passRetained(context)
    defer { unmanaged.release() }
    var list: UnsafeMutablePointer<curl_slist>?
    defer { curl_slist_free_all(list) }
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) where !value.contains("\r") && !value.contains("\n") {
      list = curl_slist_append(list, "\(name): \(value)")
    }
    if let token = signing?.sessionToken { list = curl_slist_append(list, "x-amz-security-token: \(token)") }
    _ = reconcile_curl_setopt_string(handle, CURLOPT_URL, url)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, followRedirects ? 1 : 0)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 10)
    // The headers (a token) go to the first host only, as with `HTTPTransfer`.
    _ = reconcile_curl_setopt_long(handle, CURLOPT_UNRESTRICTED_AUTH, 0)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
    _ = reconcile_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(timeout, 30) * 1000))
    _ = reconcile_curl_setopt_string(handle, CURLOPT_USERAGENT, "reconcile")
    if method == "HEAD" { _ = reconcile_curl_setopt_long(handle, CURLOPT_NOBODY, 1) }
    if let list { _ = reconcile_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list) }
    if let signing {
      _ = reconcile_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, signing.provider)
      _ = reconcile_curl_setopt_string(handle, CURLOPT_USERPWD, "\(signing.accessKeyID):\(signing.secretAccessKey)")
    }
    let pointer = unmanaged.toOpaque()
    _ = reconcile_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, pointer)
    _ = reconcile_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, pointer)
    _ = reconcile_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
      guard let user, let data else { return 0 }
      let context = Unmanaged<ResponseContext>.fromOpaque(user).takeUnretainedValue()
      let length = size * count
      guard context.body.count + length <= context.limit else { return 0 }
      context.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length)
      return length
    }
    _ = reconcile_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
      guard let user, let data else { return 0 }
      let context = Unmanaged<ResponseContext>.fromOpaque(user).takeUnretainedValue()
      let length = size * count
      let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      if line.hasPrefix("HTTP/") {
        context.headers = [:]  // a new response (after a redirect or 100 Continue)
      } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        context.headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
      return length
    }
    let code = curl_easy_perform(handle)
    succeeded = code == CURLE_OK
    guard code == CURLE_OK else {
      let reason = String(cString: curl_easy_strerror(code))
      let kind: TransferError.Kind = code == CURLE_OPERATION_TIMEDOUT ? .timedOut : .network
      if code == CURLE_WRITE_ERROR, context.body.count >= maximumBodySize {
        throw TransferError(.tooLarge, url: TransferError.redacted(url), message: "response larger than \(maximumBodySize) bytes")
      }
      throw TransferError(kind, url: TransferError.redacted(url), message: reason.lowercased())
    }
    var status = 0
    _ = reconcile_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
    var effective: UnsafeMutablePointer<CChar>?
    _ = reconcile_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
    return Response(status: status, headers: context.headers, body: context.body, effectiveURL: effective.map { String(cString: $0) } ?? url)
  }
}

/// Where a response is collected while libcurl runs.
private final class ResponseContext {
  var body = Data()
  var headers: [String: String] = [:]
  let limit: Int
  init(limit: Int) { self.limit = limit }
}
