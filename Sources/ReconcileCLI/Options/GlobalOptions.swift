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

  /// The settings after flags, environment and config file are combined, in that order.
  func settings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
    try Settings.resolve(flags: self, environment: environment)
  }

  /// A session for the resolved settings.
  func session() throws -> Session { session(try settings()) }

  /// A session for settings already resolved.
  func session(_ settings: Settings) -> Session {
    Session(desired: settings.desired, root: settings.root, node: settings.node, sources: settings.sources, hfCache: settings.hfCache)
  }
}

/// Where things are, once flags, environment and config file have been combined.
struct Settings {
  var desired: String
  var root: String
  var node: String
  /// How to reach Hub and S3 sources.
  var sources: SourceSettings
  /// Where to publish Hub models as a Hugging Face cache, if anywhere.
  var hfCache: String?

  static let defaultConfig = "/etc/reconcile/config.toml"
  static let configKeys = ["desired", "root", "node", "hf_cache", "hf_endpoint"] + S3Settings.configKeys

  static func resolve(flags: GlobalOptions, environment: [String: String]) throws -> Settings {
    let config = try ConfigFile.load(path: flags.config ?? environment["RECONCILE_CONFIG"], defaultPath: defaultConfig)
    func pick(_ flag: String?, _ variable: String, _ key: String) -> String? {
      flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? config[key]
    }
    return Settings(
      desired: pick(flags.desired, "RECONCILE_DESIRED", "desired") ?? "Desired/",
      root: pick(flags.root, "RECONCILE_ROOT", "root") ?? "/var/lib/reconcile",
      node: pick(flags.node, "RECONCILE_NODE", "node") ?? hostName(),
      sources: try SourceSettings.from(environment: environment, config: config),
      hfCache: pick(nil, "RECONCILE_HF_CACHE", "hf_cache"))
  }

  static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(name.prefix { $0 != "." })
  }
}

/// The node's config file: TOML with top-level string keys.
enum ConfigFile {
  struct LoadError: Error, CustomStringConvertible {
    var description: String
  }

  /// The file's string values; empty when no file is named and the default is absent.
  static func load(path: String?, defaultPath: String) throws -> [String: String] {
    let file = path ?? defaultPath
    guard let data = FileManager.default.contents(atPath: file) else {
      if path != nil { throw LoadError(description: "config file '\(file)' cannot be read") }
      return [:]
    }
    let tree: DocumentNode
    do {
      tree = try TOMLReader.read(String(decoding: data, as: UTF8.self), file: file)
    } catch {
      throw LoadError(description: error.description)
    }
    guard case .mapping(let mapping) = tree else { return [:] }
    var values: [String: String] = [:]
    var problems: [String] = []
    for entry in mapping.entries {
      guard Settings.configKeys.contains(entry.key) else {
        problems.append("\(entry.keyLocation): error: unknown key '\(entry.key)' in config; expected one of: \(Settings.configKeys.joined(separator: ", "))")
        continue
      }
      if case .scalar(let scalar) = entry.value { values[entry.key] = scalar.text }
    }
    if !problems.isEmpty { throw LoadError(description: problems.joined(separator: "\n")) }
    return values
  }
}
