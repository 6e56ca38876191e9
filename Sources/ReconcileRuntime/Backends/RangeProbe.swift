import CCurl
import Foundation

/// What a `HEAD` says about a file before it is fetched in ranges.
struct RangeProbe {
  /// The URL after redirects.
  var target: String
  /// Whether `target` is on the requested host (scheme, host and port).
  var sameHost: Bool
  /// The file's size.
  var total: Int64
  /// Its validator, for `If-Range`.
  var etag: String?

  /// Asks for the file's headers, following redirects with credentials to the first host only;
  /// nil when the server does not advertise byte ranges or the size is not `expected`.
  static func run(_ request: TransferRequest, expected: Int64, userAgent: String) -> RangeProbe? {
    guard let handle = CurlHandlePool.shared.take(for: request.url) else { return nil }
    final class Headers {
      var status = 0
      var values: [String: String] = [:]
    }
    let collected = Headers()
    let headers = HTTPTransfer.appendHeaders(of: request, to: nil)
    defer { curl_slist_free_all(headers) }
    let context = Unmanaged.passUnretained(collected).toOpaque()
    HTTPTransfer.setCommonOptions(handle, url: request.url, userAgent: userAgent, headers: headers, connectTimeout: request.connectTimeout)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(min(max(request.stallTimeout, 1), 86400) * 1000))
    _ = reconcile_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
      guard let data, let context else { return 0 }
      let collected = Unmanaged<Headers>.fromOpaque(context).takeUnretainedValue()
      let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      if line.hasPrefix("HTTP/") {
        let parts = line.split(separator: " ", maxSplits: 2)
        collected.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        collected.values = [:]
      } else if let colon = line.firstIndex(of: ":"), collected.values.count < 200 {
        collected.values[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
      return size * count
    }
    _ = reconcile_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
    let code = curl_easy_perform(handle)
    var effective: UnsafeMutablePointer<CChar>?
    _ = reconcile_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
    let target = effective.map { String(cString: $0) } ?? request.url
    CurlHandlePool.shared.give(handle, for: request.url, reusable: code == CURLE_OK)
    guard code == CURLE_OK, collected.status == 200, collected.values["accept-ranges"]?.lowercased() == "bytes",
      let length = collected.values["content-length"].flatMap({ Int64($0) }), length == expected
    else { return nil }
    return RangeProbe(target: target, sameHost: CurlHandlePool.origin(of: target) == CurlHandlePool.origin(of: request.url), total: length, etag: collected.values["etag"])
  }
}
