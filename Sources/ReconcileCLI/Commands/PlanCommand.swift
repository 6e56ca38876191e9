import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile plan`: show what apply would change on this node.
struct PlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "plan", abstract: "Show what apply would change on this node.")

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Print the plan as JSON.")
  var json = false

  @Flag(help: "Exit with 2 when changes are pending, 0 when none.")
  var detailedExitcode = false

  @Option(name: .short, help: ArgumentHelp("Also save the plan as JSON to this file, for 'reconcile apply FILE'.", valueName: "file"))
  var output: String?

  @Flag(help: "Plan every node of the pools at once, with the moves between them (from any machine; reads the fleet registry when one is configured).")
  var fleet = false

  func validate() throws {
    if fleet, output != nil { throw ValidationError("-o saves a node's plan for 'reconcile apply'; a --fleet plan is for review only") }
  }

  func run() throws {
    if fleet { return try runFleet() }
    let plan = try ErrorReporting.run {
      let reporter = ProgressReporter(live: false, format: .text)
      let plan = try Reconciler(session: try global.session(), settings: ReconcileSettings(lockTimeout: 0, user: "", command: ""), events: reporter.handle).plan()
      if let output {
        do {
          try PlanRenderer.json(plan).write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
          throw ValidationError("cannot write the plan to \(output): \(((error as NSError).localizedFailureReason ?? "\(error)").trimmingCharacters(in: CharacterSet(charactersIn: "."))); create its directory or choose another path")
        }
      }
      print(json ? try PlanRenderer.json(plan) : PlanRenderer.human(plan, color: Terminal.stdoutWantsColor), terminator: "")
      if let output, !json { print("Saved the plan to \(output); run 'reconcile apply \(output)' to apply exactly this plan.") }
      return plan
    }
    if detailedExitcode, plan.hasChanges { throw ExitCode(2) }
  }

  /// `reconcile plan --fleet`: every node's share and the moves, as text or JSON.
  func runFleet() throws {
    let changes = try ErrorReporting.run { () -> Bool in
      let settings = try global.settings()
      let loaded = try global.session(settings).loadDesired()
      let desired = loaded.state
      let snapshot = try settings.registry.map { _ in
        FleetSnapshot(nodes: try FleetRegistryOption.open(settings).nodes(), takenAt: Date(), ttl: Double(desired.policy.nodeTTL))
      }
      let plan = try PlacedPlanError.placing(loaded.sourceMap) { try FleetPlan.make(desired, fleet: snapshot) }
      print(json ? try plan.json() : plan.text(), terminator: "")
      return plan.nodes.contains { !$0.adds.isEmpty || !$0.drops.isEmpty }
    }
    if detailedExitcode, changes { throw ExitCode(2) }
  }
}
