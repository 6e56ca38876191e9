import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile status`: what the node holds and what it should hold.
struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the models on this node: files, size, verification, last use.")

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print the inventory as JSON.")
  var json = false

  func run() throws {
    try ErrorReporting.run {
      let session = try global.session()
      let rows = try session.inventory()
      print(json ? try StatusRenderer.json(rows, node: session.node) : StatusRenderer.table(rows, node: session.node, now: Date()), terminator: "")
    }
  }
}
