import Foundation
import Hummingbird
import Logging
import ReconcileCore
import ReconcileRuntime
import ServiceLifecycle
import UnixSignals

/// `reconcile agent`: the reconcile loop every `interval` (with jitter), at once on SIGHUP or
/// when the desired-state files change, never two runs at once, failed runs retried with
/// backoff; and an HTTP server for `/metrics`, `/healthz`, `/readyz` and `/v1/status`. SIGTERM
/// and SIGINT stop it in order: the loop first (the run in flight is cancelled and recorded),
/// then the server. Under systemd (`Type=notify`) it reports READY and STOPPING.
public struct Agent: Sendable {
  /// How the agent runs.
  public struct Configuration: Sendable {
    /// Seconds between runs after a success.
    public var interval: Double
    /// Each wait is the interval times a random factor in 1 ± `jitter`.
    public var jitter: Double = 0.1
    /// Where the HTTP server listens.
    public var host: String
    /// Its port; 0 picks a free one (the log line says which).
    public var port: Int
    /// The bearer token `/readyz` and `/v1/status` require, when set.
    public var token: String?
    /// Seconds between looks at the desired-state files for a change.
    public var watchInterval: Double = 2
    /// The first pause after a failed run; it doubles up to `interval`.
    public var retryBackoff: Double = 10
    /// Seconds after which cached metrics are read again for a scrape.
    public var metricsMaxAge: Double = 10

    /// Creates a configuration.
    public init(interval: Double, host: String, port: Int, token: String?) {
      self.interval = interval
      self.host = host
      self.port = port
      self.token = token
    }
  }

  /// What a run needs: the session, the run settings, and a sink for each run's events.
  public var session: Session
  /// The run settings (lock timeout, user, command).
  public var settings: ReconcileSettings
  /// How the agent runs.
  public var configuration: Configuration
  /// Set by the first SIGTERM or SIGINT: the run in flight stops and the loop ends.
  public var cancellation: CancellationFlag
  /// Log lines: level, event, message, fields.
  public var log: @Sendable (String, String, String, [String: String]) -> Void
  /// Called with each run's reconciler before it runs (a JSON logger takes its run id).
  public var willRun: @Sendable (Reconciler) -> Void
  /// Each event of each run.
  public var events: @Sendable (ApplyEvent) -> Void
  /// After each run, with the node's metrics (the CLI writes `--metrics-file`).
  public var didRun: @Sendable (NodeMetrics) -> Void

  /// Creates an agent.
  public init(
    session: Session, settings: ReconcileSettings, configuration: Configuration, cancellation: CancellationFlag,
    log: @escaping @Sendable (String, String, String, [String: String]) -> Void,
    willRun: @escaping @Sendable (Reconciler) -> Void = { _ in }, events: @escaping @Sendable (ApplyEvent) -> Void = { _ in },
    didRun: @escaping @Sendable (NodeMetrics) -> Void = { _ in }
  ) {
    self.session = session
    self.settings = settings
    self.configuration = configuration
    self.cancellation = cancellation
    self.log = log
    self.willRun = willRun
    self.events = events
    self.didRun = didRun
  }

  /// Runs until SIGTERM or SIGINT; returns after the loop and the server stopped.
  public func run() async throws {
    let state = AgentState(session: session, maxAge: configuration.metricsMaxAge)
    let wakeup = Wakeup()
    let loop = ReconcileLoop(agent: self, state: state, wakeup: wakeup)
    let log = self.log
    let notifier = SystemdNotifier.fromEnvironment()
    let router = AgentRoutes.router(state: state, token: configuration.token)
    let server = Application(
      router: router,
      configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? 0
        log("info", "listening", "agent listening on \(channel.localAddress?.ipAddress ?? "?"):\(port)", ["port": String(port)])
        notifier?.notify("READY=1\nSTATUS=listening on port \(port)")
      },
      logger: ForwardingLogHandler.logger(label: "reconcile.http", log: log))
    let group = ServiceGroup(
      configuration: ServiceGroupConfiguration(
        // Shut down in reverse order: the loop (cancelling its run) before the server.
        services: [.init(service: server), .init(service: loop)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: ForwardingLogHandler.logger(label: "reconcile.agent", log: log)))
    let signals = Task {
      for await _ in await UnixSignalsSequence(trapping: .sighup) {
        log("info", "reload", "SIGHUP: running now", [:])
        wakeup.signal(.reload)
      }
    }
    defer { signals.cancel() }
    do {
      try await group.run()
    } catch {
      notifier?.notify("STOPPING=1")
      throw AgentError(description: "the agent stopped: \(error)")
    }
    notifier?.notify("STOPPING=1")
  }
}

/// Why the agent could not run (its port taken, say).
public struct AgentError: Error, CustomStringConvertible {
  /// What happened.
  public var description: String
}

/// The loop as a service: its blocking runs happen on a thread of their own, off the
/// concurrency pool the HTTP server uses.
struct ReconcileLoop: Service {
  let agent: Agent
  let state: AgentState
  let wakeup: Wakeup

  func run() async throws {
    let thread = LoopThread(body: { self.loop() })
    await withGracefulShutdownHandler {
      await thread.run()
    } onGracefulShutdown: {
      agent.cancellation.cancel(reason: "SIGTERM")
      wakeup.signal(.stop)
    }
  }

  /// Runs until stopped: run, then wait for the interval, a change, SIGHUP or the stop.
  func loop() {
    let configuration = agent.configuration
    let watcher = DesiredWatcher(path: agent.session.desired.path)
    var failures = 0
    while !agent.cancellation.isCancelled {
      let succeeded = runOnce()
      if agent.cancellation.isCancelled { break }
      failures = succeeded ? 0 : failures + 1
      let pause: Double
      if succeeded {
        pause = configuration.interval * Double.random(in: (1 - configuration.jitter)...(1 + configuration.jitter))
      } else {
        // 10 s, 20 s, 40 s … up to the interval: a broken commit or a dead mirror is retried
        // soon, without hammering anything.
        pause = min(configuration.interval, configuration.retryBackoff * pow(2, Double(min(failures - 1, 20))))
        agent.log("info", "backoff", "run failed; next try in \(Int(pause.rounded())) s", ["seconds": String(Int(pause.rounded()))])
      }
      let deadline = Date(timeIntervalSinceNow: pause)
      var baseline = watcher.fingerprint()
      waiting: while !agent.cancellation.isCancelled {
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { break waiting }
        switch wakeup.wait(seconds: min(left, configuration.watchInterval)) {
        case .reload, .stop: break waiting
        case nil:
          let now = watcher.fingerprint()
          if now != baseline {
            agent.log("info", "desired_changed", "the desired state in \(agent.session.desired.path) changed: running now", [:])
            baseline = now
            break waiting
          }
        }
      }
    }
  }

  /// One run; returns whether it succeeded.
  func runOnce() -> Bool {
    let reconciler = Reconciler(session: agent.session, settings: agent.settings, cancellation: agent.cancellation, events: agent.events)
    agent.willRun(reconciler)
    state.runStarted()
    var succeeded = false
    do {
      let outcome = try reconciler.run()
      switch outcome {
      case .noChanges(let plan):
        agent.log("info", "summary", "No changes. Node \(plan.node) matches the desired state.", [:])
        succeeded = true
      case .declined:
        succeeded = true
      case .applied(let plan, let summary):
        succeeded = summary.isSuccess
        let level = summary.isSuccess ? "info" : summary.cancelled != nil ? "warning" : "error"
        agent.log(level, "summary", ApplySummaryRenderer.text(summary, plan: plan), [:])
      }
    } catch {
      if !agent.cancellation.isCancelled { agent.log("error", "error", "\(error)", [:]) }
    }
    let metrics = state.runFinished()
    agent.didRun(metrics)
    return succeeded
  }
}

/// What the server reads: the latest metrics (read again when older than `maxAge`) and whether
/// a run is in flight.
final class AgentState: @unchecked Sendable {
  private let lock = NSLock()
  private let session: Session
  private let maxAge: Double
  private var cached: (NodeMetrics, (any Error)?)?
  private var running = false
  /// The desired state last read for metrics and the files it was read from: a scrape reads
  /// the files again (milliseconds) but loads them again only when they changed (most of a
  /// second for 10,000 models).
  private var desired: (files: [DesiredFile], loaded: LoadedDesiredState)?

  init(session: Session, maxAge: Double) {
    self.session = session
    self.maxAge = maxAge
  }

  func runStarted() { lock.withLock { running = true } }

  /// Reads the node again after a run and returns it.
  func runFinished() -> NodeMetrics {
    let fresh = session.metricsOrStats(loading: loadDesired)
    lock.withLock {
      cached = fresh
      running = false
    }
    return fresh.0
  }

  /// The node's metrics at most `maxAge` seconds old, with the time set to now.
  func metrics() -> (NodeMetrics, (any Error)?) {
    let current = lock.withLock { cached }
    if var current, Date().timeIntervalSince(current.0.at) < maxAge {
      current.0.at = Date()
      return current
    }
    let fresh = session.metricsOrStats(loading: loadDesired)
    lock.withLock { cached = fresh }
    return fresh
  }

  /// The desired state, loaded again only when its files' content changed.
  private func loadDesired() throws -> LoadedDesiredState {
    let files = try session.desired.files()
    if let last = lock.withLock({ desired }), last.files == files { return last.loaded }
    let loaded = try DesiredStateLoader.load(files)
    lock.withLock { desired = (files, loaded) }
    return loaded
  }

  /// The session, for `/v1/status`.
  var node: Session { session }
}

/// Why the loop woke before its time.
enum WakeReason: Sendable {
  /// SIGHUP.
  case reload
  /// Shutdown.
  case stop
}

/// A wakeup the loop thread waits on.
final class Wakeup: @unchecked Sendable {
  private let condition = NSCondition()
  private var pending: WakeReason?

  func signal(_ reason: WakeReason) {
    condition.withLock {
      if pending != .stop { pending = reason }
      condition.broadcast()
    }
  }

  /// Waits up to `seconds`; returns the reason it was woken, or nil when the time passed.
  func wait(seconds: Double) -> WakeReason? {
    let deadline = Date(timeIntervalSinceNow: seconds)
    return condition.withLock {
      while pending == nil, condition.wait(until: deadline) {}
      defer { if pending != .stop { pending = nil } }
      return pending
    }
  }
}

/// A thread whose end can be awaited.
final class LoopThread: @unchecked Sendable {
  private let body: @Sendable () -> Void

  init(body: @escaping @Sendable () -> Void) { self.body = body }

  func run() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let thread = Thread {
        self.body()
        continuation.resume()
      }
      thread.name = "reconcile-loop"
      thread.stackSize = 8 << 20
      thread.start()
    }
  }
}

/// A fingerprint of the desired-state files (names, sizes, modification times), to notice a
/// `git pull` or a git-sync update (which swaps a symlink) without reading them.
struct DesiredWatcher {
  let path: String

  func fingerprint() -> [String] {
    let resolved = (path as NSString).resolvingSymlinksInPath
    guard let enumerator = FileManager.default.enumerator(atPath: resolved) else { return [] }
    var entries: [String] = [resolved]
    while let name = enumerator.nextObject() as? String {
      guard name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".toml") else { continue }
      guard let status = FileStatus.of(resolved + "/" + name) else { continue }
      entries.append("\(name) \(status.fingerprint.size) \(status.fingerprint.mtimeNs) \(status.fingerprint.inode)")
    }
    return entries.sorted()
  }
}
