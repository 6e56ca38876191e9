import CCurl

extension HTTPTransfer {
  /// The options every request to a source shares, whatever it asks for (a whole file, a
  /// range, a `HEAD`): http and https only, redirects followed (up to 10) with credentials to
  /// the first host only (an `Authorization` header such as the Hub token, a URL's user and
  /// password: a redirect to another host, port or scheme gets none — libcurl's default since
  /// 7.83, set here so that it is this program's rule), TLS verified, the connect timeout
  /// clamped to a day so it cannot overflow curl's milliseconds.
  static func setCommonOptions(
    _ handle: UnsafeMutableRawPointer, url: String, userAgent: String, headers: UnsafeMutablePointer<curl_slist>?,
    connectTimeout: Double, followRedirects: Bool = true
  ) {
    _ = reconcile_curl_setopt_string(handle, CURLOPT_URL, url)
    _ = reconcile_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
    _ = reconcile_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
    _ = reconcile_curl_setopt_string(handle, CURLOPT_USERAGENT, userAgent)
    _ = reconcile_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, followRedirects ? 1 : 0)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 10)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_UNRESTRICTED_AUTH, 0)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(max(connectTimeout, 0.001), 86400) * 1000))
  }

  /// The request's own headers as a curl list, appended to `list`: `Range` and `If-Range` are
  /// the transfer's, and a line break would smuggle in another header, so those are left out.
  static func appendHeaders(of request: TransferRequest, to list: UnsafeMutablePointer<curl_slist>?) -> UnsafeMutablePointer<curl_slist>? {
    var list = list
    for (name, value) in request.headers.sorted(by: { $0.key < $1.key })
    where !["range", "if-range"].contains(name.lowercased()) && !(name + value).contains(where: \.isNewline) {
      list = curl_slist_append(list, "\(name): \(value)")
    }
    return list
  }
}
