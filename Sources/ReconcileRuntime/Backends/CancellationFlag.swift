import Foundation

/// A flag one thread sets to ask a running transfer to stop; cheap to poll.
public final class CancellationFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var cancelled = false

  /// An unset flag.
  public init() {}

  /// Whether `cancel()` was called.
  public var isCancelled: Bool { lock.withLock { cancelled } }

  /// Asks every transfer holding this flag to stop.
  public func cancel() { lock.withLock { cancelled = true } }
}
