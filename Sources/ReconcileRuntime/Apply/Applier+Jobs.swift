import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

extension Applier {
  /// Makes one digest good on disk, then links its views.
  func run(_ job: DigestJob) {
    var blobIsGood = true
    var withdrawn: [String] = []
    if let primary = job.primary {
      let action = ApplyAction(action: primary.action, subject: primary.subject, bytes: primary.action == .link ? 0 : job.size)
      switch primary.action {
      case .verify: blobIsGood = verifyOrRefetch(job, action: action, withdrawn: &withdrawn)
      case .download:
        // A blob of the wrong size is wrong content: out of the store and out of every view
        // before the download, so nothing known bad stays visible if the download fails.
        if case .sizeMismatch = primary.reason, FileStatus.of(store.root.blob(job.digest)) != nil {
          let moved = (try? store.quarantineBlob(job.digest)) ?? store.root.blob(job.digest)
          summary.update { $0.quarantined.append(moved) }
          withdrawn = withdrawViews(linkedTo: moved)
        }
        blobIsGood = download(job, action: action)
      case .link: blobIsGood = adopt(job, action: action)
      case .publish, .evict, .unlink: break
      }
    }
    // Tenant views withdrawn from known-bad content point at the good blob again (the job links
    // its own views below); views of variants kept on disk stay withdrawn.
    if blobIsGood {
      for path in withdrawn where path.hasPrefix(store.root.tenants + "/") {
        try? StoreFiles.linkReplacing(store.root.blob(job.digest), at: path)
      }
    }
    guard blobIsGood else {
      for change in job.linkChanges {
        let action = ApplyAction(action: .link, subject: change.subject, bytes: 0)
        finish(action, audit: nil, .failed("\(action): its blob could not be fetched"))
      }
      return
    }
    // Views of a variant that requires something this run still works on wait until the end.
    var job = job
    let gates = self.gates.current
    if !gates.isEmpty {
      let later = GatedLinks(
        digest: job.digest, views: job.views.filter { gates[$0.variant] != nil }, changes: job.linkChanges.filter { gates[$0.subject.variant] != nil })
      if !later.views.isEmpty { gatedLinks.update { $0.append(later) } }
      job.views.removeAll { gates[$0.variant] != nil }
      job.linkChanges.removeAll { gates[$0.subject.variant] != nil }
    }
    let links = job.linkChanges.map { ApplyAction(action: .link, subject: $0.subject, bytes: 0) }
    do {
      try linkViews(job)
      for action in links { finish(action, audit: beginAudit(action, source: nil), .succeeded(source: nil, bytes: 0)) }
    } catch {
      for action in links { finish(action, audit: beginAudit(action, source: nil), .failed("\(error)")) }
      if links.isEmpty, let primary = job.primary {
        summary.update { $0.failures.append((ApplyAction(action: .link, subject: primary.subject, bytes: 0), "\(error)")) }
      }
    }
  }

  /// Rehashes a blob; on a mismatch it goes to quarantine and is fetched again.
  func verifyOrRefetch(_ job: DigestJob, action: ApplyAction, withdrawn: inout [String]) -> Bool {
    let path = store.root.blob(job.digest)
    let audit = beginAudit(action, source: nil)
    events(.actionStarted(action))
    let before = FileStatus.of(path)?.fingerprint
    do {
      let (digest, bytes) = try FileHasher.digest(ofFileAt: path, cancellation: cancellation)
      summary.update { $0.verifiedBytes += bytes }
      if digest == job.digest, bytes == job.size {
        // The content matched. When something touched the file while it was hashed (a chmod,
        // a backup restoring atime), it is not recorded as verified, so the next apply hashes
        // it again; it is not quarantined either.
        if let before, FileStatus.of(path)?.fingerprint == before { verified.update { $0[job.digest] = before } }
        finish(action, audit: audit, .succeeded(source: nil, bytes: bytes))
        return true
      }
      let moved = (try? store.quarantineBlob(job.digest)) ?? path
      summary.update { $0.quarantined.append(moved) }
      withdrawn = withdrawViews(linkedTo: moved)
      let cause = "\(action): content does not match (sha256 \(digest.short)…, \(bytes) bytes; expected \(job.digest.short)…, \(job.size) bytes); moved to \(moved), fetching again"
      if let audit { try? ledger.finishAction(id: audit, outcome: .mismatch, bytes: bytes, detail: cause, at: clock()) }
      events(.actionFinished(action, .failed(cause)))
    } catch {
      finish(action, audit: audit, .failed("\(action): \(error)"))
      return false
    }
    return download(job, action: ApplyAction(action: .download, subject: action.subject, bytes: job.size))
  }

  /// Removes every view that is a hard link to `file`, content known to be wrong: under
  /// `models/` (the job's views, and variants kept on disk) and `tenants/`, so nothing known bad
  /// stays visible when the refetch fails. Returns the paths removed, to link again to the good
  /// blob. The walk runs only when a blob failed.
  func withdrawViews(linkedTo file: String) -> [String] {
    guard let bad = FileStatus.of(file)?.fingerprint else { return [] }
    var removed: [String] = []
    for directory in [store.root.models, store.root.tenants] {
      removeLinks(to: bad, under: directory, removed: &removed)
    }
    return removed
  }

  /// Removes every regular file under `directory` that is a hard link to `bad`, without
  /// following symbolic links.
  func removeLinks(to bad: StatFingerprint, under directory: String, removed: inout [String]) {
    var found: [String] = []
    StoreFiles.walk(directory) { relative, status in
      if status.kind == .regular, status.fingerprint.isSameFile(as: bad) { found.append(directory + "/" + relative) }
    }
    for path in found where unlink(path) == 0 { removed.append(path) }
  }

  /// A view holds verified content whose blob is gone: the view's file becomes the blob again.
  func adopt(_ job: DigestJob, action: ApplyAction) -> Bool {
    let audit = beginAudit(action, source: nil)
    events(.actionStarted(action))
    guard let path = action.subject.path else { return false }
    let view = store.root.view(action.subject.variant) + "/" + path
    let blob = store.root.blob(job.digest)
    do {
      try StoreFiles.makeDirectories(PathText.parent(of: blob), inside: store.root.path)
      try StoreFiles.linkReplacing(view, at: blob, temporaryDirectory: store.root.temporary)
      if let fingerprint = FileStatus.of(blob)?.fingerprint { verified.update { $0[job.digest] = fingerprint } }
      finish(action, audit: audit, .succeeded(source: nil, bytes: 0))
      return true
    } catch {
      finish(action, audit: audit, .failed("\(action): \(error)"))
      return false
    }
  }

  /// Fetches the blob from its sources in order, retrying each with backoff, installing it
  /// only when its SHA-256 and size match.
  func download(_ job: DigestJob, action: ApplyAction) -> Bool {
    let locator = SourceLocator(baseDirectory: options.sourceBase)
    events(.actionStarted(action))
    var causes: [String] = []
    for planned in job.sources {
      let (source, path) = (planned.source, planned.path)
      let label = source.scheme.rawValue
      if cancellation.isCancelled { break }
      guard let transfer = transfers[source.scheme] else {
        causes.append("\(label): \(source.scheme.rawValue):// sources are not supported by this version of reconcile")
        continue
      }
      let url = locator.url(of: path, in: source)
      // What messages, events and the audit log name: a `user:password@` in the URL stays out.
      let shown = TransferError.redacted(url)
      guard !breaker.isOpen(source.url) else {
        causes.append("\(label): \(TransferError.redacted(source.url)) skipped: it failed \(breaker.threshold) times in a row in this run")
        continue
      }
      let audit = beginAudit(action, source: shown)
      /// Counts a failure of this source; true when the breaker opened and retries stop.
      func sourceFailed() -> Bool {
        guard breaker.recordFailure(source.url) else { return breaker.isOpen(source.url) }
        events(.warning("source \(TransferError.redacted(source.url)) failed \(breaker.threshold) times in a row; it is skipped for the rest of this run"))
        return true
      }
      var lastCause = ""
      attempts: for attempt in 1...max(1, options.retry.attempts) {
        if cancellation.isCancelled {
          lastCause = "cancelled (\(cancellation.reason ?? "stop requested")); the partial file is kept for the next run"
          break attempts
        }
        let partial = store.claimPartial(for: job.digest)
        var request = TransferRequest(url: url, destination: partial, expectedSize: job.size)
        request.expectedSHA256 = job.digest
        request.connectTimeout = options.connectTimeout
        request.stallTimeout = options.stallTimeout
        request.connections = options.connectionsPerFile
        request.cancellation = cancellation
        let events = self.events
        request.progress = { written, total in events(.progress(action, done: written, total: total ?? job.size)) }
        do {
          let result = try transfer.fetch(request)
          guard result.digest == job.digest, result.bytes == job.size else {
            store.discardPartial(partial)
            lastCause = "\(shown) served other content (sha256 \(result.digest.short)…, \(result.bytes) bytes; expected \(job.digest.short)…, \(job.size) bytes)"
            events(.sourceFailed(action, source: shown, cause: "content_mismatch"))
            _ = sourceFailed()
            break attempts
          }
          breaker.recordSuccess(source.url)
          try install(partial, job: job)
          summary.update { $0.downloadedBytes += result.bytes }
          finish(action, audit: audit, .succeeded(source: shown, bytes: result.bytes))
          return true
        } catch let error as TransferError {
          // With the URL: two sources of one scheme must be told apart in the final message.
          lastCause = error.description
          if error.kind != .cancelled { events(.sourceFailed(action, source: shown, cause: error.kind.metricLabel)) }
          if error.kind == .diskFull {
            finish(action, audit: audit, .failed(diskFull(action, job: job, partial: partial)))
            return false
          }
          // Bytes that arrived are kept for a resume; an empty file (an error status, no
          // connection) would only be litter in tmp/ once every source failed, and a source that
          // sent more than the file's size served other content: nothing of it is worth resuming.
          if error.kind == .tooLarge || FileStatus.of(partial)?.fingerprint.size == 0 { store.discardPartial(partial) }
          if error.kind != .cancelled, sourceFailed() { break attempts }
          guard error.isRetryable, attempt < options.retry.attempts else { break attempts }
          let pause = options.retry.pause(after: attempt, jitter: Double.random(in: 0.5...1.0), retryAfter: error.retryAfter)
          events(.retrying(action, source: shown, attempt: attempt, after: pause, cause: error.message + retryAfterNote(error.retryAfter)))
          cancellation.wait(seconds: pause)
        } catch {
          store.discardPartial(partial)
          lastCause = "\(error)"
          break attempts
        }
      }
      causes.append("\(label): \(lastCause)")
      if let audit { try? ledger.finishAction(id: audit, outcome: cancellation.isCancelled ? .interrupted : .failed, bytes: nil, detail: lastCause, at: clock()) }
    }
    let count = job.sources.count
    // One line per source and its cause, so a long list stays readable in a terminal or journal.
    let message = count == 1
      ? "\(action): the source failed (\(causes.joined(separator: "; ")))"
      : "\(action): all \(count) sources failed:" + causes.map { "\n  \($0)" }.joined()
    summary.update { $0.failures.append((action, message)) }
    events(.actionFinished(action, .failed(message)))
    return false
  }

  /// Gives up a download the filesystem has no room for: its partial file (and sidecar) goes,
  /// so the space is there for the other downloads, and the cause names the node, the file and
  /// the bytes still missing. Another source would not help; nothing verified is touched.
  func diskFull(_ action: ApplyAction, job: DigestJob, partial: String) -> String {
    let written = FileStatus.of(partial)?.fingerprint.size ?? 0
    store.discardPartial(partial)
    let missing = max(0, job.size - written)
    return "\(action): disk full on node \(node) (root \(store.root.path)): needed \(missing) more bytes"
      + " (\(ByteFormat.binary(missing))) to finish this \(job.size)-byte file after \(written) were written;"
      + " its partial file was removed and nothing verified was deleted — free space on the filesystem and run apply again"
  }

  /// Moves a verified partial file into the store; a wrong blob already there goes to quarantine.
  func install(_ partial: String, job: DigestJob) throws {
    let existing = store.root.blob(job.digest)
    if FileStatus.of(existing) != nil {
      if let moved = try? store.quarantineBlob(job.digest) { summary.update { $0.quarantined.append(moved) } }
    }
    try store.install(partial: partial, as: job.digest)
    if let fingerprint = FileStatus.of(existing)?.fingerprint { verified.update { $0[job.digest] = fingerprint } }
  }

  /// What a retry's cause says about the server's `Retry-After`: asked for, and whether
  /// `policy.retry.max_backoff` cut it short.
  func retryAfterNote(_ retryAfter: Double?) -> String {
    guard let retryAfter else { return "" }
    let asked = retryAfter < 1e12 ? "\(Int64(retryAfter.rounded(.up))) s" : "\(retryAfter) s"
    let cap = options.retry.maxBackoff
    return Double(cap) < retryAfter ? " (Retry-After \(asked), capped by policy.retry.max_backoff at \(cap) s)" : " (Retry-After \(asked))"
  }
}
