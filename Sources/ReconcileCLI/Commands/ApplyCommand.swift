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

  @Option(help: ArgumentHelp("Write this node's metrics to FILE after the run, atomically, in the node_exporter textfile-collector format (or config 'metrics_file').", valueName: "file"))
  var metricsFile: String?

  func run() throws {
    Shutdown.commandIsCancellable()
    let outcome = try ErrorReporting.run { () -> Bool in
      let settings = try global.settings()
      let saved = try planFile.map { file -> Plan in
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read the plan '\(file)'") }
        do { return try PlanRenderer.decode(data) } catch { throw ValidationError("'\(file)' is not a plan saved by 'reconcile plan -o': \(error)") }
      }
      let run = ReconcileSettings(lockTimeout: lockTimeout, user: Invocation.user, command: Invocation.command)
      let reporter = ProgressReporter(live: isatty(STDERR_FILENO) == 1, format: global.logFormat)
      let session = global.session(settings)
      let reconciler = Reconciler(session: session, settings: run, cancellation: Shutdown.flag, events: reporter.handle)
      Log.set(run: reconciler.runID)
      let json = Log.isJSON
      defer {
        if let path = metricsFile ?? settings.metricsFile { MetricsFileWriter.write(session: session, to: path) }
      }
      let outcome = try reconciler.run(saved: saved) { plan in
        if json {
          Log.line(level: "info", event: "plan", message: PlanRenderer.oneLine(plan), fields: ["changes": plan.changes.count, "bytes": plan.changes.filter { [.download, .verify].contains($0.action) }.reduce(Int64(0)) { $0 + $1.bytes }])
        } else {
          print(PlanRenderer.human(plan, color: Terminal.stdoutWantsColor), terminator: "")
        }
        if saved == nil, !autoApprove {
          guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("refusing to apply without confirmation: standard input is not a terminal. Pass --auto-approve, or save a plan with 'reconcile plan -o plan.json' and run 'reconcile apply plan.json'")
          }
          print("\nApply these changes to node \(plan.node)? Only 'yes' is accepted: ", terminator: "")
          guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else { return false }
        }
        if !json { print("") }
        fflush(nil)
        return true
      }
      var lines: [String] = []
      let success: Bool
      switch outcome {
      case .noChanges(let plan):
        lines.append("No changes. Node \(plan.node) matches the desired state.")
        // A drain or move waiting for other nodes is worth a line: nothing changes yet, on purpose.
        for kept in plan.kept {
          if case .waitingForReplicas = kept.reason { lines.append("kept: \(kept.variant) (\(kept.reason.summary(now: plan.createdAt)))") }
        }
        success = true
      case .declined:
        lines.append("Apply cancelled; nothing was changed.")
        success = true
      case .applied(let plan, let summary):
        lines.append(ApplySummaryRenderer.text(summary, plan: plan))
        success = summary.isSuccess
      }
      if json {
        // The closing lines as one object; `finished` already carried the numbers.
        Log.line(level: success ? "info" : Shutdown.exitCode != nil ? "warning" : "error", event: "summary", message: lines.joined(separator: "\n"))
      } else {
        print(lines.joined(separator: "\n"))
      }
      return success
    }
    Shutdown.exitIfSignalled()
    if !outcome { throw ExitCode.failure }
  }
}
