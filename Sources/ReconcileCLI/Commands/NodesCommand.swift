import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile nodes`: the fleet's nodes as the registry knows them.
struct NodesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nodes", abstract: "List the fleet's nodes: state, heartbeat, disk, VRAM, what each holds, the last apply.",
    subcommands: [List.self, Remove.self], defaultSubcommand: List.self)

  /// `reconcile nodes [--json]`.
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the fleet's nodes (the default).")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the nodes as JSON.") var json = false

    func run() throws {
      try ErrorReporting.run {
        let settings = try global.settings()
        let registry = try FleetRegistryOption.open(settings)
        let nodes = try registry.nodes()
        // The desired state's node_ttl when it can be read here; the default otherwise.
        let ttl = (try? global.session(settings).loadDesired().state.policy.nodeTTL).map(Double.init) ?? NodesRenderer.defaultTTL
        print(json ? try NodesRenderer.json(nodes, now: Date(), ttl: ttl) : NodesRenderer.text(nodes, now: Date(), ttl: ttl), terminator: "")
      }
    }
  }

  /// `reconcile nodes remove NAME`.
  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "remove", abstract: "Deregister a node by hand: its row, holdings and ledger leave the registry.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The node's name.") var name: String

    func run() throws {
      try ErrorReporting.run {
        let registry = try FleetRegistryOption.open(try global.settings())
        guard try registry.removeNode(name) else { throw ValidationError("node '\(name)' is not registered in \(registry.target)") }
        print("Removed node \(name) from \(registry.target).")
      }
    }
  }
}

/// `reconcile registry migrate`: brings the fleet registry's schema to this build's version.
struct RegistryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "registry", abstract: "Check the node's registry; manage the fleet registry (PostgreSQL).",
    subcommands: [Check.self, Migrate.self, GrantNode.self, GrantReader.self])

  /// `reconcile registry check`: the node's SQLite registry, checked page by page.
  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check", abstract: "Check the node's registry file (PRAGMA integrity_check); exit 1 when it is damaged.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
      let sound = try ErrorReporting.run { () -> Bool in
        let session = try global.session()
        guard let registry = try session.existingRegistry() else {
          print("No registry at \(session.root.registry) yet: nothing was applied on this root.")
          return true
        }
        let problems = try registry.integrityProblems()
        guard problems.isEmpty else {
          for problem in problems.prefix(20) { ErrorReporting.report(["error: registry \(registry.path): \(problem)"]) }
          ErrorReporting.report(["error: registry \(registry.path) is damaged; 'reconcile apply' replaces it when it can no longer be read, or move it aside by hand"])
          return false
        }
        print("Registry \(registry.path): ok.")
        return true
      }
      if !sound { throw ExitCode.failure }
    }
  }

  /// A password read from a file (never from the command line, where `ps` shows it).
  static func password(from file: String?) throws -> String? {
    guard let file else { return nil }
    guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read the password file '\(file)'") }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
  }

  /// `reconcile registry grant-node NAME`.
  struct GrantNode: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "grant-node", abstract: "Create the login role of a node: it reads everything and writes only its own rows (row-level security).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The node's name.") var name: String
    @Option(help: ArgumentHelp("The role's name (default reconcile_NAME).", valueName: "role")) var role: String?
    @Option(help: ArgumentHelp("A file holding the role's password.", valueName: "file")) var passwordFile: String?

    func run() throws {
      try ErrorReporting.run {
        let registry = try FleetRegistryOption.open(try global.settings())
        let granted = try registry.grantNode(name, role: role, password: try RegistryCommand.password(from: passwordFile))
        print("Role \(granted) may write node \(name)'s rows in \(registry.target); give the node registry = \"postgresql://\(granted)@HOST/DB\".")
      }
    }
  }

  /// `reconcile registry grant-reader ROLE`.
  struct GrantReader: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "grant-reader", abstract: "Create a login role that may only read the registry (for nodes, catalog, plan --fleet, dashboards).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The role's name.") var role: String
    @Option(help: ArgumentHelp("A file holding the role's password.", valueName: "file")) var passwordFile: String?

    func run() throws {
      try ErrorReporting.run {
        let registry = try FleetRegistryOption.open(try global.settings())
        try registry.grantReader(role, password: try RegistryCommand.password(from: passwordFile))
        print("Role \(role) may read \(registry.target).")
      }
    }
  }

  /// `reconcile registry migrate`.
  struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "migrate", abstract: "Create or upgrade the fleet registry's tables (needs a role that may create them).")
    @OptionGroup var global: GlobalOptions

    func run() throws {
      try ErrorReporting.run {
        let registry = try FleetRegistryOption.open(try global.settings())
        let applied = registry.appliedMigrations
        print(applied.isEmpty
          ? "Registry \(registry.target) is at schema version \(try registry.schemaVersion()); nothing to do."
          : "Registry \(registry.target) migrated to schema version \(try registry.schemaVersion()) (applied \(applied.map(String.init).joined(separator: ", "))).")
      }
    }
  }
}

/// Opens the fleet registry the settings name, or says how to name one.
enum FleetRegistryOption {
  static func open(_ settings: Settings) throws -> PostgresRegistry {
    guard let conninfo = settings.registry else {
      throw ValidationError("no fleet registry is configured; set registry = \"postgresql://…\" in the node config, or RECONCILE_REGISTRY")
    }
    return try PostgresRegistry(conninfo)
  }
}
