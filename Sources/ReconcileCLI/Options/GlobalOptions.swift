import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// Options every command shares: where the desired state and the root are, and which node this is.
struct GlobalOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("Desired-state directory (or $RECONCILE_DESIRED, config 'desired').", valueName: "dir"))
  var desired: String?

  @Option(name: .long, help: ArgumentHelp("Node root (or $RECONCILE_ROOT, config 'root'; default /var/lib/reconcile).", valueName: "dir"))
  var root: String?

  @Option(name: .long, help: ArgumentHelp("This node's name in the pools (or $RECONCILE_NODE, config 'node'; default the host name).", valueName: "name"))
  var node: String?

  @Option(name: .long, help: ArgumentHelp("Config file (or $RECONCILE_CONFIG; default /etc/reconcile/config.toml when present).", valueName: "file"))
  var config: String?

  @Option(help: ArgumentHelp("Log lines on standard error: text, or json (one object per line with ts, level, node, run, event).", valueName: "format"))
  var logFormat: LogFormat = .text

  /// Applies `--log-format` before the command runs, so its errors are in that format too.
  func validate() throws {
    Log.configure(format: logFormat)
  }

  /// The settings after flags, environment and config file are combined, in that order.
  func settings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
    let settings = try Settings.resolve(flags: self, environment: environment)
    Log.set(node: settings.node)
    return settings
  }

  /// A session for the resolved settings.
  func session() throws -> Session { session(try settings()) }

  /// A session for settings already resolved.
  func session(_ settings: Settings) -> Session {
    Session(desired: settings.desired, root: settings.root, node: settings.node, sources: settings.sources, hfCache: settings.hfCache, registry: settings.registry)
  }
}
