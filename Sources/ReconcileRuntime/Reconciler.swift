import Foundation
import ReconcileCore

/// What a reconcile run needs besides the session: how to run and who runs it.
public struct ReconcileSettings: Sendable {
  /// Seconds to wait for another run on this root to release it.
  public var lockTimeout: Double
  /// Who runs it, for the audit log.
  public var user: String
  /// The command line, for the audit log.
  public var command: String

  /// Creates settings.
  public init(lockTimeout: Double, user: String, command: String) {
    self.lockTimeout = lockTimeout
    self.user = user
    self.command = command
  }
}

/// How a reconcile run ended.
public enum ReconcileOutcome: Sendable {
  /// The node already matched the desired state; nothing was changed.
  case noChanges(Plan)
  /// The plan was not approved; nothing was changed.
  case declined(Plan)
  /// The plan ran; the summary says what happened.
  case applied(Plan, ApplySummary)

  /// The plan the run was about.
  public var plan: Plan {
    switch self {
    case .noChanges(let plan), .declined(let plan), .applied(let plan, _): plan
    }
  }
}

/// One node's reconcile loop: load → observe → plan → (approve) → apply → record, with the
/// clock, cancellation and event sink injected. `reconcile apply` is a thin command over it,
/// and a long-running agent calls the same loop.
public final class Reconciler: Sendable {
  /// The node's desired state, root and name.
  public let session: Session
  /// How to run.
  public let settings: ReconcileSettings
  /// Set to stop the run: nothing new starts, transfers stop, pauses end.
  public let cancellation: CancellationFlag
  /// This run's id: JSON log lines and the run stats carry it.
  public let runID: String
  let clock: @Sendable () -> Date
  let events: @Sendable (ApplyEvent) -> Void
  let transfers: @Sendable () -> [SourceURL.Scheme: any Transfer]
  let recorder: RunStatsRecorder
  /// When this run last reported the node's heartbeat to the fleet.
  let heartbeatSent = Guarded<Date?>(nil)

  /// Creates a loop. `transfers` gives the backends for a run (the real ones by default).
  public init(
    session: Session, settings: ReconcileSettings, cancellation: CancellationFlag = CancellationFlag(),
    clock: @escaping @Sendable () -> Date = { Date() }, events: @escaping @Sendable (ApplyEvent) -> Void = { _ in },
    transfers: (@Sendable () -> [SourceURL.Scheme: any Transfer])? = nil
  ) {
    self.session = session
    self.settings = settings
    self.cancellation = cancellation
    self.runID = Self.newRunID()
    self.clock = clock
    let recorder = RunStatsRecorder()
    self.recorder = recorder
    self.events = { event in
      recorder.handle(event)
      events(event)
    }
    let sources = session.sources ?? SourceSettings()
    self.transfers = transfers ?? { Session.transfers(settings: sources) }
  }

  /// The plan for this node now; writes nothing to the root. In a fleet, the node's heartbeat
  /// and holdings are reported.
  public func plan() throws -> Plan {
    let (loaded, desiredDigest) = try session.loadDesiredWithDigest()
    try session.checkStoreReadable()
    let fleet = openFleet()
    let cache = try session.existingRegistry()
    let ledger: (any NodeLedger)? = try fleet?.ledger(node: session.node) ?? cache?.ledger(node: session.node)
    let observed = try session.observe(loaded.state, cache: cache, ledger: ledger)
    if session.holdsRoot { try session.checkTenantGroups(loaded.state) }
    report(to: fleet, desired: loaded.state, observed: observed)
    let members = snapshot(of: fleet, policy: loaded.state.policy)
    return try PlacedPlanError.placing(loaded.sourceMap) {
      try session.plan(loaded.state, observed, digest: desiredDigest, at: clock(), fleet: members)
    }
  }

  /// Takes the root's lock, plans (or checks `saved` against what is on disk now), asks
  /// `approve` when there are changes, applies, and records grace times on every run.
  ///
  /// A saved plan is refused when the desired-state files or the observed root differ from
  /// those it was made from, when it was made for another node, or when its changes are not the
  /// ones this desired state and root give.
  ///
  /// Every run that was not declined is added to `<root>/.reconcile/run-stats.json` (counters,
  /// last run, last success), however it ended.
  public func run(saved: Plan? = nil, approve: (Plan) throws -> Bool = { _ in true }) throws -> ReconcileOutcome {
    let started = clock()
    let outcome: ReconcileOutcome
    do {
      outcome = try reconcile(saved: saved, approve: approve)
    } catch {
      let stopped = cancellation.isCancelled
      record(started: started, outcome: stopped ? .interrupted : .failed, reason: stopped ? cancellation.reason ?? "cancelled" : Applier.firstLine("\(error)"))
      throw error
    }
    switch outcome {
    case .declined:
      break
    case .noChanges:
      record(started: started, outcome: .ok, reason: nil)
    case .applied(let plan, let summary):
      let failed = summary.failures.count
      let reason = summary.cancelled ?? (failed == 0 ? nil : "\(failed) of \(plan.changes.count) actions failed")
      record(started: started, outcome: summary.cancelled != nil ? .interrupted : summary.isSuccess ? .ok : .failed, reason: reason)
    }
    return outcome
  }

  /// Adds this run to the node's run stats; a stats file that cannot be written is a warning.
  private func record(started: Date, outcome: RunOutcome, reason: String?) {
    // A root never set up stays unwritten (a run refused before it starts creates nothing);
    // `check` then says no run is recorded.
    guard FileStatus.of(session.root.state)?.kind == .directory else { return }
    let run = RunStats.Run(id: runID, startedAt: started, finishedAt: clock(), outcome: outcome, reason: reason)
    if let error = RunStatsFile(root: session.root).record(run, counts: recorder.current, heartbeat: heartbeatSent.current) {
      events(.warning("cannot write the run stats in \(session.root.state): \(error)"))
    }
  }

  /// 12 hex digits, random: enough to tell a node's runs apart in its logs.
  static func newRunID() -> String {
    var generator = SystemRandomNumberGenerator()
    return String(generator.next() & 0xffff_ffff_ffff, radix: 16).leftPadded(to: 12)
  }

  private func reconcile(saved: Plan?, approve: (Plan) throws -> Bool) throws -> ReconcileOutcome {
    let (loaded, desiredDigest) = try session.loadDesiredWithDigest()
    if let saved { try Self.check(saved, node: session.node, desiredDigest: desiredDigest, desiredPath: session.desired.path) }
    // Before anything is written: a tenant's view needs its group on this node.
    try session.checkTenantGroups(loaded.state)
    let root = session.root
    try StoreFiles.makeDirectories(root.state, inside: root.path)
    let lock = try RootMutex(root: root, timeout: settings.lockTimeout, command: settings.command, cancellation: cancellation)
    defer { lock.release() }
    try BlobStore(root: root).prepare()
    let (registry, healing) = try SQLiteRegistry.openHealing(path: root.registry, now: clock())
    let fleet = openFleet()
    let ledger: any NodeLedger = try fleet?.ledger(node: session.node) ?? registry.ledger(node: session.node)
    if let healing {
      events(.warning(healing.description))
      // The history says where it starts again and why.
      let gap = try ledger.beginRun(user: settings.user, host: ProcessInfo.processInfo.hostName, command: "registry replaced: \(healing)", desiredCommit: nil, at: clock())
      try ledger.finishRun(id: gap, outcome: .ok, at: clock())
    }
    let observed = try session.observe(loaded.state, cache: registry, ledger: ledger)
    // The node reports itself first, so the snapshot it plans from counts it as alive.
    report(to: fleet, desired: loaded.state, observed: observed)
    let members = snapshot(of: fleet, policy: loaded.state.policy, caching: true)
    let now = clock()
    let plan: Plan
    if let saved {
      let fresh = session.pinningHubRevisions(
        try PlacedPlanError.placing(loaded.sourceMap) {
          try Planner.plan(loaded.state, observed, on: session.node, at: saved.createdAt, fleet: members)
        }, observed: observed)
      try Self.check(saved, against: fresh, observedDigest: Session.digest(of: observed), session: session)
      plan = saved
    } else {
      plan = try PlacedPlanError.placing(loaded.sourceMap) {
        try session.plan(loaded.state, observed, digest: desiredDigest, at: now, fleet: members)
      }
    }
    // A node that serves tenants keeps its store private from the first byte on.
    if !plan.target.tenants.isEmpty { try TenantViews(root: root).lockDownRoot() }
    guard plan.hasChanges else {
      try Applier.recordGrace(plan, ledger: ledger)
      if !deregisterIfGone(fleet, plan: plan, observed: observed) {
        report(to: fleet, desired: loaded.state, observed: observed, lastApply: .ok, commit: plan.desired.commit)
      }
      return .noChanges(plan)
    }
    guard try approve(plan) else { return .declined(plan) }
    let policy = loaded.state.policy
    var options = ApplyOptions(concurrency: policy.concurrency, retry: policy.retry, user: settings.user, command: settings.command, sourceBase: session.desired.path)
    options.connectTimeout = Double(policy.connectTimeout)
    options.stallTimeout = Double(policy.stallTimeout)
    options.connectionsPerFile = policy.connectionsPerFile
    let limited = TenantTransferLimits(plan, nodeBandwidth: policy.bandwidth, cancellation: cancellation).wrapping(transfers())
    var sink = events
    if let fleet {
      // Each variant reaches the registry as soon as it verified, not only when the run ends.
      let node = session.node
      let clock = self.clock
      let events = self.events
      let tracker = HoldingTracker(plan: plan, desired: loaded.state) { held in
        do { try fleet.addHolding(node: node, held, at: clock()) } catch { events(.warning("cannot report \(held.variant) to the fleet: \(error)")) }
      }
      sink = { event in
        tracker.handle(event)
        events(event)
      }
    }
    let applier = Applier(
      root: root, cache: registry, ledger: ledger, transfers: limited, options: options, cancellation: cancellation, clock: clock, events: sink)
    let summary = try applier.apply(plan, observed: observed)
    if fleet != nil {
      // What the node holds verified now: the views and blobs the run left, scanned again.
      // (Holdings need no ledger: a registry gone mid-run must not fail the run here.)
      let after = try session.observe(loaded.state, cache: registry, ledger: nil)
      let outcome: RunOutcome = summary.cancelled != nil ? .interrupted : summary.isSuccess ? .ok : .failed
      if !(summary.isSuccess && deregisterIfGone(fleet, plan: plan, observed: after)) {
        report(to: fleet, desired: loaded.state, observed: after, lastApply: outcome, commit: plan.desired.commit)
      }
    }
    return .applied(plan, summary)
  }

  /// Refuses a saved plan made for another node or from other desired-state files.
  static func check(_ saved: Plan, node: String, desiredDigest: String, desiredPath: String) throws {
    guard saved.formatVersion == Plan.currentFormatVersion else {
      throw StalePlanError(description: "the saved plan has format version \(saved.formatVersion), but this reconcile applies version \(Plan.currentFormatVersion); run 'reconcile plan -o FILE' again and review it")
    }
    guard saved.node == node else {
      throw StalePlanError(description: "the saved plan is for node '\(saved.node)', not '\(node)'; run it on that node, or plan again here")
    }
    guard saved.desired.digest == desiredDigest else {
      throw StalePlanError(description: "the desired state in \(desiredPath) changed since the plan was made (files digest \(saved.desired.digest.prefix(12))…, now \(desiredDigest.prefix(12))…); run 'reconcile plan -o FILE' again and review it")
    }
  }

  /// Refuses a saved plan whose root changed since, or whose changes are not the ones the
  /// desired state and root give (an edited file: another subject, a path outside the root).
  static func check(_ saved: Plan, against fresh: Plan, observedDigest: String, session: Session) throws {
    guard saved.observedDigest == observedDigest else {
      throw StalePlanError(description: "the node root \(session.root.path) changed since the plan was made (observed digest \(saved.observedDigest.prefix(12))…, now \(observedDigest.prefix(12))…); run 'reconcile plan -o FILE' again and review it")
    }
    guard sameChanges(fresh, saved) else {
      throw StalePlanError(description: "the saved plan's changes are not the ones the desired state in \(session.desired.path) gives for node '\(session.node)' (was the file edited?); run 'reconcile plan -o FILE' again and review it")
    }
  }

  /// Whether two plans do the same things to the same target; sources may differ, since a plan
  /// pins Hub branches to commits after planning, but nothing else apply reads may.
  static func sameChanges(_ lhs: Plan, _ rhs: Plan) -> Bool {
    func unpinned(_ change: Change) -> Change {
      var change = change
      change.sources = []
      return change
    }
    return lhs.target == rhs.target && lhs.kept == rhs.kept && lhs.changes.map(unpinned) == rhs.changes.map(unpinned)
  }
}

/// Why a saved plan was refused.
public struct StalePlanError: Error, Sendable, CustomStringConvertible {
  /// What changed and what to do.
  public var description: String
}

extension String {
  /// The string with leading zeros up to `width` characters.
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
