import Foundation

/// A token bucket shared by the downloads of one tenant, or of the whole node: each writer
/// takes tokens for the bytes it is about to write and sleeps until the bucket has paid for them.
///
/// The bucket may go into debt: a writer takes what it needs at once and sleeps for the debt,
/// so concurrent writers queue behind one another in arrival order and together never exceed
/// `bytesPerSecond` for longer than one `burst`. It starts empty, so a transfer has no
/// unthrottled head start.
///
/// A bucket may have a parent (a tenant's bucket, the node's): a writer then takes its bytes
/// from both at the same instant and sleeps for the longer debt, so every writer of the parent
/// together stays within the parent's rate and each child within its own. Taking from one, then
/// sleeping, then from the other would let the second refill past its burst while the first
/// slept, and lose rate.
public final class BandwidthLimiter: @unchecked Sendable {
  /// The rate the bucket refills at, in bytes per second.
  public let bytesPerSecond: Int64
  /// The most tokens the bucket holds after an idle spell, in bytes.
  public let burst: Int64
  /// The bucket every byte taken from this one is also taken from.
  public let parent: BandwidthLimiter?
  private let lock = NSLock()
  private var tokens: Double = 0
  private var last: UInt64
  private let clock: @Sendable () -> UInt64
  private let sleep: @Sendable (Double) -> Void

  /// A bucket refilling at `bytesPerSecond` (at least 1) that holds up to `burst` bytes
  /// (default: a tenth of a second's worth, at least 64 KiB), within `parent` when given.
  /// `clock` (nanoseconds) and `sleep` (seconds) are for tests.
  public init(
    bytesPerSecond: Int64, burst: Int64? = nil, parent: BandwidthLimiter? = nil,
    clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds },
    sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }
  ) {
    self.bytesPerSecond = max(1, bytesPerSecond)
    self.burst = max(burst ?? max(bytesPerSecond / 10, 64 << 10), 1)
    self.parent = parent
    self.clock = clock
    self.sleep = sleep
    self.last = clock()
  }

  /// A sleep that ends early when `cancellation` is set, so a cancelled run does not sleep out
  /// its bandwidth pauses.
  static func sleep(cancellable cancellation: CancellationFlag?) -> @Sendable (Double) -> Void {
    { seconds in
      if let cancellation { cancellation.wait(seconds: seconds) } else { Thread.sleep(forTimeInterval: seconds) }
    }
  }

  /// Takes `bytes` tokens from this bucket and its parents, sleeping the calling thread as long
  /// as the slowest of them needs to pay for them; returns the seconds slept.
  @discardableResult
  public func consume(_ bytes: Int) -> Double {
    guard bytes > 0 else { return 0 }
    let wait = reserve(bytes)
    if wait > 0 { sleep(wait) }
    return wait
  }

  /// Takes `bytes` tokens from this bucket and its parents without sleeping; the seconds the
  /// caller must wait before writing them.
  func reserve(_ bytes: Int) -> Double {
    let own: Double = lock.withLock {
      let now = clock()
      let elapsed = Double(now &- last) / 1e9
      last = now
      tokens = min(Double(burst), tokens + elapsed * Double(bytesPerSecond)) - Double(bytes)
      return tokens < 0 ? -tokens / Double(bytesPerSecond) : 0
    }
    return max(own, parent?.reserve(bytes) ?? 0)
  }
}
