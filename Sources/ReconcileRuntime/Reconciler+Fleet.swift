import Foundation
import ReconcileCore

/// The reconcile version heartbeats report.
public let reconcileVersion = "0.2.0"

extension Reconciler {
  /// The fleet registry when the node is in one and it answers; nil otherwise. An unreachable
  /// registry is a warning, not an error: the node keeps its local correctness on its own
  /// ledger and reports its heartbeat next time.
  func openFleet() -> PostgresRegistry? {
    guard let conninfo = session.registry else { return nil }
    do {
      return try PostgresRegistry(conninfo)
    } catch let error as PostgresSchemaError {
      events(.warning("\(error); this run uses the node's local ledger"))
    } catch {
      events(.warning("\(error); this run uses the node's local ledger and reports its heartbeat next time"))
    }
    return nil
  }

  /// Reports this node to the fleet: its heartbeat (pool, state, disk, VRAM, the last apply)
  /// and what it holds verified now. A failure is a warning.
  func report(to fleet: PostgresRegistry?, desired: DesiredState, observed: ObservedState, lastApply: RunOutcome? = nil, commit: String? = nil) {
    guard let fleet else { return }
    let node = session.node
    let pool = desired.pools.first { $0.nodes.contains { $0.name == node } }
    let declared = pool?.nodes.first { $0.name == node }
    let now = clock()
    let state: NodeState = declared == nil && !desired.pools.isEmpty ? .leaving : declared?.draining == true ? .draining : .ready
    var heartbeat = NodeHeartbeat(
      node: node, pool: pool?.name, state: state, diskTotal: observed.filesystem?.total,
      diskFree: observed.filesystem?.available, vram: declared?.vram, agentVersion: reconcileVersion, at: now,
      desiredCommit: lastApply == nil ? nil : commit, lastApply: lastApply.map { .init(outcome: $0.rawValue, at: now) })
    heartbeat.labels = declared?.labels ?? [:]
    do {
      // A node no pool declares only keeps up a row that exists (it is leaving); a typo in
      // --node must not join the fleet.
      let declaredOrPoolless = declared != nil || desired.pools.isEmpty
      try fleet.heartbeat(heartbeat, registering: declaredOrPoolless)
      guard try declaredOrPoolless || fleet.nodes().contains(where: { $0.heartbeat.node == node }) else { return }
      heartbeatSent.update { $0 = now }
      try fleet.replaceHoldings(node: node, HeldVariant.verified(in: desired, observed), at: now)
    } catch {
      events(.warning("cannot report node '\(node)' to the fleet: \(error)"))
    }
  }

  /// A leaving node that holds nothing any more (nothing kept, no variant on disk) leaves the
  /// registry: its row, holdings and ledger go. Returns whether it did.
  func deregisterIfGone(_ fleet: PostgresRegistry?, plan: Plan, observed: ObservedState) -> Bool {
    guard let fleet, plan.leaving == true, plan.kept.isEmpty, observed.variants.isEmpty else { return false }
    do {
      try fleet.removeNode(session.node)
      return true
    } catch {
      events(.warning("node '\(session.node)' holds nothing but could not deregister: \(error)"))
      return false
    }
  }

  /// The fleet as the registry sees it now, for placement and make-before-break; nil without a
  /// registry, or when it cannot be read (a warning; placement then counts every declared node).
  /// With `caching`, a snapshot read from the registry is kept in `<root>/.reconcile`; when the
  /// registry does not answer, that cached snapshot is used instead, marked unavailable (nothing
  /// placed elsewhere is evicted on it).
  func snapshot(of fleet: PostgresRegistry?, policy: Policy, caching: Bool = false) -> FleetSnapshot? {
    guard session.registry != nil else { return nil }
    if let fleet {
      do {
        let snapshot = FleetSnapshot(nodes: try fleet.nodes(), takenAt: clock(), ttl: Double(policy.nodeTTL))
        if caching { saveCached(snapshot) }
        return snapshot
      } catch {
        events(.warning("cannot read the fleet from the registry: \(error); nothing placed elsewhere is evicted"))
      }
    }
    guard var cached = loadCached() else { return .unavailable(at: clock()) }
    cached.unavailable = true
    return cached
  }

  /// `<root>/.reconcile/fleet-snapshot.json`.
  var cachedSnapshotPath: String { session.root.state + "/fleet-snapshot.json" }

  func saveCached(_ snapshot: FleetSnapshot) {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    guard let data = try? encoder.encode(snapshot) else { return }
    try? data.write(to: URL(fileURLWithPath: cachedSnapshotPath), options: .atomic)
  }

  func loadCached() -> FleetSnapshot? {
    guard let data = FileManager.default.contents(atPath: cachedSnapshotPath) else { return nil }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(FleetSnapshot.self, from: data)
  }
}
