import Foundation
import Testing

@testable import ReconcileCore

/// Every desired-state directory the repository ships must load, and YAML and TOML must agree.
@Suite struct ExamplesTests {
  static let directories = Repository.desiredStateDirectories()

  @Test func repositoryShipsExamples() {
    let names = Self.directories.map { String($0.path.dropFirst(Repository.root.path.count + 1)) }
    #expect(names.contains("Desired"))
    #expect(names.contains("Examples/quickstart"))
    #expect(names.contains("Examples/fleet"))
    #expect(names.contains("Examples/fleet-toml"))
  }

  @Test(arguments: directories)
  func validates(_ directory: URL) throws {
    let files = try Repository.files(in: directory).map { DesiredFile(path: $0.path, text: $0.text) }
    #expect(!files.isEmpty)
    do {
      let loaded = try DesiredStateLoader.load(files)
      #expect(!loaded.state.models.isEmpty, "\(directory.lastPathComponent) declares no model")
    } catch {
      Issue.record("\(directory.path) does not validate:\n\(error)")
    }
  }

  /// Each YAML file, written out as TOML by `TOMLWriter` and read back, gives the same state.
  @Test(arguments: directories)
  func yamlAndTOMLLoadToEqualValues(_ directory: URL) throws {
    let files = try Repository.files(in: directory)
    let original = try DesiredStateLoader.load(files.map { DesiredFile(path: $0.path, text: $0.text) }).state
    let converted = try files.map { file -> DesiredFile in
      guard !file.path.hasSuffix(".toml") else { return DesiredFile(path: file.path, text: file.text) }
      let tree = try YAMLReader.read(file.text, file: file.path)
      return DesiredFile(path: file.path + ".toml", text: TOMLWriter.write(tree))
    }
    let roundTripped = try DesiredStateLoader.load(converted).state
    #expect(roundTripped == original)
  }

  /// Examples/fleet-toml is the hand-checked TOML twin of Examples/fleet.
  @Test func fleetInTOMLEqualsFleetInYAML() throws {
    let yaml = try Repository.files(in: Repository.root.appendingPathComponent("Examples/fleet"))
    let toml = try Repository.files(in: Repository.root.appendingPathComponent("Examples/fleet-toml"))
    #expect(yaml.allSatisfy { $0.path.hasSuffix(".yaml") })
    #expect(toml.allSatisfy { $0.path.hasSuffix(".toml") })
    let fromYAML = try DesiredStateLoader.load(yaml.map { DesiredFile(path: $0.path, text: $0.text) }).state
    let fromTOML = try DesiredStateLoader.load(toml.map { DesiredFile(path: $0.path, text: $0.text) }).state
    #expect(fromYAML == fromTOML)
  }
}
