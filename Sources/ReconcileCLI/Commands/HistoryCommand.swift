import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile history`: this node's recent apply runs from the registry's audit log.
struct HistoryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "history", abstract: "Show this node's recent apply runs: who, when, at which commit, what each action did.")

  @OptionGroup var global: GlobalOptions

  @Option(help: "How many runs to show.")
  var limit = 20

  @Flag(help: "Print runs and their actions as JSON.")
  var json = false

  func run() throws {
    try ErrorReporting.run {
      let session = try global.session()
      guard let registry = try session.existingRegistry() else {
        print(json ? "{\n  \"formatVersion\" : 1,\n  \"runs\" : []\n}" : "No runs recorded: nothing was applied on \(session.root.path) yet.")
        return
      }
      let ledger: any NodeLedger = try registry.ledger(node: session.node)
      let runs = try ledger.recentRuns(limit: limit)
      let actions = try Dictionary(uniqueKeysWithValues: runs.map { ($0.id, try ledger.actions(ofRun: $0.id)) })
      print(json ? try HistoryRenderer.json(runs, actions: actions) : HistoryRenderer.text(runs, actions: actions), terminator: "")
    }
  }
}
