import Foundation
import ReconcileCore
import ReconcileRuntime

/// Where things are, once flags, environment and config file have been combined.
struct Settings {
  var desired: String
  var root: String
  var node: String
  /// How to reach Hub and S3 sources.
  var sources: SourceSettings
  /// Where to publish Hub models as a Hugging Face cache, if anywhere.
  var hfCache: String?
  /// The fleet registry (`postgresql://…` or a libpq `key=value` string), if the node is in one.
  var registry: String?
  /// Where one-shot commands write their metrics in the textfile-collector format, if anywhere.
  var metricsFile: String?
  /// The agent's settings from the config file (`interval`, `listen`, `token_file`).
  var agent: [String: String] = [:]

  static let defaultConfig = "/etc/reconcile/config.toml"
  static let configKeys = ["desired", "root", "node", "registry", "hf_cache", "hf_endpoint", "metrics_file", "interval", "listen", "token_file"] + S3Settings.configKeys

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
      hfCache: pick(nil, "RECONCILE_HF_CACHE", "hf_cache"),
      registry: pick(nil, "RECONCILE_REGISTRY", "registry"),
      metricsFile: pick(nil, "RECONCILE_METRICS_FILE", "metrics_file"),
      agent: config.filter { ["interval", "listen", "token_file"].contains($0.key) })
  }

  static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(name.prefix { $0 != "." })
  }
}
