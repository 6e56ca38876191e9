import Foundation
import ReconcileCore

/// What this node's reconcile runs did, summed over every run since the file was started: the
/// counters the metrics report, the last run and the last success. Kept in
/// `<root>/.reconcile/run-stats.json`, so a one-shot `apply` from a timer and a long-running
/// agent report the same monotonic counters, and `reconcile check` reads how the last run ended.
public struct RunStats: Sendable, Hashable, Codable {
  /// One reconcile run as the metrics and `check` see it.
  public struct Run: Sendable, Hashable, Codable {
    /// The run's id, as JSON logs carry it.
    public var id: String
    /// When it began.
    public var startedAt: Date
    /// When it ended.
    public var finishedAt: Date
    /// `ok`, `failed` or `interrupted`.
    public var outcome: RunOutcome
    /// Why it failed or stopped, in one line (`SIGTERM`, the first error).
    public var reason: String?

    /// Creates a run record.
    public init(id: String, startedAt: Date, finishedAt: Date, outcome: RunOutcome, reason: String? = nil) {
      self.id = id
      self.startedAt = startedAt
      self.finishedAt = finishedAt
      self.outcome = outcome
      self.reason = reason
    }

    /// Seconds from start to end.
    public var seconds: Double { max(0, finishedAt.timeIntervalSince(startedAt)) }
  }

  /// A source failure's labels: the source's scheme and the kind of failure.
  public struct FailureKey: Sendable, Hashable, Codable, Comparable {
    /// `https`, `s3`, `hf`, `file`.
    public var scheme: String
    /// `http_4xx`, `http_5xx`, `network`, `timeout`, `stalled`, `content_mismatch`, …
    public var cause: String

    /// Creates a key.
    public init(scheme: String, cause: String) {
      self.scheme = scheme
      self.cause = cause
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.scheme, lhs.cause) < (rhs.scheme, rhs.cause) }
  }

  /// The latest run, however it ended.
  public var lastRun: Run?
  /// When the latest successful run ended.
  public var lastSuccess: Date?
  /// When the node last reported its heartbeat to the fleet registry.
  public var lastHeartbeat: Date?
  /// Runs by outcome.
  public var runs: [RunOutcome: Int64] = [:]
  /// Bytes downloaded, by source scheme.
  public var downloadedBytes: [String: Int64] = [:]
  /// Files downloaded, by source scheme.
  public var downloadedFiles: [String: Int64] = [:]
  /// Files already on disk that were hashed and matched.
  public var verifiedFiles: Int64 = 0
  /// Bytes hashed to verify files already on disk.
  public var verifiedBytes: Int64 = 0
  /// Files on disk whose content did not match their digest (moved to quarantine).
  public var mismatches: Int64 = 0
  /// Failed transfer attempts, by scheme and cause.
  public var sourceFailures: [FailureKey: Int64] = [:]
  /// Transfers tried again after a failure, by scheme.
  public var retries: [String: Int64] = [:]
  /// Variants evicted, and the bytes that freed.
  public var evictions: Int64 = 0
  /// Bytes freed by evictions.
  public var freedBytes: Int64 = 0

  /// Empty counters.
  public init() {}

  /// Adds `other`'s counts to these (the last run and times are left alone).
  mutating func add(_ other: RunStats) {
    func merge<Key>(_ lhs: inout [Key: Int64], _ rhs: [Key: Int64]) {
      for (key, value) in rhs { lhs[key] = Self.adding(lhs[key] ?? 0, value) }
    }
    merge(&runs, other.runs)
    merge(&downloadedBytes, other.downloadedBytes)
    merge(&downloadedFiles, other.downloadedFiles)
    merge(&sourceFailures, other.sourceFailures)
    merge(&retries, other.retries)
    verifiedFiles = Self.adding(verifiedFiles, other.verifiedFiles)
    verifiedBytes = Self.adding(verifiedBytes, other.verifiedBytes)
    mismatches = Self.adding(mismatches, other.mismatches)
    evictions = Self.adding(evictions, other.evictions)
    freedBytes = Self.adding(freedBytes, other.freedBytes)
  }

  /// A counter never traps: it saturates (a hand-edited file may hold anything).
  static func adding(_ lhs: Int64, _ rhs: Int64) -> Int64 {
    let (sum, overflow) = lhs.addingReportingOverflow(max(0, rhs))
    return overflow ? .max : max(0, sum)
  }
}

extension RunStats {
  private enum CodingKeys: String, CodingKey {
    case lastRun = "last_run", lastSuccess = "last_success", lastHeartbeat = "last_heartbeat", runs
    case downloadedBytes = "downloaded_bytes", downloadedFiles = "downloaded_files", verifiedFiles = "verified_files"
    case verifiedBytes = "verified_bytes", mismatches, sourceFailures = "source_failures", retries, evictions
    case freedBytes = "freed_bytes"
  }

  private struct FailureCount: Codable {
    var scheme: String
    var cause: String
    var count: Int64
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    lastRun = try container.decodeIfPresent(Run.self, forKey: .lastRun)
    lastSuccess = try container.decodeIfPresent(Date.self, forKey: .lastSuccess)
    lastHeartbeat = try container.decodeIfPresent(Date.self, forKey: .lastHeartbeat)
    let runCounts = try container.decodeIfPresent([String: Int64].self, forKey: .runs) ?? [:]
    runs = Dictionary(uniqueKeysWithValues: runCounts.compactMap { key, value in RunOutcome(rawValue: key).map { ($0, value) } })
    downloadedBytes = try container.decodeIfPresent([String: Int64].self, forKey: .downloadedBytes) ?? [:]
    downloadedFiles = try container.decodeIfPresent([String: Int64].self, forKey: .downloadedFiles) ?? [:]
    verifiedFiles = try container.decodeIfPresent(Int64.self, forKey: .verifiedFiles) ?? 0
    verifiedBytes = try container.decodeIfPresent(Int64.self, forKey: .verifiedBytes) ?? 0
    mismatches = try container.decodeIfPresent(Int64.self, forKey: .mismatches) ?? 0
    let failures = try container.decodeIfPresent([FailureCount].self, forKey: .sourceFailures) ?? []
    sourceFailures = Dictionary(failures.map { (FailureKey(scheme: $0.scheme, cause: $0.cause), $0.count) }, uniquingKeysWith: +)
    retries = try container.decodeIfPresent([String: Int64].self, forKey: .retries) ?? [:]
    evictions = try container.decodeIfPresent(Int64.self, forKey: .evictions) ?? 0
    freedBytes = try container.decodeIfPresent(Int64.self, forKey: .freedBytes) ?? 0
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encodeIfPresent(lastRun, forKey: .lastRun)
    try container.encodeIfPresent(lastSuccess, forKey: .lastSuccess)
    try container.encodeIfPresent(lastHeartbeat, forKey: .lastHeartbeat)
    try container.encode(Dictionary(uniqueKeysWithValues: runs.map { ($0.key.rawValue, $0.value) }), forKey: .runs)
    try container.encode(downloadedBytes, forKey: .downloadedBytes)
    try container.encode(downloadedFiles, forKey: .downloadedFiles)
    try container.encode(verifiedFiles, forKey: .verifiedFiles)
    try container.encode(verifiedBytes, forKey: .verifiedBytes)
    try container.encode(mismatches, forKey: .mismatches)
    let failures = sourceFailures.sorted { $0.key < $1.key }.map { FailureCount(scheme: $0.key.scheme, cause: $0.key.cause, count: $0.value) }
    try container.encode(failures, forKey: .sourceFailures)
    try container.encode(retries, forKey: .retries)
    try container.encode(evictions, forKey: .evictions)
    try container.encode(freedBytes, forKey: .freedBytes)
  }
}

/// Reads and writes `<root>/.reconcile/run-stats.json`.
public struct RunStatsFile: Sendable {
  /// The file.
  public var path: String

  /// The stats file of `root`.
  public init(root: NodeRoot) { path = root.state + "/run-stats.json" }

  /// The stats recorded so far; empty when there are none, or when the file is not readable
  /// as stats (it is then started again: counters restart, as after a reboot).
  public func load() -> RunStats {
    guard let data = FileManager.default.contents(atPath: path) else { return RunStats() }
    return (try? Self.decoder.decode(RunStats.self, from: data)) ?? RunStats()
  }

  /// Adds one run's counts, records it as the last run (and success), and writes the file
  /// atomically. Errors are returned, not thrown: stats never fail a run.
  ///
  /// Runs record after the root's lock is released (a run refused for the lock records too),
  /// so the read, add and write happen under a lock of the stats file's own
  /// (`run-stats.json.lock`, `flock`): two runs ending at once both count.
  @discardableResult
  public func record(_ run: RunStats.Run, counts: RunStats, heartbeat: Date?) -> (any Error)? {
    let lock = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard lock >= 0 else { return POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(lock) }
    while flock(lock, LOCK_EX) != 0 {
      guard errno == EINTR else { break }
    }
    var stats = load()
    stats.add(counts)
    stats.runs[run.outcome] = RunStats.adding(stats.runs[run.outcome] ?? 0, 1)
    stats.lastRun = run
    if run.outcome == .ok { stats.lastSuccess = run.finishedAt }
    if let heartbeat { stats.lastHeartbeat = heartbeat }
    do {
      let data = try Self.encoder.encode(stats)
      try data.write(to: URL(fileURLWithPath: path), options: .atomic)
      return nil
    } catch {
      return error
    }
  }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }()

  static let decoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }()
}

/// Counts one run's events into `RunStats`. Events arrive from worker threads.
final class RunStatsRecorder: @unchecked Sendable {
  private let counts = Guarded(RunStats())

  /// The counts so far.
  var current: RunStats { counts.current }

  func handle(_ event: ApplyEvent) {
    switch event {
    case .actionFinished(let action, .succeeded(let source, let bytes)):
      counts.update { stats in
        switch action.action {
        case .download:
          let scheme = Self.scheme(of: source)
          stats.downloadedBytes[scheme] = RunStats.adding(stats.downloadedBytes[scheme] ?? 0, bytes)
          stats.downloadedFiles[scheme] = RunStats.adding(stats.downloadedFiles[scheme] ?? 0, 1)
        case .verify:
          stats.verifiedFiles = RunStats.adding(stats.verifiedFiles, 1)
          stats.verifiedBytes = RunStats.adding(stats.verifiedBytes, bytes)
        case .evict:
          stats.evictions = RunStats.adding(stats.evictions, 1)
          stats.freedBytes = RunStats.adding(stats.freedBytes, bytes)
        case .link, .publish, .unlink:
          break
        }
      }
    case .retrying(_, let source, _, _, _):
      let scheme = Self.scheme(of: source)
      counts.update { $0.retries[scheme] = RunStats.adding($0.retries[scheme] ?? 0, 1) }
    case .sourceFailed(_, let source, let cause):
      let key = RunStats.FailureKey(scheme: Self.scheme(of: source), cause: cause)
      counts.update { $0.sourceFailures[key] = RunStats.adding($0.sourceFailures[key] ?? 0, 1) }
    case .finished(let summary):
      counts.update { $0.mismatches = RunStats.adding($0.mismatches, Int64(summary.quarantined.count)) }
    case .started, .actionStarted, .progress, .actionFinished, .warning:
      break
    }
  }

  /// `https` of `https://mirror/x`; `file` for a path without a scheme.
  static func scheme(of source: String?) -> String {
    guard let source, let colon = source.firstIndex(of: ":") else { return "file" }
    let scheme = source[..<colon].lowercased()
    return ["https", "http", "s3", "hf", "file"].contains(scheme) ? scheme : "other"
  }
}
