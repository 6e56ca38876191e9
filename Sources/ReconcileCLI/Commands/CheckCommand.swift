import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile check`: health for scripts and probes.
struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check", abstract: "Exit 0 when this node is converged and healthy; otherwise 1, with one line per reason.",
    discussion: """
      Healthy: every variant desired on this node is present and verified, the last run succeeded \
      (within --max-age, when given), the disk has policy.min_free free, and in a fleet the node's \
      heartbeat is younger than policy.fleet.node_ttl. Reads only; 'status' shows the details.
      """)

  @OptionGroup var global: GlobalOptions

  @Option(help: ArgumentHelp("Also fail when the last successful run ended longer ago than this (for example 30m, 2h).", valueName: "duration"))
  var maxAge: DurationArgument?

  func run() throws {
    let healthy = try ErrorReporting.run { () -> Bool in
      let session = try global.session()
      let metrics = try session.metrics()
      let problems = metrics.problems(maxAge: maxAge.map { Double($0.seconds) })
      let desired = metrics.variants.filter { $0.key != .unwanted }.values.reduce(0, +)
      if problems.isEmpty {
        let last = metrics.stats.lastRun.map { " last run \($0.id) ok, \(Durations.compact(Int64(Date().timeIntervalSince($0.finishedAt)))) ago;" } ?? ""
        let message = "ok: node \(session.node):\(last) \(desired) desired variant\(desired == 1 ? "" : "s") verified."
        if Log.isJSON { Log.line(level: "info", event: "check", message: message, fields: ["healthy": true]) } else { print(message) }
        return true
      }
      for problem in problems {
        if Log.isJSON {
          Log.line(level: "error", event: "check", message: problem.description, fields: ["healthy": false])
        } else {
          print("unhealthy: \(problem)")
        }
      }
      return false
    }
    if !healthy { throw ExitCode.failure }
  }
}
