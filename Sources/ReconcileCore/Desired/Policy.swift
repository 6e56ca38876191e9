/// How every node keeps its store: headroom, eviction, grace, parallelism, retries, transfer
/// limits and tiers.
public struct Policy: Sendable, Hashable, Codable {
  /// Disk kept free on every node.
  public var minFree: Headroom
  /// Whether unwanted models are evicted.
  public var eviction: Eviction
  /// Seconds an unwanted model is kept before it is evicted.
  public var gcGrace: Int64
  /// Transfers and hashes at once.
  public var concurrency: Int
  /// How failed transfers are retried.
  public var retry: RetryPolicy
  /// Default quotas by tier name.
  public var tiers: [String: Quota]
  /// Seconds after its last heartbeat that a node of a fleet stops counting (`fleet.node_ttl`).
  public var nodeTTL: Int64 = 15 * 60
  /// Bytes per second all downloads of a node together may take (`bandwidth`); nil: no limit.
  /// Tenants' own limits apply within it.
  public var bandwidth: Int64?
  /// Seconds to wait for a source to accept a connection (`connect_timeout`).
  public var connectTimeout: Int64 = 30
  /// Seconds a transfer may go without a byte, or below the lowest rate, before it is
  /// abandoned as stalled (`stall_timeout`).
  public var stallTimeout: Int64 = 30
  /// Connections one big file (32 MiB or more) is fetched over at once, in byte ranges, from a
  /// server that serves them (`connections_per_file`, 1–64).
  public var connectionsPerFile = 8

  /// Creates a policy; the defaults are those of DESIGN.md.
  public init(
    minFree: Headroom = .share(percent: 10), eviction: Eviction = .lru, gcGrace: Int64 = 24 * 3600,
    concurrency: Int = 8, retry: RetryPolicy = RetryPolicy(), tiers: [String: Quota] = [:]
  ) {
    self.minFree = minFree
    self.eviction = eviction
    self.gcGrace = gcGrace
    self.concurrency = concurrency
    self.retry = retry
    self.tiers = tiers
  }
}

/// Whether and how unwanted models leave a node.
public enum Eviction: String, Sendable, Hashable, Codable, CaseIterable {
  /// Least recently used first, after the grace period or under disk pressure.
  case lru
  /// Never evict; unwanted models stay until removed by hand or `gc`.
  case none
}

/// How transfers are retried before the next source is tried.
public struct RetryPolicy: Sendable, Hashable, Codable {
  /// Tries per source, the first included.
  public var attempts: Int
  /// The first wait, in seconds; doubled each time.
  public var backoff: Int64
  /// The longest wait, in seconds.
  public var maxBackoff: Int64

  /// Creates a retry policy.
  public init(attempts: Int = 5, backoff: Int64 = 2, maxBackoff: Int64 = 300) {
    self.attempts = attempts
    self.backoff = backoff
    self.maxBackoff = maxBackoff
  }

  /// The pause in seconds after failed try `attempt` (1 for the first): `backoff × 2^(attempt-1)`
  /// capped at `maxBackoff`, times `jitter` (a random 0.5…1, given so that this stays pure).
  /// A server's `Retry-After` (in seconds) lengthens the pause to what it asked for, but never
  /// beyond `maxBackoff`: a server cannot park a run for an hour.
  public func pause(after attempt: Int, jitter: Double, retryAfter: Double? = nil) -> Double {
    let ceiling = Double(max(maxBackoff, 0))
    let exponential = Double(max(backoff, 0)) * Double(sign: .plus, exponent: max(attempt, 1) - 1, significand: 1)
    let backoffPause = min(exponential, ceiling) * min(max(jitter, 0), 1)
    guard let retryAfter, !retryAfter.isNaN else { return backoffPause }
    return min(max(backoffPause, retryAfter), ceiling)
  }
}

/// Disk kept free: a fixed number of bytes or a share of the node's disk.
public enum Headroom: Sendable, Hashable, Codable, CustomStringConvertible {
  /// A number of bytes.
  case bytes(Int64)
  /// A percentage of the disk, 0–100, with up to two decimals kept as hundredths.
  case share(percent: Double)

  /// The bytes kept free on a disk of `disk` bytes.
  public func bytes(ofDisk disk: Int64) -> Int64 {
    switch self {
    case .bytes(let bytes): min(bytes, disk)
    case .share(let percent): Int64((Double(disk) * percent / 100).rounded(.up))
    }
  }

  /// As written in a plan: `10%` or `50.0 GiB`.
  public var description: String {
    switch self {
    case .bytes(let bytes): ByteFormat.binary(bytes)
    case .share(let percent):
      percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
    }
  }
}
