import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile status`: what the node holds and what it should hold.
struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the models on this node: files, size, verification, last use.")

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print the inventory as JSON, with the usage and limits of the tenants this node serves.")
  var json = false

  @Option(help: ArgumentHelp("Show one tenant: its variants, the bytes and models charged to it, and its limits.", valueName: "name"))
  var tenant: String?

  func run() throws {
    try ErrorReporting.run {
      let session = try global.session()
      let status = try session.tenantStatus()
      guard let tenant else {
        let text = json
          ? try StatusRenderer.json(status.rows, node: session.node, tenants: status.served)
          : StatusRenderer.table(status.rows, node: session.node, now: Date())
        print(text, terminator: "")
        return
      }
      guard let usage = status.all.first(where: { $0.tenant == tenant }) else {
        let known = status.all.map(\.tenant)
        throw ValidationError("unknown tenant '\(tenant)'; " + (known.isEmpty ? "the desired state declares no tenants" : "tenants: \(known.joined(separator: ", "))"))
      }
      let served = status.served.contains { $0.tenant == tenant }
      if json {
        let rows = status.rows.filter { usage.variants.contains($0.variant) }
        print(try StatusRenderer.json(rows, node: session.node, tenants: [usage]), terminator: "")
      } else {
        print(TenantStatusRenderer.text(usage, desired: status.desired, rows: status.rows, nodeVariants: status.nodeVariants, node: session.node, served: served), terminator: "")
      }
    }
  }
}
