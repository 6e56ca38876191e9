import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// How apply reports progress: live bars on a terminal, one line per action otherwise, or JSON lines.
enum LogFormat: String, CaseIterable, ExpressibleByArgument {
  case text, json
}

/// Turns apply events into output. Events arrive from worker threads; everything here is serialised.
final class ProgressReporter: @unchecked Sendable {
  private let lock = NSLock()
  private let live: Bool
  private let format: LogFormat
  private var active: [ApplyAction: (done: Int64, total: Int64, started: Date)] = [:]
  private var totalBytes: Int64 = 0
  private var finishedBytes: Int64 = 0
  private var drawnLines = 0
  private var lastDraw = Date.distantPast
  private let start = Date()

  /// `live` draws bars (a terminal on standard error); otherwise lines are printed.
  init(live: Bool, format: LogFormat) {
    self.live = live && format == .text
    self.format = format
  }

  func handle(_ event: ApplyEvent) {
    lock.lock()
    defer { lock.unlock() }
    if format == .json {
      if case .progress = event { return }
      write(json: event)
      return
    }
    switch event {
    case .started(_, let bytes):
      totalBytes = bytes
    case .actionStarted(let action):
      active[action] = (0, action.bytes, Date())
      if !live { line("\(action): start" + (action.bytes > 0 ? " (\(ByteFormat.binary(action.bytes)))" : "")) }
    case .progress(let action, let done, let total):
      active[action] = (done, total, active[action]?.started ?? Date())
      if live, Date().timeIntervalSince(lastDraw) > 0.1 { draw() }
    case .retrying(let action, let source, let attempt, let after, let cause):
      if live { clear() }
      line("\(action): retry \(source) after attempt \(attempt), waiting \(ByteFormat.fixed(after, 1)) s: \(cause)")
    case .actionFinished(let action, let outcome):
      let started = active.removeValue(forKey: action)?.started ?? Date()
      if [.download, .verify].contains(action.action), outcome.isSuccess { finishedBytes += action.bytes }
      if live { clear() }
      switch outcome {
      case .succeeded(let source, let bytes):
        // On a terminal the bars show links and evictions; only transfers and hashes get a line.
        if !live || [.download, .verify].contains(action.action) {
          var text = "\(action): done"
          if bytes > 0 { text += " \(ByteFormat.binary(bytes)) in \(ByteFormat.fixed(Date().timeIntervalSince(started), 2)) s" }
          if let source { text += " from \(source)" }
          line(text)
        }
      case .failed(let cause):
        line(cause)
      }
      if live { draw() }
    case .sourceFailed:
      // The retry line or the final failure says it in words.
      break
    case .finished:
      if live { clear() }
    case .warning(let message):
      if live { clear() }
      line("warning: \(message)")
    }
  }

  /// One JSON object per line: the event as `ApplyEvent` encodes it, with time, level, node and run.
  private func write(json event: ApplyEvent) {
    let level: String
    switch event {
    case .retrying, .sourceFailed, .warning: level = "warning"
    case .actionFinished(_, let outcome): level = outcome.isSuccess ? "info" : "error"
    case .finished(let summary): level = summary.isSuccess ? "info" : summary.cancelled != nil ? "warning" : "error"
    case .started, .actionStarted, .progress: level = "info"
    }
    Log.json(level: level, encoding: event)
  }

  private func line(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// Redraws one bar per active transfer and a total line, below the log lines.
  private func draw() {
    lastDraw = Date()
    clear()
    var lines: [String] = []
    for (action, state) in active.sorted(by: { $0.value.started < $1.value.started }).prefix(8) where state.total > 0 {
      lines.append(bar(label: action.subject.description, done: state.done, total: state.total, started: state.started))
    }
    let inFlight = active.values.reduce(Int64(0)) { $0 + $1.done }
    if totalBytes > 0 { lines.append(bar(label: "total", done: finishedBytes + inFlight, total: totalBytes, started: start)) }
    for line in lines { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    drawnLines = lines.count
  }

  private func clear() {
    guard drawnLines > 0 else { return }
    FileHandle.standardError.write(Data(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines).utf8))
    drawnLines = 0
  }

  private func bar(label: String, done: Int64, total: Int64, started: Date) -> String {
    let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
    let width = 24
    let filled = Int(fraction * Double(width))
    let elapsed = max(0.001, Date().timeIntervalSince(started))
    let rate = Double(done) / elapsed
    let eta = rate > 0 ? Int64(Double(total - done) / rate) : 0
    let name = label.count > 48 ? "…" + label.suffix(47) : label
    return "  \(name.padding(toLength: 48, withPad: " ", startingAt: 0)) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(ByteFormat.binary(done))/\(ByteFormat.binary(total)) \(ByteFormat.binary(Int64(rate)))/s ETA \(Durations.compact(eta))"
  }
}
