import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile catalog [MODEL[@VERSION[:VARIANT]]]`: which live nodes hold which variants.
struct CatalogCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "catalog", abstract: "Show which live nodes hold each wanted variant verified, against the declared replicas.",
    discussion: "Exits 2 when a variant has fewer verified live copies than declared (for alerting). With --pick least-loaded and a model, prints the one ready node that holds it with the most free disk.")

  /// How `--pick` chooses.
  enum Pick: String, ExpressibleByArgument, CaseIterable {
    case leastLoaded = "least-loaded"
  }

  @Argument(help: ArgumentHelp("Only this model, optionally with its version and variant.", valueName: "model[@version[:variant]]"))
  var model: String?

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print the catalog as JSON.") var json = false

  @Option(help: ArgumentHelp("Print one node that holds MODEL: least-loaded (the ready node with the most free disk).", valueName: "rule"))
  var pick: Pick?

  func validate() throws {
    if pick != nil, model == nil { throw ValidationError("--pick needs a model: reconcile catalog MODEL --pick least-loaded") }
  }

  func run() throws {
    let underReplicated = try ErrorReporting.run { () -> Bool in
      let pattern = try model.map { try VariantPattern(parsing: $0) }
      let settings = try global.settings()
      let registry = try FleetRegistryOption.open(settings)
      let desired = try global.session(settings).loadDesired().state
      let fleet = FleetSnapshot(nodes: try registry.nodes(), takenAt: Date(), ttl: Double(desired.policy.nodeTTL))
      let matches = { (id: VariantID) in pattern?.matches(id) ?? true }
      if pick != nil {
        guard let node = FleetCatalog.pickLeastLoaded(matches, in: fleet) else {
          throw ValidationError("no ready, live node holds \(model ?? "it") verified")
        }
        print(node)
        return false
      }
      let entries = FleetCatalog.entries(desired, fleet, matching: matches)
      print(json ? try FleetCatalog.json(entries) : FleetCatalog.text(entries), terminator: "")
      return entries.contains { $0.status == .underReplicated }
    }
    if underReplicated { throw ExitCode(2) }
  }
}
