import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One apply per root: an exclusive `flock` on `<root>/.reconcile/lock`, whose content names
/// the holder so a waiting apply can say who it waited for.
public final class RootLock {
  /// Why the lock was not taken.
  public struct Busy: Error, Sendable, CustomStringConvertible {
    /// The lock file.
    public var path: String
    /// What the holder wrote: pid, host and start time, when readable.
    public var holder: String
    /// How long this process waited.
    public var waited: Double

    public var description: String {
      "another apply holds \(path) (\(holder)); waited \(Int(waited)) s — try again later, or raise --lock-timeout"
    }
  }

  private let fd: Int32
  /// The lock file's path.
  public let path: String

  /// Takes the lock, waiting up to `timeout` seconds; throws `Busy` naming the holder.
  public init(path: String, timeout: Double, command: String) throws {
    self.path = path
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw BlobStore.StoreError(what: "open \(path)", code: errno) }
    let start = Date()
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR else {
        let code = errno
        close(fd)
        throw BlobStore.StoreError(what: "flock \(path)", code: code)
      }
      if Date().timeIntervalSince(start) >= timeout {
        let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        close(fd)
        throw Busy(path: path, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "holder unknown", waited: Date().timeIntervalSince(start))
      }
      usleep(100_000)
    }
    self.fd = fd
    let formatter = ISO8601DateFormatter()
    let text = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), \(command), since \(formatter.string(from: Date()))\n"
    ftruncate(fd, 0)
    _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
  }

  /// Releases the lock (also released when the process exits, however it exits).
  public func release() {
    ftruncate(fd, 0)
    flock(fd, LOCK_UN)
  }

  deinit {
    close(fd)
  }
}
