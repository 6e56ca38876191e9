import Foundation

/// A flag one thread sets to ask a run to stop: transfers poll it between chunks, hashing
/// between buffers, and every pause (a retry's backoff, a bandwidth limit, a free download
/// slot) waits on it, so a cancelled run stops within a second.
public final class CancellationFlag: @unchecked Sendable {
  private let condition = NSCondition()
  private var cancelled = false
  private var why: String?

  /// An unset flag.
  public init() {}

  /// Whether `cancel()` was called.
  public var isCancelled: Bool { condition.withLock { cancelled } }

  /// What `cancel(reason:)` gave, for example `SIGTERM`.
  public var reason: String? { condition.withLock { why } }

  /// Asks everything holding this flag to stop, and wakes every pause.
  public func cancel(reason: String? = nil) {
    condition.withLock {
      if !cancelled { why = reason }
      cancelled = true
      condition.broadcast()
    }
  }

  /// Waits `seconds`, or less when the flag is set meanwhile; returns whether it is set.
  @discardableResult
  public func wait(seconds: Double) -> Bool {
    let deadline = Date(timeIntervalSinceNow: max(0, seconds))
    return condition.withLock {
      while !cancelled, condition.wait(until: deadline) {}
      return cancelled
    }
  }
}
