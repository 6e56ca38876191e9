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
  private var idle: [UnsafeMutableRawPointer] = []
  private let limit: Int

  init(limit: Int) { self.limit = limit }

  /// An idle handle, or a new one; nil when libcurl cannot make one.
  func take() -> UnsafeMutableRawPointer? {
    if let handle = lock.withLock({ idle.popLast() }) { return handle }
    return curl_easy_init()
  }

  /// Returns a handle after a transfer. A handle whose transfer failed is closed rather than
  /// kept: its connection may be in any state.
  func give(_ handle: UnsafeMutableRawPointer, reusable: Bool) {
    guard reusable else {
      curl_easy_cleanup(handle)
      return
    }
    curl_easy_reset(handle)
    let kept = lock.withLock { () -> Bool in
      guard idle.count < limit else { return false }
      idle.append(handle)
      return true
    }
    if !kept { curl_easy_cleanup(handle) }
  }
}
