import CCurl
import Foundation

/// Idle libcurl easy handles, kept with their open connections: the next transfer to the same
/// host reuses a connection (keep-alive) instead of paying a new handshake, and a file of a few
/// hundred KiB costs one request, not a connection and a request. `curl_easy_reset` clears a
/// handle's options between uses but keeps its connection, DNS and TLS session caches.
final class CurlHandlePool: @unchecked Sendable {
  /// The process's pool.
  static let shared = CurlHandlePool(limit: 64)

  private let lock = NSLock()
  /// Idle handles and the origin each was last used for, oldest first.
  private var idle: [(handle: UnsafeMutableRawPointer, origin: String)] = []
  private let limit: Int

  init(limit: Int) { self.limit = limit }

  /// An idle handle last used for `url`'s origin (so its connection there is reused), else
  /// the most recently returned one, else a new one; nil when libcurl cannot make one.
  func take(for url: String) -> UnsafeMutableRawPointer? {
    let origin = Self.origin(of: url)
    let handle = lock.withLock { () -> UnsafeMutableRawPointer? in
      if let index = idle.lastIndex(where: { $0.origin == origin }) { return idle.remove(at: index).handle }
      return idle.popLast()?.handle
    }
    return handle ?? curl_easy_init()
  }

  /// Returns a handle after a transfer for `url`. A handle whose transfer failed is closed
  /// rather than kept: its connection may be in any state.
  func give(_ handle: UnsafeMutableRawPointer, for url: String, reusable: Bool) {
    guard reusable else {
      curl_easy_cleanup(handle)
      return
    }
    curl_easy_reset(handle)
    let origin = Self.origin(of: url)
    let kept = lock.withLock { () -> Bool in
      guard idle.count < limit else { return false }
      idle.append((handle, origin))
      return true
    }
    if !kept { curl_easy_cleanup(handle) }
  }

  /// `scheme://host:port` of `url`, lowercased, with the scheme's default port.
  static func origin(of url: String) -> String {
    guard let components = URLComponents(string: url) else { return url }
    let scheme = components.scheme?.lowercased() ?? ""
    let port = components.port ?? (scheme == "https" ? 443 : 80)
    return "\(scheme)://\(components.host?.lowercased() ?? ""):\(port)"
  }
}
