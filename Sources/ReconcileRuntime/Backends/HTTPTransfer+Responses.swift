import Foundation

/// Reading parts of a response: `Content-Range` and status phrases.
extension HTTPTransfer.Exchange {
  /// `bytes FIRST-LAST/TOTAL` (TOTAL may be `*`) or `bytes */TOTAL`.
  static func parseContentRange(_ value: String) -> (first: Int64, total: Int64?)? {
    let text = value.lowercased()
    guard text.hasPrefix("bytes") else { return nil }
    let spec = text.dropFirst(5).trimmingCharacters(in: .whitespaces)
    let halves = spec.split(separator: "/", maxSplits: 1).map(String.init)
    guard halves.count == 2 else { return nil }
    let total = Int64(halves[1])
    if halves[0] == "*" { return (-1, total) }
    guard let first = halves[0].split(separator: "-").first.flatMap({ Int64($0) }) else { return nil }
    return (first, total)
  }

  /// The standard phrase for `status` (HTTP/2 sends none), else the server's.
  static func reasonPhrase(_ status: Int, fallback: String) -> String {
    switch status {
    case 400: "Bad Request"
    case 401: "Unauthorized"
    case 403: "Forbidden"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 408: "Request Timeout"
    case 410: "Gone"
    case 416: "Range Not Satisfiable"
    case 429: "Too Many Requests"
    case 500: "Internal Server Error"
    case 502: "Bad Gateway"
    case 503: "Service Unavailable"
    case 504: "Gateway Timeout"
    default: fallback
    }
  }
}
