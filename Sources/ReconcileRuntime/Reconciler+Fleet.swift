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
    let heartbeat = NodeHeartbeat(
      node: node, pool: pool?.name, state: declared?.draining == true ? .draining : .ready, diskTotal: observed.filesystem?.total,
      diskFree: observed.filesystem?.available, vram: declared?.vram, agentVersion: reconcileVersion, at: now,
      desiredCommit: lastApply == nil ? nil : commit, lastApply: lastApply.map { .init(outcome: $0.rawValue, at: now) })
    do {
      try fleet.heartbeat(heartbeat)
      try fleet.replaceHoldings(node: node, HeldVariant.verified(in: desired, observed), at: now)
    } catch {
      events(.warning("cannot report node '\(node)' to the fleet: \(error)"))
    }
  }

  /// The fleet as the registry sees it now, for placement and make-before-break; nil without a
  /// registry, or when it cannot be read (a warning; placement then counts every declared node).
  func snapshot(of fleet: PostgresRegistry?, policy: Policy) -> FleetSnapshot? {
    guard session.registry != nil else { return nil }
    guard let fleet else { return .unavailable(at: clock()) }
    do {
      return FleetSnapshot(nodes: try fleet.nodes(), takenAt: clock(), ttl: Double(policy.nodeTTL))
    } catch {
      events(.warning("cannot read the fleet from the registry: \(error); placement counts every declared node and nothing placed elsewhere is evicted"))
      return .unavailable(at: clock())
    }
  }
}
