import Foundation
import ReconcileCore
import ReconcileRuntime

/// Renders the audit log.
enum HistoryRenderer {
  static func text(_ runs: [AuditRun], actions: [Int64: [AuditAction]]) -> String {
    guard !runs.isEmpty else { return "No runs recorded.\n" }
    let formatter = ISO8601DateFormatter()
    var out = ""
    for run in runs {
      let list = actions[run.id] ?? []
      let bytes = list.filter { $0.outcome == .ok }.reduce(Int64(0)) { $0 + $1.bytes }
      let failed = list.filter { $0.outcome == .failed }.count
      let commit = run.desiredCommit.map { " at \($0.prefix(7))" } ?? ""
      // `interrupted (SIGTERM)`; any other run's detail (the first error, what gc freed) follows the time.
      let stopped = run.outcome == .interrupted ? run.detail.map { " (\($0))" } ?? "" : ""
      let why = run.outcome != .interrupted ? run.detail.map { ": \($0)" } ?? "" : ""
      let took = run.finishedAt.map { " in \(ByteFormat.fixed($0.timeIntervalSince(run.startedAt), 1)) s" } ?? (run.outcome == nil ? " (in progress)" : "")
      out += "run \(run.id)  \(formatter.string(from: run.startedAt))  \(run.user)@\(run.host)  node \(run.node)\(commit)  \(run.outcome?.rawValue ?? "running")\(stopped)\(took)\(why)\n"
      out += "  \(list.count) action\(list.count == 1 ? "" : "s"), \(ByteFormat.binary(bytes))\(failed > 0 ? ", \(failed) failed" : "")  — \(run.command)\n"
      for action in list {
        var line = "    \(action.outcome.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(action.action.padding(toLength: 8, withPad: " ", startingAt: 0)) \(action.subject)"
        if action.bytes > 0 { line += "  \(ByteFormat.binary(action.bytes))" }
        if let source = action.source { line += "  from \(source)" }
        if action.outcome != .ok, let detail = action.detail { line += "  — \(detail)" }
        out += line + "\n"
      }
    }
    return out
  }

  static func json(_ runs: [AuditRun], actions: [Int64: [AuditAction]]) throws -> String {
    struct Run: Encodable {
      var run: AuditRun
      var actions: [AuditAction]
      func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(actions, forKey: .actions)
      }
      enum Key: String, CodingKey { case actions }
    }
    struct Document: Encodable {
      var formatVersion = 1
      var runs: [Run]
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    let document = Document(runs: runs.map { Run(run: $0, actions: actions[$0.id] ?? []) })
    return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
  }
}
