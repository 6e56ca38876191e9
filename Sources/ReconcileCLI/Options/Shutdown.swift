import Dispatch
import Foundation
import ReconcileRuntime

/// SIGTERM and SIGINT for every command. The first signal cancels `Shutdown.flag`: a command
/// that polls it (apply, verify, gc, lock, agent) starts nothing new, stops its transfers and
/// hashes, records what finished, prints one final line and exits 143 (SIGTERM) or 130
/// (SIGINT). Any other command exits at once with that line. A second signal exits at once;
/// so does a command still running 4.5 s after the first.
enum Shutdown {
  /// Cancelled by the first SIGTERM or SIGINT; its reason is the signal's name.
  static let flag = CancellationFlag()

  private static let state = Locked(ShutdownState())
  private static let queue = DispatchQueue(label: "reconcile.signals")
  nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

  /// Seconds a cancellable command has, after the first signal, before the process exits anyway.
  static let deadline = 4.5

  /// Installs the handlers; call once, before the command runs.
  static func install() {
    for signo in [SIGTERM, SIGINT] {
      signal(signo, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
      source.setEventHandler { received(signo) }
      source.resume()
      sources.append(source)
    }
  }

  /// Marks the running command as one that polls `flag` and ends on its own when it is set.
  static func commandIsCancellable() { state.update { $0.cancellable = true } }

  /// 143 after SIGTERM, 130 after SIGINT; nil when no signal came.
  static var exitCode: Int32? { state.update { $0.first.map { 128 + $0 } } }

  /// `SIGTERM` or `SIGINT` when one came.
  static var signalName: String? { state.update { $0.first.map(name) } }

  /// Exits with the signal's code when one came (after the command said its final line).
  static func exitIfSignalled() {
    if let code = exitCode {
      fflush(nil)
      exit(code)
    }
  }

  static func name(_ signo: Int32) -> String { signo == SIGINT ? "SIGINT" : "SIGTERM" }

  private static func received(_ signo: Int32) {
    let (count, cancellable) = state.update { state -> (Int, Bool) in
      state.count += 1
      if state.first == nil { state.first = signo }
      return (state.count, state.cancellable)
    }
    let code = 128 + (state.update { $0.first } ?? signo)
    guard count == 1 else {
      Log.final("interrupted", message: "\(name(signo)) again: stopping now without cleanup; partial downloads are kept for resume", signal: name(signo))
      _exit(code)
    }
    flag.cancel(reason: name(signo))
    guard cancellable else {
      Log.final("interrupted", message: "interrupted by \(name(signo))", signal: name(signo))
      _exit(code)
    }
    Log.line(level: "info", event: "stopping", message: "\(name(signo)): stopping; nothing new starts, transfers stop and keep their partial files", fields: ["signal": name(signo)])
    queue.asyncAfter(deadline: .now() + deadline) {
      Log.final("interrupted", message: "still stopping \(deadline) s after \(name(signo)); exiting now (partial downloads are kept for resume)", signal: name(signo))
      _exit(code)
    }
  }
}

/// What the signal handlers share.
private struct ShutdownState {
  var count = 0
  var first: Int32?
  var cancellable = false
}
