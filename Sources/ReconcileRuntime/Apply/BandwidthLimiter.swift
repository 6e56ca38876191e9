import Foundation

/// A token bucket shared by the downloads of one tenant: each writer takes tokens for the bytes
/// it is about to write and sleeps until the bucket has paid for them.
///
/// The bucket may go into debt: a writer takes what it needs at once and sleeps for the debt,
/// so concurrent writers queue behind one another in arrival order and together never exceed
/// `bytesPerSecond` for longer than one `burst`. It starts empty, so a transfer has no
/// unthrottled head start.
public final class BandwidthLimiter: @unchecked Sendable {
  /// The rate the bucket refills at, in bytes per second.
  public let bytesPerSecond: Int64
  /// The most tokens the bucket holds after an idle spell, in bytes.
  public let burst: Int64
  private let lock = NSLock()
  private var tokens: Double = 0
  private var last: UInt64
  private let clock: @Sendable () -> UInt64
  private let sleep: @Sendable (Double) -> Void

  /// A bucket refilling at `bytesPerSecond` (at least 1) that holds up to `burst` bytes
  /// (default: a tenth of a second's worth, at least 64 KiB). `clock` (nanoseconds) and
  /// `sleep` (seconds) are for tests.
  public init(
    bytesPerSecond: Int64, burst: Int64? = nil,
    clock: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds },
    sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }
  ) {
    self.bytesPerSecond = max(1, bytesPerSecond)
    self.burst = max(burst ?? max(bytesPerSecond / 10, 64 << 10), 1)
    self.clock = clock
    self.sleep = sleep
    self.last = clock()
  }

  /// Takes `bytes` tokens, sleeping the calling thread as long as the bucket needs to pay for
  /// them; returns the seconds slept.
  @discardableResult
  public func consume(_ bytes: Int) -> Double {
    guard bytes > 0 else { return 0 }
    let wait: Double = lock.withLock {
      let now = clock()
      let elapsed = Double(now &- last) / 1e9
      last = now
      tokens = min(Double(burst), tokens + elapsed * Double(bytesPerSecond)) - Double(bytes)
      return tokens < 0 ? -tokens / Double(bytesPerSecond) : 0
    }
    if wait > 0 { sleep(wait) }
    return wait
  }
}
