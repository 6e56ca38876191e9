import ArgumentParser

/// The `reconcile` command and its subcommands.
public struct ReconcileCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "reconcile",
    abstract: "Keep ML model files on GPU nodes in the state a git repository describes.",
    discussion: """
      Desired state is a directory of YAML/TOML files (models, tenants, pools, policy). \
      'plan' shows what would change on this node; 'validate' checks the files.
      """,
    version: "0.1.0",
    subcommands: [ValidateCommand.self, PlanCommand.self, ApplyCommand.self, StatusCommand.self, CheckCommand.self, AgentCommand.self, VerifyCommand.self, HistoryCommand.self, LockCommand.self, GcCommand.self, TouchCommand.self, NodesCommand.self, CatalogCommand.self, RegistryCommand.self]
  )

  public init() {}

  /// Runs the command line, with SIGTERM and SIGINT handled as `Shutdown` says.
  public static func start() {
    Shutdown.install()
    main()
  }
}
