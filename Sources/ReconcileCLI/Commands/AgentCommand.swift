import ArgumentParser
import Dispatch
import Foundation
import ReconcileAgent
import ReconcileCore
import ReconcileRuntime

/// `reconcile agent`: the long-running mode (Kubernetes, or faster convergence than a timer).
struct AgentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "agent", abstract: "Apply in a loop and serve /metrics, /healthz, /readyz and /v1/status.",
    discussion: """
      Runs plan and apply every --interval (with ±10% jitter), at once on SIGHUP and when the \
      desired-state files change; a failed run is retried after 10 s, 20 s, 40 s … up to the \
      interval. SIGTERM or SIGINT stops the run in flight (partial downloads are kept) and exits \
      143 or 130. /readyz and /v1/status need 'Authorization: Bearer TOKEN' when --token-file is set.
      """)

  @OptionGroup var global: GlobalOptions

  @Option(help: ArgumentHelp("Time between runs (or config 'interval'; default 5m).", valueName: "duration"))
  var interval: DurationArgument?

  @Option(help: ArgumentHelp("Address of the HTTP server, HOST:PORT (or config 'listen'; default 127.0.0.1:9400; port 0 picks a free one).", valueName: "address"))
  var listen: String?

  @Option(help: ArgumentHelp("File holding the bearer token /readyz and /v1/status require (or config 'token_file').", valueName: "file"))
  var tokenFile: String?

  @Option(help: ArgumentHelp("Also write the metrics to FILE after each run, in the textfile-collector format (or config 'metrics_file').", valueName: "file"))
  var metricsFile: String?

  @Option(help: ArgumentHelp("Seconds to wait for another run on this root to finish.", valueName: "seconds"))
  var lockTimeout: Double = 60

  func run() throws {
    Shutdown.commandIsCancellable()
    let failed = try ErrorReporting.run { () -> Bool in
      let settings = try global.settings()
      let session = global.session(settings)
      let seconds = try interval?.seconds ?? settings.agent["interval"].map { text -> Int64 in
        guard let value = DurationArgument(argument: text) else { throw ValidationError("config 'interval' = '\(text)' is not a duration such as 5m or 1h") }
        return value.seconds
      } ?? 300
      guard seconds >= 1 else { throw ValidationError("--interval must be at least 1s") }
      let (host, port) = try Self.address(listen ?? settings.agent["listen"] ?? "127.0.0.1:9400")
      let token = try (tokenFile ?? settings.agent["token_file"]).map(Self.readToken)
      let runSettings = ReconcileSettings(lockTimeout: lockTimeout, user: Invocation.user, command: Invocation.command)
      let reporter = ProgressReporter(live: false, format: global.logFormat)
      let metricsPath = metricsFile ?? settings.metricsFile
      var configuration = Agent.Configuration(interval: Double(seconds), host: host, port: port, token: token)
      configuration.jitter = 0.1
      let agent = Agent(
        session: session, settings: runSettings, configuration: configuration, cancellation: Shutdown.flag,
        log: { level, event, message, fields in Log.line(level: level, event: event, message: message, fields: fields) },
        willRun: { reconciler in Log.set(run: reconciler.runID) },
        events: reporter.handle,
        didRun: { metrics in
          guard let metricsPath else { return }
          do { try MetricsFile.write(MetricsExposition.render(metrics), to: metricsPath) } catch {
            Log.line(level: "warning", event: "warning", message: "\(error)")
          }
        })
      Log.line(level: "info", event: "agent_started", message: "agent for node \(session.node): desired \(session.desired.path), root \(session.root.path), every \(Durations.compact(seconds))", fields: ["interval_s": seconds])
      let result = Locked<(any Error)?>(nil)
      let done = DispatchSemaphore(value: 0)
      Task.detached {
        do { try await agent.run() } catch { result.update { $0 = error } }
        done.signal()
      }
      done.wait()
      Log.set(run: nil)
      if let error = result.update({ $0 }) { throw error }
      if let signal = Shutdown.signalName {
        Log.line(level: "info", event: "stopped", message: "agent stopped by \(signal)", fields: ["signal": signal])
      }
      return false
    }
    Shutdown.exitIfSignalled()
    if failed { throw ExitCode.failure }
  }

  /// `HOST:PORT`, `[::1]:PORT` or `:PORT` (every address).
  static func address(_ text: String) throws -> (String, Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
      throw ValidationError("listen address '\(text)' is not HOST:PORT (for example 127.0.0.1:9400 or 0.0.0.0:9400)")
    }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host.isEmpty ? "0.0.0.0" : host, port)
  }

  /// The token in `path`, without surrounding whitespace; never logged.
  static func readToken(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("cannot read the token file '\(path)'")
    }
    let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard !token.isEmpty else { throw ValidationError("the token file '\(path)' is empty") }
    return token
  }
}
