import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// One writer per root: an exclusive `flock` that apply and gc hold while they change the
/// store, on a file whose content names the holder so a waiting run can say who it waited for.
///
/// Not to be confused with `reconcile lock` and `reconcile.lock.yaml`, the pinned file lists of
/// `include:` variants. The file is still `<root>/.reconcile/lock` (`NodeRoot.mutex`), the
/// name it had when this type was `RootLock`: a binary from before the rename, still running
/// during an upgrade, flocks that path, and only the same path keeps the two apart.
public final class RootMutex {
  /// Why the mutex was not taken: another run holds it.
  public struct Busy: Error, Sendable, CustomStringConvertible {
    /// The mutex file.
    public var path: String
    /// What the holder wrote: pid, host and start time, when readable.
    public var holder: String
    /// How long this process waited.
    public var waited: Double

    /// Who holds the mutex, how long this run waited, and what to do.
    public var description: String {
      "another apply holds \(path) (\(holder)); waited \(Int(waited)) s — try again later, or raise --lock-timeout"
    }
  }

  private let fd: Int32
  /// The mutex file's path.
  public let path: String

  /// Why the wait for the mutex ended early: the run was cancelled.
  public struct Cancelled: Error, Sendable, CustomStringConvertible {
    /// The mutex file.
    public var path: String
    /// Why the run was cancelled, for example `SIGTERM`.
    public var reason: String

    /// What happened; nothing was changed.
    public var description: String { "stopped (\(reason)) while waiting for \(path); nothing was changed" }
  }

  /// Takes the mutex of `root` (`NodeRoot.mutex`), waiting up to `timeout` seconds; throws
  /// `Busy` naming the holder, or `Cancelled` when `cancellation` is set while it waits.
  public convenience init(root: NodeRoot, timeout: Double, command: String, cancellation: CancellationFlag? = nil) throws {
    try self.init(path: root.mutex, timeout: timeout, command: command, cancellation: cancellation)
  }

  /// Takes the mutex file at `path`, waiting up to `timeout` seconds; throws `Busy` naming the
  /// holder, or `Cancelled` when `cancellation` is set while it waits.
  public init(path: String, timeout: Double, command: String, cancellation: CancellationFlag? = nil) throws {
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
      let pause = 0.1
      if let cancellation {
        if cancellation.wait(seconds: pause) {
          close(fd)
          throw Cancelled(path: path, reason: cancellation.reason ?? "cancelled")
        }
      } else {
        usleep(useconds_t(pause * 1e6))
      }
    }
    self.fd = fd
    let formatter = ISO8601DateFormatter()
    let text = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), \(command), since \(formatter.string(from: Date()))\n"
    ftruncate(fd, 0)
    _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
  }

  /// Releases the mutex (also released when the process exits, however it exits).
  public func release() {
    ftruncate(fd, 0)
    flock(fd, LOCK_UN)
  }

  deinit {
    close(fd)
  }
}
