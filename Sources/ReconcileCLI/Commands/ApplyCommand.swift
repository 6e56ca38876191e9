import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile apply [PLAN]`: make this node match the desired state.
struct ApplyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply", abstract: "Download, verify, link and evict so this node matches the desired state.",
    discussion: "Without PLAN, plans first and asks for confirmation on a terminal (or needs --auto-approve). With PLAN (from 'reconcile plan -o'), runs exactly that plan, or refuses it when the desired state or the node changed since.")

  @Argument(help: ArgumentHelp("A plan saved with 'reconcile plan -o FILE'.", valueName: "plan"))
  var planFile: String?

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Apply without asking for confirmation.")
  var autoApprove = false

  @Option(help: ArgumentHelp("Seconds to wait for another apply on this root to finish.", valueName: "seconds"))
  var lockTimeout: Double = 60

  @Option(help: ArgumentHelp("Progress and log output on standard error: text or json.", valueName: "format"))
  var logFormat: String = "text"

  func run() throws {
    let outcome = try ErrorReporting.run { () -> Bool in
      guard let format = LogFormat(rawValue: logFormat) else {
        throw ValidationError("--log-format must be text or json, got '\(logFormat)'")
      }
      let settings = try global.settings()
      let session = global.session(settings)
      let saved = try planFile.map { file -> Plan in
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read the plan '\(file)'") }
        do { return try PlanRenderer.decode(data) } catch { throw ValidationError("'\(file)' is not a plan saved by 'reconcile plan -o': \(error)") }
      }
      let command = (["reconcile"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
      let prepared = try session.prepareApply(saved: saved, lockTimeout: lockTimeout, command: command)
      defer { prepared.lock.release() }
      let plan = prepared.plan
      guard plan.hasChanges else {
        print("No changes. Node \(plan.node) matches the desired state.")
        try Session.recordGrace(plan, desired: prepared.desired, registry: prepared.registry)
        // The plan does not cover tenant views; they converge on every run, changes or not.
        let views = try Applier.refreshTenantViews(
          root: session.root, registry: prepared.registry, desired: prepared.desired, observed: prepared.observed, node: plan.node)
        if !views.tenants.isEmpty { print("Updated tenant views: \(views.tenants.joined(separator: ", ")).") }
        try publishCache(settings, session: session, prepared: prepared)
        return true
      }
      print(PlanRenderer.human(plan, color: Terminal.stdoutWantsColor), terminator: "")
      if saved == nil, !autoApprove {
        guard isatty(STDIN_FILENO) == 1 else {
          throw ValidationError("refusing to apply without confirmation: standard input is not a terminal. Pass --auto-approve, or save a plan with 'reconcile plan -o plan.json' and run 'reconcile apply plan.json'")
        }
        print("\nApply these changes to node \(plan.node)? Only 'yes' is accepted: ", terminator: "")
        guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
          print("Apply cancelled; nothing was changed.")
          return true
        }
      }
      print("")
      fflush(nil)
      let reporter = ProgressReporter(live: isatty(STDERR_FILENO) == 1, format: format)
      var options = ApplyOptions(
        concurrency: prepared.desired.policy.concurrency, retry: prepared.desired.policy.retry,
        user: ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())",
        command: command, sourceBase: settings.desired, desiredCommit: plan.desired.commit)
      options.stallTimeout = 30
      let target = try NodeTarget.resolve(prepared.desired, node: plan.node)
      let transfers = TenantTransferLimits(prepared.desired, target: target).wrapping(Session.transfers(settings: settings.sources))
      let applier = Applier(root: session.root, registry: prepared.registry, transfers: transfers, options: options, events: reporter.handle)
      let summary = try applier.apply(plan, desired: prepared.desired, observed: prepared.observed)
      print(ApplySummaryRenderer.text(summary, plan: plan))
      // The cache is published from a store known good: after a run with failures it waits.
      if summary.isSuccess { try publishCache(settings, session: session, prepared: prepared) }
      return summary.isSuccess
    }
    if !outcome { throw ExitCode.failure }
  }
}

extension ApplyCommand {
  /// Publishes the node's Hub models as a Hugging Face cache when `hf_cache` is set; only
  /// variants whose files are all in the store are published.
  func publishCache(_ settings: Settings, session: Session, prepared: PreparedApply) throws {
    guard let cache = settings.hfCache else { return }
    let target = try NodeTarget.resolve(prepared.desired, node: prepared.plan.node)
    let complete = target.variants.filter { id in
      prepared.desired.model(id.model)?.variant(id.variant)?.files.allSatisfy { FileStatus.of(session.root.blob($0.sha256)) != nil } ?? false
    }
    // A new hard link changes a blob's ctime: record the new fingerprint of every blob trusted
    // before, as apply does after its own links, so that the next run hashes nothing.
    let verified = try prepared.registry.verifiedDigests()
    var trusted: [Digest: StatFingerprint] = [:]
    for id in complete {
      for file in prepared.desired.model(id.model)?.variant(id.variant)?.files ?? [] {
        if let fingerprint = FileStatus.of(session.root.blob(file.sha256))?.fingerprint, verified[fingerprint] == file.sha256 {
          trusted[file.sha256] = fingerprint
        }
      }
    }
    let published = try HFCachePublisher(root: session.root, cache: cache).publish(prepared.desired, variants: complete)
    let relinked = trusted.compactMap { digest, before -> (StatFingerprint, Digest)? in
      guard let now = FileStatus.of(session.root.blob(digest))?.fingerprint, now != before, now.keepsContent(of: before) else { return nil }
      return (now, digest)
    }
    try prepared.registry.recordVerified(relinked, at: Date())
    if !published.isEmpty { print("Hugging Face cache \(cache): \(published.joined(separator: ", ")).") }
  }
}

/// The closing lines of an apply.
enum ApplySummaryRenderer {
  static func text(_ summary: ApplySummary, plan: Plan) -> String {
    var parts: [String] = []
    for action in Action.allCases {
      let count = summary.succeeded[action] ?? 0
      guard count > 0 else { continue }
      let files = count == 1 ? "1 file" : "\(count) files"
      switch action {
      case .download: parts.append("\(files) downloaded (\(ByteFormat.binary(summary.downloadedBytes)))")
      case .verify: parts.append("\(files) verified (\(ByteFormat.binary(summary.verifiedBytes)))")
      case .link: parts.append("\(files) linked")
      case .evict: parts.append("\(count) evicted (freed \(ByteFormat.binary(summary.freedBytes)))")
      }
    }
    let took = "in \(ByteFormat.fixed(summary.seconds, 1)) s"
    var lines: [String] = []
    for path in summary.quarantined { lines.append("quarantined: \(path)") }
    if !summary.tenantViews.isEmpty { lines.append("Updated tenant views: \(summary.tenantViews.joined(separator: ", ")).") }
    if summary.isSuccess {
      lines.append("Apply complete: \(parts.isEmpty ? "nothing to do" : parts.joined(separator: ", ")) \(took).")
    } else {
      for failure in summary.failures { lines.append("error: \(failure.cause)") }
      for action in summary.deferred { lines.append("kept: \(action.subject) is not evicted yet, since a download failed; the next successful apply evicts it") }
      let done = parts.isEmpty ? "" : " Done: \(parts.joined(separator: ", "))."
      lines.append("Apply failed: \(summary.failures.count) of \(plan.changes.count) actions failed \(took).\(done) Run apply again to retry; what succeeded stays.")
    }
    return lines.joined(separator: "\n")
  }
}
