import Foundation
import ReconcileCore

/// How apply runs: parallelism, retries, timeouts, and who is running it.
public struct ApplyOptions: Sendable {
  /// Transfers and hashes at once (`policy.concurrency`).
  public var concurrency: Int
  /// Tries per source and the pauses between them (`policy.retry`).
  public var retry: RetryPolicy
  /// Seconds to wait for a connection.
  public var connectTimeout: Double = 30
  /// Seconds without a byte before a transfer is abandoned.
  public var stallTimeout: Double = 30
  /// Who runs apply, for the audit log.
  public var user: String
  /// The command line, for the audit log.
  public var command: String
  /// The desired-state directory, against which `file://./…` sources resolve.
  public var sourceBase: String
  /// The git commit of the desired state, for the audit log.
  public var desiredCommit: String?
  /// How to wait between retries; tests may shorten it.
  public var sleep: @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }

  /// Creates options.
  public init(concurrency: Int, retry: RetryPolicy, user: String, command: String, sourceBase: String, desiredCommit: String? = nil) {
    self.concurrency = concurrency
    self.retry = retry
    self.user = user
    self.command = command
    self.sourceBase = sourceBase
    self.desiredCommit = desiredCommit
  }
}

/// Executes a plan's changes on a node root, and nothing else.
///
/// Evictions run first, since they free space downloads need; then every digest the plan
/// downloads, verifies or links is one job on a pool of `concurrency` threads, so a blob shared
/// by several variants is fetched once; then the registry learns the fingerprints of what is
/// verified. Failures of one job do not stop the others.
public final class Applier: @unchecked Sendable {
  let store: BlobStore
  let registry: SQLiteRegistry
  let transfers: [SourceURL.Scheme: any Transfer]
  let options: ApplyOptions
  let events: @Sendable (ApplyEvent) -> Void
  let summary = Guarded(ApplySummary())
  /// Fingerprints of blobs known good during this run, to record when the run ends.
  let verified = Guarded([Digest: StatFingerprint]())
  var runID: Int64 = 0
  /// The node's ledger, open from the start of `apply`.
  var ledger: (any NodeLedger)?

  /// Creates an applier for `root`.
  public init(
    root: NodeRoot, registry: SQLiteRegistry, transfers: [SourceURL.Scheme: any Transfer], options: ApplyOptions,
    events: @escaping @Sendable (ApplyEvent) -> Void
  ) {
    self.store = BlobStore(root: root)
    self.registry = registry
    self.transfers = transfers
    self.options = options
    self.events = events
  }

  /// Runs `plan`, made from `desired` and `observed`, and reports what happened.
  public func apply(_ plan: Plan, desired: DesiredState, observed: ObservedState) throws -> ApplySummary {
    let started = Date()
    try store.prepare()
    let target = try NodeTarget.resolve(desired, node: plan.node)
    let ledger = try registry.ledger(node: plan.node)
    self.ledger = ledger
    try ledger.closeUnfinishedRuns()
    runID = try ledger.beginRun(
      user: options.user, host: ProcessInfo.processInfo.hostName, command: options.command,
      desiredCommit: options.desiredCommit, at: started)
    try recordGrace(plan, target: target)
    for (digest, blob) in observed.blobs where blob.verification == .verified {
      verified.update { $0[digest] = blob.fingerprint }
    }
    let units = DigestJob.jobs(for: plan, desired: desired, target: target)
    let work = units.reduce(Int64(0)) { $0 + ($1.primary.map { $0.action == .link ? 0 : $0.bytes } ?? 0) }
    events(.started(actions: plan.changes.count, bytes: work))

    // Evictions run first only when the downloads need their space; otherwise the old
    // variants stay until every download verified, so a failed upgrade keeps serving the old.
    let (early, late) = Self.splitEvictions(plan, desired: desired, observed: observed)
    evict(early, plan: plan, desired: desired, observed: observed, target: target)
    WorkerPool.run(count: units.count, width: options.concurrency) { index in self.run(units[index]) }
    if summary.current.isSuccess {
      evict(late, plan: plan, desired: desired, observed: observed, target: target)
    } else {
      summary.update { $0.deferred = late.map { ApplyAction(action: .evict, subject: $0.subject, bytes: $0.bytes) } }
    }
    linkTenantViews(desired: desired, target: target)
    recordFingerprints()

    var result = summary.current
    result.seconds = Date().timeIntervalSince(started)
    try ledger.finishRun(id: runID, outcome: result.isSuccess ? .ok : .failed, at: Date())
    events(.finished(result))
    return result
  }

  /// Variants kept within their grace period are remembered as unwanted from the time the plan
  /// saw them so; variants wanted again are forgotten.
  func recordGrace(_ plan: Plan, target: NodeTarget) throws {
    for kept in plan.kept {
      if case .inGracePeriod(let since) = kept.reason { try ledger?.markUnwanted([kept.variant], at: since) }
    }
    try ledger?.clearUnwanted(Array(target.variants))
  }

  // MARK: Evictions

  /// Evictions to run before the downloads (the node is draining, the disk is under pressure,
  /// or the filesystem lacks the space the downloads need) and those that can wait for them.
  static func splitEvictions(_ plan: Plan, desired: DesiredState, observed: ObservedState) -> (early: [Change], late: [Change]) {
    let evictions = plan.changes(.evict)
    let downloads = plan.changes(.download).reduce(Int64(0)) { $0 + $1.bytes }
    var short = false
    if let filesystem = observed.filesystem {
      short = downloads > filesystem.available - desired.policy.minFree.bytes(ofDisk: filesystem.total)
    }
    if let capacity = plan.disk.capacity, plan.disk.usedNow + downloads > capacity - plan.disk.minFree { short = true }
    if short { return (evictions, []) }
    let early = evictions.filter {
      switch $0.reason {
      case .nodeDraining, .diskPressure: true
      default: false
      }
    }
    return (early, evictions.filter { !early.contains($0) })
  }

  func evict(_ evictions: [Change], plan: Plan, desired: DesiredState, observed: ObservedState, target: NodeTarget) {
    guard !evictions.isEmpty else { return }
    let index = ObservedIndex(observed)
    var keep = Set(index.referencedDigests(plan.kept.map(\.variant)).keys)
    for id in target.variants {
      for file in desired.model(id.model)?.variant(id.variant)?.files ?? [] { keep.insert(file.sha256) }
    }
    var candidates = Set<Digest>()
    var evictedVariants: [VariantID] = []
    for change in evictions {
      let action = ApplyAction(action: .evict, subject: change.subject, bytes: change.bytes)
      let audit = beginAudit(action, source: nil)
      events(.actionStarted(action))
      do {
        if let path = change.subject.path {
          if let file = observed.variants[change.subject.variant]?.files[path], let digest = index.digest(of: file) { candidates.insert(digest) }
          try store.removeViewFile(change.subject.variant, at: path)
        } else {
          for file in observed.variants[change.subject.variant]?.files.values ?? [:].values {
            if let digest = index.digest(of: file) { candidates.insert(digest) }
          }
          try store.removeView(change.subject.variant)
          evictedVariants.append(change.subject.variant)
        }
        finish(action, audit: audit, .succeeded(source: nil, bytes: change.bytes))
        summary.update { $0.freedBytes += change.bytes }
      } catch {
        finish(action, audit: audit, .failed("\(action): \(error)"))
      }
    }
    for digest in candidates.subtracting(keep) {
      try? store.removeBlob(digest)
      verified.update { $0[digest] = nil }
    }
    try? ledger?.clearUnwanted(evictedVariants)
  }

  // MARK: Links and fingerprints

  /// Points every desired view of the job's digest at its blob.
  func linkViews(_ job: DigestJob) throws {
    for subject in job.views {
      guard let path = subject.path else { continue }
      do {
        try store.link(job.digest, into: subject.variant, at: path)
      } catch {
        throw ApplyFailure("link \(subject): \(error)")
      }
    }
  }

  /// Records the fingerprint of every blob known good. Linking and unlinking change a file's
  /// ctime, so a blob whose inode, size and mtime are unchanged since it was verified gets its
  /// new fingerprint recorded; anything else was changed by someone else and is left unverified.
  func recordFingerprints() {
    var entries: [(StatFingerprint, Digest)] = []
    for (digest, known) in verified.current {
      guard let now = FileStatus.of(store.root.blob(digest))?.fingerprint else { continue }
      if now.keepsContent(of: known) {
        entries.append((now, digest))
      }
    }
    do {
      try registry.recordVerified(entries, at: Date())
    } catch {
      summary.update { $0.failures.append((ApplyAction(action: .verify, subject: ChangeSubject(variant: VariantID(name: "registry", version: "-", variant: "-")), bytes: 0), "record verified files in \(store.root.registry): \(error)")) }
    }
  }

  // MARK: Audit and events

  func beginAudit(_ action: ApplyAction, source: String?) -> Int64? {
    try? ledger?.beginAction(run: runID, action: action.action, subject: action.subject.description, bytes: action.bytes, source: source, at: Date())
  }

  func finish(_ action: ApplyAction, audit: Int64?, _ outcome: ActionOutcome) {
    switch outcome {
    case .succeeded(let source, let bytes):
      summary.update { $0.succeeded[action.action, default: 0] += 1 }
      if let audit { try? ledger?.finishAction(id: audit, outcome: .ok, bytes: bytes, detail: source, at: Date()) }
    case .failed(let cause):
      summary.update { $0.failures.append((action, cause)) }
      if let audit { try? ledger?.finishAction(id: audit, outcome: .failed, bytes: nil, detail: cause, at: Date()) }
    }
    events(.actionFinished(action, outcome))
  }
}

/// A failure with its full, user-facing cause.
struct ApplyFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
