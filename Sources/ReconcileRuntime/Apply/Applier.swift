import Foundation
import ReconcileCore

/// How apply runs: parallelism, retries, timeouts, and who is running it.
public struct ApplyOptions: Sendable {
  /// Transfers and hashes at once (`policy.concurrency`).
  public var concurrency: Int
  /// Tries per source and the pauses between them (`policy.retry`).
  public var retry: RetryPolicy
  /// Seconds to wait for a connection (`policy.connect_timeout`).
  public var connectTimeout: Double = 30
  /// Seconds without a byte, or below the lowest rate, before a transfer is abandoned
  /// (`policy.stall_timeout`).
  public var stallTimeout: Double = 30
  /// Connections one big file may use at once (`policy.connections_per_file`).
  public var connectionsPerFile = 1
  /// Who runs apply, for the audit log.
  public var user: String
  /// The command line, for the audit log.
  public var command: String
  /// The desired-state directory, against which `file://./…` sources resolve.
  public var sourceBase: String

  /// Creates options.
  public init(concurrency: Int, retry: RetryPolicy, user: String, command: String, sourceBase: String) {
    self.concurrency = concurrency
    self.retry = retry
    self.user = user
    self.command = command
    self.sourceBase = sourceBase
  }
}

/// Executes a plan's changes on a node root, and nothing else.
///
/// Evictions whose phase is before the downloads run first, since they free space downloads
/// need; then every digest the plan downloads, verifies or links is one job on a pool of
/// `concurrency` threads, so a blob shared by several variants is fetched once; then, when
/// every job succeeded, the evictions that wait for that; then tenant views and, after a run
/// without failures, Hugging Face cache publications; last, the verified-file cache learns the
/// fingerprints of what is verified. Failures of one job do not stop the others; a cancelled
/// run starts nothing new.
public final class Applier: @unchecked Sendable {
  let store: BlobStore
  let cache: any VerifiedFileCache
  let ledger: any NodeLedger
  let transfers: [SourceURL.Scheme: any Transfer]
  let options: ApplyOptions
  let cancellation: CancellationFlag
  let clock: @Sendable () -> Date
  let events: @Sendable (ApplyEvent) -> Void
  let summary = Guarded(ApplySummary())
  /// Sources that failed a file's whole retry budget in a row are skipped for the rest of the run.
  let breaker: SourceBreaker
  /// Fingerprints of blobs known good during this run, to record when the run ends.
  let verified = Guarded([Digest: StatFingerprint]())
  /// Variants whose views wait for what they require (required variants this plan still works
  /// on), with those requirements.
  let gates = Guarded([VariantID: [VariantID]]())
  /// Views of gated variants, linked after every job ran, if what they require was verified.
  let gatedLinks = Guarded([GatedLinks]())
  var runID: Int64 = 0
  var node = ""

  /// Creates an applier for `root`.
  public init(
    root: NodeRoot, cache: any VerifiedFileCache, ledger: any NodeLedger, transfers: [SourceURL.Scheme: any Transfer],
    options: ApplyOptions, cancellation: CancellationFlag = CancellationFlag(), clock: @escaping @Sendable () -> Date = { Date() },
    events: @escaping @Sendable (ApplyEvent) -> Void
  ) {
    self.store = BlobStore(root: root)
    self.cache = cache
    self.ledger = ledger
    self.transfers = transfers
    self.options = options
    self.cancellation = cancellation
    self.clock = clock
    self.events = events
    self.breaker = SourceBreaker(threshold: options.retry.attempts)
  }

  /// Runs `plan`, made from `observed`, and reports what happened.
  public func apply(_ plan: Plan, observed: ObservedState) throws -> ApplySummary {
    let started = clock()
    node = plan.node
    try store.prepare()
    try ledger.closeUnfinishedRuns()
    runID = try ledger.beginRun(user: options.user, host: ProcessInfo.processInfo.hostName, command: options.command, desiredCommit: plan.desired.commit, at: started)
    try Self.recordGrace(plan, ledger: ledger)
    for (digest, blob) in observed.blobs where blob.verification == .verified {
      verified.update { $0[digest] = blob.fingerprint }
    }
    let units = DigestJob.jobs(for: plan)
    let work = units.reduce(Int64(0)) { $0 + ($1.primary.map { $0.action == .link ? 0 : $0.bytes } ?? 0) }
    events(.started(actions: plan.changes.count, bytes: work))

    let evictions = plan.changes(.evict)
    evict(evictions.filter { $0.phase == .beforeDownloads }, plan: plan)
    gates.update { $0 = Self.gates(plan) }
    WorkerPool.run(count: units.count, width: options.concurrency, cancellation: cancellation) { index in self.run(units[index]) }
    if !cancellation.isCancelled { linkGated() }
    let late = evictions.filter { $0.phase != .beforeDownloads }
    if summary.current.isSuccess, !cancellation.isCancelled {
      evict(late, plan: plan)
    } else {
      summary.update { $0.deferred = late.map { ApplyAction(action: .evict, subject: $0.subject, bytes: $0.bytes) } }
    }
    if !cancellation.isCancelled { convergeTenantViews(plan) }
    // The cache is published from a store known good: after a run with failures it waits.
    if summary.current.isSuccess, !cancellation.isCancelled { publish(plan.changes(.publish)) }
    recordFingerprints()

    var result = summary.current
    result.seconds = clock().timeIntervalSince(started)
    if cancellation.isCancelled { result.cancelled = cancellation.reason ?? "cancelled" }
    let outcome: RunOutcome = result.cancelled != nil ? .interrupted : result.isSuccess ? .ok : .failed
    do {
      let detail = result.cancelled ?? result.failures.first.map { failure in
        result.failures.count == 1 ? Self.firstLine(failure.cause) : "\(result.failures.count) actions failed; first: \(Self.firstLine(failure.cause))"
      }
      try ledger.finishRun(id: runID, outcome: outcome, detail: detail, at: clock())
    } catch {
      // The store is as the run left it; only the audit log lacks its end (a fleet registry that
      // went away mid-run). The next run closes it as interrupted.
      events(.warning("cannot record the end of run \(runID) in the ledger: \(error)"))
    }
    events(.finished(result))
    return result
  }

  /// Remembers when unwanted variants within their grace period were first seen unwanted, and
  /// forgets variants wanted again: on every apply, with or without changes, so grace counts
  /// from the first apply that saw the variant unwanted.
  public static func recordGrace(_ plan: Plan, ledger: any NodeLedger) throws {
    let unwanted = plan.kept.compactMap { kept -> (VariantID, Date)? in
      if case .inGracePeriod(let since) = kept.reason { (kept.variant, since) } else { nil }
    }
    for (variant, since) in unwanted { try ledger.markUnwanted([variant], at: since) }
    try ledger.clearUnwanted(plan.target.variants)
  }

  // MARK: Evictions

  /// Removes each eviction's view, then the blobs the plan says no remaining view uses.
  func evict(_ evictions: [Change], plan: Plan) {
    guard !evictions.isEmpty else { return }
    var evictedVariants: [VariantID] = []
    for change in evictions {
      let action = ApplyAction(action: .evict, subject: change.subject, bytes: change.bytes)
      let audit = beginAudit(action, source: nil)
      events(.actionStarted(action))
      do {
        if let path = change.subject.path {
          try store.removeViewFile(change.subject.variant, at: path)
        } else {
          try store.removeView(change.subject.variant)
          evictedVariants.append(change.subject.variant)
        }
        for digest in change.blobs ?? [] {
          try? store.removeBlob(digest)
          verified.update { $0[digest] = nil }
        }
        finish(action, audit: audit, .succeeded(source: nil, bytes: change.bytes))
        summary.update { $0.freedBytes += change.bytes }
      } catch {
        finish(action, audit: audit, .failed("\(action): \(error)"))
      }
    }
    try? ledger.clearUnwanted(evictedVariants)
  }

  // MARK: Links and fingerprints

  /// Points every view of the job's digest at its blob.
  func linkViews(_ job: DigestJob) throws {
    try linkViews(job.views, to: job.digest)
  }

  /// Points each of `views` at the blob of `digest`.
  func linkViews(_ views: [ChangeSubject], to digest: Digest) throws {
    for subject in views {
      guard let path = subject.path else { continue }
      do {
        try store.link(digest, into: subject.variant, at: path)
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
      try cache.recordVerified(entries, at: clock())
    } catch {
      summary.update { $0.failures.append((ApplyAction(action: .verify, subject: ChangeSubject(variant: VariantID(name: "registry", version: "-", variant: "-")), bytes: 0), "record verified files in \(store.root.registry): \(error)")) }
    }
  }

  // MARK: Audit and events

  func beginAudit(_ action: ApplyAction, source: String?) -> Int64? {
    try? ledger.beginAction(run: runID, action: action.action, subject: action.subject.description, bytes: action.bytes, source: source, at: clock())
  }

  func finish(_ action: ApplyAction, audit: Int64?, _ outcome: ActionOutcome) {
    switch outcome {
    case .succeeded(let source, let bytes):
      summary.update { $0.succeeded[action.action, default: 0] += 1 }
      if let audit { try? ledger.finishAction(id: audit, outcome: .ok, bytes: bytes, detail: source, at: clock()) }
    case .failed(let cause):
      summary.update { $0.failures.append((action, cause)) }
      if let audit { try? ledger.finishAction(id: audit, outcome: cancellation.isCancelled ? .interrupted : .failed, bytes: nil, detail: cause, at: clock()) }
    }
    events(.actionFinished(action, outcome))
  }
}

/// A failure with its full, user-facing cause.
struct ApplyFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

extension Applier {
  /// The first line of a cause, for one-line records.
  static func firstLine(_ text: String) -> String {
    String(text.prefix { $0 != "\n" }).trimmingCharacters(in: CharacterSet(charactersIn: ": "))
  }
}

/// The views of one digest that belong to variants waiting for what they require.
struct GatedLinks: Sendable {
  /// The blob.
  var digest: Digest
  /// Its views in gated variants.
  var views: [ChangeSubject]
  /// The plan's link changes among them, reported when they are linked.
  var changes: [Change]
}

extension Applier {
  /// Each target variant that requires a variant this plan downloads, verifies or links, with
  /// everything it requires. A variant whose requirements are all in place is not gated.
  static func gates(_ plan: Plan) -> [VariantID: [VariantID]] {
    guard let requirements = plan.target.requires else { return [:] }
    let working = Set(plan.changes.filter { [.download, .verify, .link].contains($0.action) && $0.subject.tenant == nil }.map(\.subject.variant))
    var gates: [VariantID: [VariantID]] = [:]
    for requirement in requirements where requirement.requires.contains(where: working.contains) {
      gates[requirement.variant] = requirement.requires
    }
    return gates
  }

  /// Links the views of gated variants whose requirements did not fail in this run; the others
  /// stay unpublished (`waiting`) until a run verifies what they require.
  func linkGated() {
    let items = gatedLinks.current
    guard !items.isEmpty else { return }
    let failed = Set(summary.current.failures.map(\.action.subject.variant))
    let gates = self.gates.current
    var waiting: [VariantID: [VariantID]] = [:]
    for item in items {
      var ready: [ChangeSubject] = []
      for subject in item.views {
        let blockers = (gates[subject.variant] ?? []).filter(failed.contains)
        if blockers.isEmpty { ready.append(subject) } else { waiting[subject.variant] = blockers }
      }
      let changes = item.changes.filter { waiting[$0.subject.variant] == nil }
      let actions = changes.map { ApplyAction(action: .link, subject: $0.subject, bytes: 0) }
      do {
        try linkViews(ready, to: item.digest)
        for action in actions { finish(action, audit: beginAudit(action, source: nil), .succeeded(source: nil, bytes: 0)) }
      } catch {
        for action in actions { finish(action, audit: beginAudit(action, source: nil), .failed("\(error)")) }
        if actions.isEmpty, let subject = ready.first {
          summary.update { $0.failures.append((ApplyAction(action: .link, subject: subject, bytes: 0), "\(error)")) }
        }
      }
    }
    let sorted = waiting.sorted { $0.key < $1.key }.map { (variant: $0.key, requires: $0.value.sorted()) }
    summary.update { $0.waiting = sorted }
  }
}
