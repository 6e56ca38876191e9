import ArgumentParser
import ReconcileCore
import ReconcileRuntime

/// `reconcile validate [DIR]`: check the desired state and summarise it.
struct ValidateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate", abstract: "Check desired-state files and print a summary, or every error found.")

  @Argument(help: ArgumentHelp("Desired-state directory or file (default: --desired, $RECONCILE_DESIRED or Desired/).", valueName: "dir"))
  var directory: String?

  @OptionGroup var global: GlobalOptions

  func run() throws {
    try ErrorReporting.run {
      let path = try directory ?? global.settings().desired
      let loaded = try DesiredStateLoader.load(try DesiredDirectory(path: path).files())
      print("\(path): valid — " + DesiredSummary(loaded.state).description)
    }
  }
}
