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

/// Counts that describe a desired state in one line.
struct DesiredSummary: CustomStringConvertible {
  var state: DesiredState

  init(_ state: DesiredState) { self.state = state }

  var description: String {
    let variants = state.models.flatMap(\.variants)
    let files = variants.flatMap(\.files)
    var unique: [Digest: Int64] = [:]
    for file in files { unique[file.sha256] = file.size }
    let nodes = state.pools.flatMap(\.nodes).count
    return [
      count(state.models.count, "model"), count(variants.count, "variant"), count(files.count, "file"),
      ByteFormat.binary(unique.values.reduce(0, +)) + " unique", count(state.tenants.count, "tenant"),
      count(state.pools.count, "pool"), count(nodes, "node"),
    ].joined(separator: ", ")
  }

  func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
