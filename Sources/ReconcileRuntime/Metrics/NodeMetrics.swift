import Foundation
import ReconcileCore

/// What the metrics, `/readyz`, `/v1/status` and `reconcile check` report about one node, read
/// at one moment: the run stats, the desired variants by state, the disk, the tenants and, in a
/// fleet, the heartbeat.
public struct NodeMetrics: Sendable {
  /// A desired variant that is not verified on the node.
  public struct Pending: Sendable, Hashable {
    /// The variant.
    public var variant: VariantID
    /// `missing`, `incomplete`, `unverified` or `waiting`.
    public var state: InventoryState
    /// For `waiting`: what it waits for.
    public var waitingFor: [VariantID] = []
  }

  /// The filesystem holding the root, and what reconcile keeps on it.
  public struct Disk: Sendable, Hashable {
    /// Filesystem size.
    public var capacity: Int64
    /// Bytes still free for an unprivileged writer.
    public var free: Int64
    /// Bytes of the store's blobs.
    public var used: Int64
    /// Bytes of variants no longer desired here, kept until `gc_grace` passes or the disk needs them.
    public var unwanted: Int64
    /// Free space `policy.min_free` asks for.
    public var minFree: Int64
  }

  /// One tenant this node serves.
  public struct Tenant: Sendable, Hashable {
    /// Its name.
    public var name: String
    /// Bytes of its variants (each counted once per tenant).
    public var used: Int64
    /// Its disk quota, when it has one.
    public var quota: Int64?
    /// Variants it references.
    public var models: Int
    /// Its model quota, when it has one.
    public var modelQuota: Int64?
  }

  /// The node's name.
  public var node: String
  /// When this was read.
  public var at: Date
  /// The run counters, the last run and the last success.
  public var stats: RunStats
  /// Variants by inventory state (`unwanted` counts variants on disk not desired here).
  public var variants: [InventoryState: Int]
  /// Desired variants not yet verified here, in variant order.
  public var pending: [Pending]
  /// The disk, when the root's filesystem could be read.
  public var disk: Disk?
  /// Tenants this node serves.
  public var tenants: [Tenant]
  /// Whether the node reports to a fleet registry.
  public var inFleet: Bool
  /// Seconds a node may be silent before the fleet stops counting it.
  public var nodeTTL: Int64

  /// Seconds since the last heartbeat, in a fleet; nil outside one or before the first.
  public var heartbeatAge: Double? {
    guard inFleet, let last = stats.lastHeartbeat else { return nil }
    return max(0, at.timeIntervalSince(last))
  }
}

/// Why a node is not healthy, one reason per line of `reconcile check`.
public enum HealthProblem: Sendable, Hashable, CustomStringConvertible {
  /// A desired variant is missing, incomplete or unverified.
  case variant(VariantID, InventoryState, waitingFor: [VariantID])
  /// No run is recorded yet.
  case neverRan
  /// The last run failed or was interrupted.
  case lastRun(RunStats.Run)
  /// The last successful run ended longer ago than allowed.
  case stale(lastSuccess: Date?, maxAge: Double, now: Date)
  /// Free space is below `policy.min_free`.
  case diskBelowMinFree(free: Int64, minFree: Int64)
  /// The fleet heartbeat is older than allowed, or never sent.
  case heartbeatStale(age: Double?, limit: Double)

  public var description: String {
    switch self {
    case .variant(let id, .waiting, let waitingFor):
      "variant \(id) is waiting for \(waitingFor.map(\.description).joined(separator: ", ")), which \(waitingFor.count == 1 ? "is" : "are") not verified on this node; it is published once \(waitingFor.count == 1 ? "it is" : "they are")"
    case .variant(let id, let state, _):
      "variant \(id) is \(state) on this node; run 'reconcile apply'"
    case .neverRan:
      "no reconcile run is recorded on this node yet"
    case .lastRun(let run):
      "the last run (\(run.id), \(ISO8601DateFormatter().string(from: run.finishedAt))) \(run.outcome == .interrupted ? "was interrupted" : "failed")\(run.reason.map { ": \($0)" } ?? "")"
    case .stale(let lastSuccess, let maxAge, let now):
      if let lastSuccess {
        "the last successful run ended \(Durations.compact(Int64(now.timeIntervalSince(lastSuccess)))) ago, more than the --max-age of \(Durations.compact(Int64(maxAge)))"
      } else {
        "no run has succeeded on this node yet"
      }
    case .diskBelowMinFree(let free, let minFree):
      "the disk has \(ByteFormat.binary(free)) free, below policy.min_free (\(ByteFormat.binary(minFree)))"
    case .heartbeatStale(let age, let limit):
      if let age {
        "the fleet heartbeat is \(Durations.compact(Int64(age))) old, more than \(Durations.compact(Int64(limit)))"
      } else {
        "this node has not reported its heartbeat to the fleet registry"
      }
    }
  }
}

extension NodeMetrics {
  /// What keeps the node from being healthy: every desired variant verified, the last run
  /// succeeded, a success within `maxAge` seconds (when given), the disk above `min_free`, and
  /// in a fleet a heartbeat younger than the node TTL. Empty when healthy.
  public func problems(maxAge: Double?) -> [HealthProblem] {
    var problems = pending.map { HealthProblem.variant($0.variant, $0.state, waitingFor: $0.waitingFor) }
    if let last = stats.lastRun {
      if last.outcome != .ok { problems.append(.lastRun(last)) }
    } else {
      problems.append(.neverRan)
    }
    if let maxAge, stats.lastRun != nil {
      if stats.lastSuccess.map({ at.timeIntervalSince($0) > maxAge }) ?? true {
        problems.append(.stale(lastSuccess: stats.lastSuccess, maxAge: maxAge, now: at))
      }
    }
    if let disk, disk.free < disk.minFree { problems.append(.diskBelowMinFree(free: disk.free, minFree: disk.minFree)) }
    if inFleet {
      let age = heartbeatAge
      if age.map({ $0 > Double(nodeTTL) }) ?? true { problems.append(.heartbeatStale(age: age, limit: Double(nodeTTL))) }
    }
    return problems
  }

  /// Builds the reading from plain values: the pure part of `Session.metrics(at:)`.
  public static func make(
    node: String, at: Date, stats: RunStats, desired: DesiredState, observed: ObservedState, target: NodeTarget, inFleet: Bool
  ) -> NodeMetrics {
    let rows = Inventory.rows(desired, observed, target: target)
    var variants: [InventoryState: Int] = [:]
    for state in InventoryState.allCases { variants[state] = 0 }
    for row in rows { variants[row.state, default: 0] += 1 }
    let pending = rows.filter { $0.desired && $0.state != .ok }.map { Pending(variant: $0.variant, state: $0.state, waitingFor: $0.waitingFor ?? []) }
    let unwanted = rows.filter { !$0.desired }.reduce(Int64(0)) { RunStats.adding($0, $1.bytes) }
    let used = observed.blobs.values.reduce(Int64(0)) { RunStats.adding($0, $1.size) }
    let disk = observed.filesystem.map { space in
      Disk(capacity: space.total, free: space.available, used: used, unwanted: unwanted, minFree: desired.policy.minFree.bytes(ofDisk: space.total))
    }
    let served = Set(target.servedTenants(in: desired).map(\.name))
    let tenants = TenantUsage.compute(desired).filter { served.contains($0.tenant) }.map { usage in
      Tenant(name: usage.tenant, used: usage.bytes, quota: usage.quota.disk?.value, models: usage.models, modelQuota: usage.quota.models?.value)
    }
    return NodeMetrics(
      node: node, at: at, stats: stats, variants: variants, pending: pending, disk: disk, tenants: tenants, inFleet: inFleet,
      nodeTTL: desired.policy.nodeTTL)
  }
}

extension Session {
  /// The node now; when the desired state or the root cannot be read, the run stats alone (so a
  /// failing node still reports its failed runs) and the error.
  public func metricsOrStats(at now: Date = Date(), loading load: (() throws -> LoadedDesiredState)? = nil) -> (NodeMetrics, (any Error)?) {
    do {
      return (try metrics(at: now, loaded: try load?()), nil)
    } catch {
      let stats = NodeMetrics(
        node: node, at: now, stats: RunStatsFile(root: root).load(), variants: [:], pending: [], disk: nil, tenants: [],
        inFleet: registry != nil, nodeTTL: Policy().nodeTTL)
      return (stats, error)
    }
  }

  /// Reads the node now: desired state (`loaded`, when the caller has it already), root, run
  /// stats. Writes nothing.
  public func metrics(at now: Date = Date(), loaded: LoadedDesiredState? = nil) throws -> NodeMetrics {
    let loaded = try loaded ?? loadDesired()
    // In a fleet, the placement the last run used (its cached snapshot), not every declared node.
    let fleet = registry == nil ? nil : cachedFleetSnapshot()
    let target = try NodeTarget.resolve(loaded.state, node: node, fleet: fleet)
    let observed = try observe(loaded.state)
    return NodeMetrics.make(
      node: node, at: now, stats: RunStatsFile(root: root).load(), desired: loaded.state, observed: observed, target: target,
      inFleet: registry != nil)
  }
}

extension Session {
  /// The fleet snapshot the last run cached in `<root>/.reconcile/fleet-snapshot.json`.
  func cachedFleetSnapshot() -> FleetSnapshot? {
    guard let data = FileManager.default.contents(atPath: root.state + "/fleet-snapshot.json") else { return nil }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(FleetSnapshot.self, from: data)
  }
}
