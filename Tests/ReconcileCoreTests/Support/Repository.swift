import Foundation

/// Paths inside this repository, for tests that read Examples/ and Desired/.
enum Repository {
  /// The package root, found from this file's path.
  static let root: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// Examples that are not desired state, by directory name: node config files (checked by the
  /// CLI tests), systemd units and Kubernetes manifests (checked by the end-to-end tests; the
  /// manifests are YAML, so without this they would be read as desired state).
  static let notDesiredState: Set<String> = ["node-config", "systemd", "kubernetes"]

  /// Every directory under Desired/ and Examples/ that holds desired-state files.
  static func desiredStateDirectories() -> [URL] {
    var result: [URL] = []
    for top in ["Desired", "Examples"] {
      let base = root.appendingPathComponent(top)
      guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isDirectoryKey]) else { continue }
      var directories = [base]
      for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
        directories.append(url)
      }
      for directory in directories where !notDesiredState.contains(directory.lastPathComponent) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if names.contains(where: { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".toml") }) {
          result.append(directory)
        }
      }
    }
    return result.sorted { $0.path < $1.path }
  }

  /// The desired-state files of `directory`, with paths relative to the repository root.
  static func files(in directory: URL) throws -> [(path: String, text: String)] {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    return try names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".toml") }.map { name in
      let url = directory.appendingPathComponent(name)
      let relative = String(url.path.dropFirst(root.path.count + 1))
      return (relative, try String(contentsOf: url, encoding: .utf8))
    }
  }
}
