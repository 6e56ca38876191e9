import Foundation
import ReconcileCore

/// The node's config file: TOML with top-level string keys.
enum ConfigFile {
  /// Why the config file could not be used: its problems, each a complete line.
  struct LoadError: Error, CustomStringConvertible, ReportedError {
    /// `file:line:column: error: …` for a problem in the file, `error: …` for one without a position.
    var reportLines: [String]

    /// The lines, one per problem.
    var description: String { reportLines.joined(separator: "\n") }
  }

  /// The file's string values; empty when no file is named and the default is absent.
  static func load(path: String?, defaultPath: String) throws -> [String: String] {
    let file = path ?? defaultPath
    guard let data = FileManager.default.contents(atPath: file) else {
      if path != nil { throw LoadError(reportLines: ["error: config file '\(file)' cannot be read"]) }
      return [:]
    }
    let tree: DocumentNode
    do {
      tree = try TOMLReader.read(String(decoding: data, as: UTF8.self), file: file)
    } catch {
      throw LoadError(reportLines: error.reportLines)
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
    if !problems.isEmpty { throw LoadError(reportLines: problems) }
    return values
  }
}
