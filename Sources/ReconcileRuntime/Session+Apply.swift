import Foundation
import ReconcileCore

/// A plan ready to run: made (or checked) under the root's lock, with what it was made from.
public struct PreparedApply {
  /// The plan to execute.
  public var plan: Plan
  /// The desired state it was made from.
  public var desired: DesiredState
  /// The observed state it was made from.
  public var observed: ObservedState
  /// The registry, open for the run's audit records.
  public var registry: SQLiteRegistry
  /// The lock, held until the run ends.
  public var lock: RootLock
}

/// Why a saved plan was refused.
public struct StalePlanError: Error, Sendable, CustomStringConvertible {
  /// What changed and what to do.
  public var description: String
}

extension Session {
  /// Takes the root's lock, then plans (or checks a saved plan) against what is on disk now.
  ///
  /// A saved plan is refused when the desired-state files or the observed root differ from
  /// those it was made from, or when it was made for another node.
  public func prepareApply(saved: Plan?, lockTimeout: Double, command: String, now: Date = Date()) throws -> PreparedApply {
    let (loaded, desiredDigest) = try loadDesiredWithDigest()
    if let saved {
      guard saved.node == node else {
        throw StalePlanError(description: "the saved plan is for node '\(saved.node)', not '\(node)'; run it on that node, or plan again here")
      }
      guard saved.desired.digest == desiredDigest else {
        throw StalePlanError(description: "the desired state in \(desired.path) changed since the plan was made (files digest \(saved.desired.digest.prefix(12))…, now \(desiredDigest.prefix(12))…); run 'reconcile plan -o FILE' again and review it")
      }
    }
    // Before anything is written: a tenant's view needs its group on this node.
    try checkTenantGroups(loaded.state)
    try BlobStore(root: root).prepare()
    // A node that serves tenants keeps its store private from the first byte on.
    if !(try NodeTarget.resolve(loaded.state, node: node).servedTenants(in: loaded.state)).isEmpty {
      try TenantViews(root: root).lockDownRoot()
    }
    let lock = try RootLock(path: root.state + "/lock", timeout: lockTimeout, command: command)
    let registry = try SQLiteRegistry(path: root.registry)
    let ledger = try registry.ledger(node: node)
    let observed = NodeRootScanner(root: root).scan(
      verified: try registry.verifiedDigests(), lastUse: try ledger.lastUse(), unwantedSince: try ledger.unwantedSince())
    let observedDigest = Self.digest(of: observed)
    var plan: Plan
    if let saved {
      guard saved.observedDigest == observedDigest else {
        lock.release()
        throw StalePlanError(description: "the node root \(root.path) changed since the plan was made (observed digest \(saved.observedDigest.prefix(12))…, now \(observedDigest.prefix(12))…); run 'reconcile plan -o FILE' again and review it")
      }
      // Only changes this desired state and this root give are run: a saved file whose
      // changes were edited (another subject, a path outside the root) is refused.
      let fresh = try Planner.plan(loaded.state, observed, on: node, at: saved.createdAt)
      guard Self.sameChanges(fresh.changes, saved.changes) else {
        lock.release()
        throw StalePlanError(description: "the saved plan's changes are not the ones the desired state in \(desired.path) gives for node '\(node)' (was the file edited?); run 'reconcile plan -o FILE' again and review it")
      }
      plan = saved
    } else {
      plan = try Planner.plan(loaded.state, observed, on: node, at: now)
      plan.desired = DesiredStamp(path: desired.path, commit: desired.gitCommit(), digest: desiredDigest)
      plan.observedDigest = observedDigest
      plan = pinningHubRevisions(plan)
    }
    return PreparedApply(plan: plan, desired: loaded.state, observed: observed, registry: registry, lock: lock)
  }


  /// Whether two change lists do the same things; sources may differ, since a plan pins Hub
  /// branches to commits after planning.
  static func sameChanges(_ lhs: [Change], _ rhs: [Change]) -> Bool {
    func key(_ change: Change) -> String {
      "\(change.action.rawValue)|\(change.subject)|\(change.digest?.hex ?? "-")|\(change.bytes)|\(change.reason.kind)"
    }
    return lhs.map(key) == rhs.map(key)
  }

  /// Remembers when unwanted variants within their grace period were first seen unwanted, and
  /// forgets variants wanted again: on every apply, with or without changes, so grace counts
  /// from the first apply that saw the variant unwanted.
  public static func recordGrace(_ plan: Plan, desired: DesiredState, registry: SQLiteRegistry) throws {
    let ledger = try registry.ledger(node: plan.node)
    for kept in plan.kept {
      if case .inGracePeriod(let since) = kept.reason { try ledger.markUnwanted([kept.variant], at: since) }
    }
    try ledger.clearUnwanted(Array(try NodeTarget.resolve(desired, node: plan.node).variants))
  }
}
