import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile touch MODEL[@VERSION[:VARIANT]]`: record a use of the matching variants held on
/// this node, for serving processes whose reads the file access times do not show.
struct TouchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "touch", abstract: "Record now as the last use of a model held on this node.",
    discussion: """
      For serving processes that load a model once and keep it in memory, or run on a mount that \
      does not record access times. Every variant held on the node that matches is marked used now; \
      under disk pressure, apply evicts the least recently used unwanted variants first.
      """)

  @Argument(help: ArgumentHelp("The model, optionally with its version and variant.", valueName: "model[@version[:variant]]"))
  var model: String

  @OptionGroup var global: GlobalOptions

  /// Refuses a malformed pattern before anything is read. It is reported the way reconcile
  /// reports errors (`error: …`, exit 1), as it always was, not as a usage error (exit 64).
  func validate() throws {
    _ = try ErrorReporting.run { try VariantPattern(parsing: model) }
  }

  func run() throws {
    try ErrorReporting.run {
      let pattern = try VariantPattern(parsing: model)
      let session = try global.session()
      let held = NodeRootScanner(root: session.root).heldVariants()
      let matching = held.filter(pattern.matches)
      guard !matching.isEmpty else {
        let list = held.isEmpty ? "it holds no models" : "it holds " + held.prefix(10).map(\.description).joined(separator: ", ") + (held.count > 10 ? ", …" : "")
        throw ValidationError("no variant matching '\(model)' is held on node \(session.node) (root \(session.root.path)); \(list)")
      }
      try FileManager.default.createDirectory(atPath: session.root.state, withIntermediateDirectories: true)
      let ledger: any NodeLedger = try SQLiteRegistry(path: session.root.registry).ledger(node: session.node)
      let now = Date()
      let run = try ledger.beginRun(user: Invocation.user, host: ProcessInfo.processInfo.hostName, command: Invocation.command, desiredCommit: nil, at: now)
      for id in matching { try ledger.recordUse(id, at: now) }
      try ledger.finishRun(id: run, outcome: .ok, detail: "recorded use of \(matching.map(\.description).joined(separator: ", "))", at: now)
      let formatter = ISO8601DateFormatter()
      print("Recorded use of \(matching.map(\.description).joined(separator: ", ")) at \(formatter.string(from: now)).")
    }
  }
}
