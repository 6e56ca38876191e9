import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Control requests to the test servers: one HTTP/1.1 exchange over a fresh loopback
/// connection, without a client library, so a test server can be driven from any thread.
public enum LoopbackHTTP {
  /// Why a control request failed.
  public struct Failure: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
  }

  /// Sends `method path` with `body` to 127.0.0.1:`port`; returns the status and body.
  public static func call(port: UInt16, _ method: String, _ path: String, body: Data = Data(), headers: [String: String] = [:]) throws -> (Int, Data) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw Failure(description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
    let extra = headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\r\n" }.joined()
    var request = Data("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\(extra)Content-Length: \(body.count)\r\n\r\n".utf8)
    request.append(body)
    try request.withUnsafeBytes { bytes in
      var offset = 0
      while offset < bytes.count {
        guard let base = bytes.baseAddress else { return }
        let sent = send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
        guard sent > 0 else { throw Failure(description: "send to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
        offset += sent
      }
    }
    var response = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = recv(fd, &buffer, buffer.count, 0)
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { break }
      response.append(contentsOf: buffer[0..<count])
    }
    guard let split = response.range(of: Data("\r\n\r\n".utf8)),
      let head = String(data: response[..<split.lowerBound], encoding: .utf8),
      let status = head.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { throw Failure(description: "\(method) \(path): malformed answer from 127.0.0.1:\(port)") }
    return (status, Data(response[split.upperBound...]))
  }
}
