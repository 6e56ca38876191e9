import Foundation

/// sd_notify(3) without libsystemd: one datagram to `$NOTIFY_SOCKET` per state change.
struct SystemdNotifier: Sendable {
  /// The socket's path; an abstract socket's begins with `@`.
  let path: String

  /// The notifier systemd asked for, when it did (`Type=notify` sets `$NOTIFY_SOCKET`).
  static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> SystemdNotifier? {
    guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
    return SystemdNotifier(path: path)
  }

  /// Sends `state` (`READY=1`, `STOPPING=1`, …); failures are ignored, as sd_notify's are.
  @discardableResult
  func notify(_ state: String) -> Bool {
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var bytes = Array(path.utf8)
    if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else { return false }
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
      for (index, byte) in bytes.enumerated() { buffer[index] = byte }
    }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
    let message = Array(state.utf8)
    let sent = withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
        message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, socketAddress, length) }
      }
    }
    return sent == message.count
  }
}
