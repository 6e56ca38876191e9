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
  func report(to fleet: PostgresRegistry?, desired: DesiredState, observed: ObservedState, plan: Plan, lastApply: RunOutcome?) {
    guard let fleet else { return }
    let node = session.node
    let declared = desired.pools.lazy.flatMap(\.nodes).first { $0.name == node }
    let now = clock()
    let heartbeat = NodeHeartbeat(
      node: node, pool: plan.pool, state: declared?.draining == true ? .draining : .ready, diskTotal: observed.filesystem?.total,
      diskFree: observed.filesystem?.available, vram: declared?.vram, agentVersion: reconcileVersion, at: now,
      desiredCommit: lastApply == nil ? nil : plan.desired.commit, lastApply: lastApply.map { .init(outcome: $0.rawValue, at: now) })
    do {
      try fleet.heartbeat(heartbeat)
      try fleet.replaceHoldings(node: node, HeldVariant.verified(in: desired, observed), at: now)
    } catch {
      events(.warning("cannot report node '\(node)' to the fleet: \(error)"))
    }
  }
}
