import Foundation
import Testing

@testable import ReconcileCLI

/// The node config examples load as node config: every key known, the registry among them, and
/// the registry set-up script is valid shell.
@Suite struct NodeConfigExamplesTests {
  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Examples/node-config")

  @Test func everyNodeConfigLoadsWithARegistry() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".toml") }
    #expect(!names.isEmpty)
    for name in names {
      let values = try ConfigFile.load(path: Self.directory.appendingPathComponent(name).path, defaultPath: "/nonexistent")
      #expect(values["registry"]?.hasPrefix("postgresql://") == true, "\(name): \(values)")
      #expect(values["node"] != nil && values["desired"] != nil, "\(name)")
    }
  }

  @Test func theRegistrySetUpScriptParses() throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-n", Self.directory.appendingPathComponent("registry-setup.sh").path]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
  }
}
