import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Symbolic links planted where apply writes never make it write outside the root: each is an
/// error naming the link, and the directory it points to stays as it was.
@Suite struct HostileRootTests {
  /// Where each link is planted, relative to the root, given the blob's two-digit prefix.
  static let plantings: [String] = ["models/alpha", "models/alpha/1", ".reconcile", ".reconcile/tmp", "blobs/sha256/PREFIX", "blobs", ".reconcile/registry.sqlite"]

  @Test(arguments: plantings)
  func aPlantedLinkIsRefusedAndNothingIsWrittenOutside(_ planting: String) throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 4096)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    // Outside the root: a tempting tree the link leads into (every directory apply might want).
    let outside = fixture.directory.path + "/outside"
    for directory in ["1/fp16", "fp16", "tmp", "sha256", "quarantine", "trash"] {
      try FileManager.default.createDirectory(atPath: outside + "/" + directory, withIntermediateDirectories: true)
    }
    let target = planting.hasSuffix("registry.sqlite") ? outside + "/registry.sqlite" : outside
    if planting.hasSuffix("registry.sqlite") { try Data("not yours".utf8).write(to: URL(fileURLWithPath: target)) }
    let relative = planting.replacingOccurrences(of: "PREFIX", with: String(weights.digest.hex.prefix(2)))
    let link = fixture.root.path + "/" + relative
    try FileManager.default.createDirectory(atPath: PathText.parent(of: link), withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
    let before = Self.listing(outside)

    let result = try fixture.apply()
    #expect(result.status == 1, "\(relative): \(result.stdout)\(result.stderr)")
    #expect(!result.stderr.contains("crashed"))
    #expect(Self.listing(outside) == before, "\(relative): nothing may be written outside the root: \(Self.listing(outside))")
    if planting.hasSuffix("registry.sqlite") {
      #expect(try String(contentsOfFile: target, encoding: .utf8) == "not yours")
    } else {
      #expect((result.stdout + result.stderr).contains("is a symbolic link (to \(target)), and reconcile never follows links inside its root; remove it and run again"), "\(relative): \(result.stdout)\(result.stderr)")
    }
  }

  /// A root on a filesystem mounted read-only: reading commands work, apply fails with a clear
  /// error and no crash.
  @Test func aReadOnlyRootIsReadAndApplySaysWhyItCannotWrite() throws {
    let fixture = try ApplyFixture()
    let disk = try TmpfsMount(at: fixture.root.path, size: "16m")
    defer { withExtendedLifetime(fixture) { disk.unmount() } }
    let alpha = try fixture.makeFile("alpha/weights.bin", size: 4096)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": alpha]])])
    #expect(try fixture.apply().status == 0)
    let remount = try TmpfsMount.run("/bin/mount", ["-o", "remount,ro", fixture.root.path])
    try #require(remount.status == 0, "\(remount.output)")

    for command in ["status", "check", "plan", "history"] {
      let result = try fixture.reconcile(command)
      #expect(result.status == 0, "\(command) on a read-only root: \(result.stdout)\(result.stderr)")
    }
    let beta = try fixture.makeFile("beta/weights.bin", size: 4096)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": alpha]]),
      ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["raw": ["weights.bin": beta]]),
    ])
    let refused = try fixture.apply()
    #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
    #expect(refused.stderr.contains("Read-only file system"), "\(refused.stderr)")
    #expect(refused.stderr.contains(fixture.root.path), "the error names the root: \(refused.stderr)")
    #expect(!refused.stderr.contains("crashed"))
  }

  /// A registry deleted by hand: the next apply starts a new one and trusts nothing it cannot
  /// rehash.
  @Test func aDeletedRegistryIsStartedAgainAndTheStoreRehashed() throws {
    let fixture = try ApplyFixture()
    let alpha = try fixture.makeFile("alpha/weights.bin", size: 4096)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": alpha]])])
    #expect(try fixture.apply().status == 0)
    try FileManager.default.removeItem(atPath: fixture.root.registry)
    let status = try fixture.reconcile("status")
    #expect(status.status == 0)
    #expect(status.stdout.contains("unverified"), "nothing is trusted without its record: \(status.stdout)")
    try fixture.server.reset()
    let again = try fixture.apply()
    #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    #expect(again.stdout.contains("1 file verified (4.0 KiB)"), "the file is rehashed, not fetched: \(again.stdout)")
    #expect(try fixture.requests().isEmpty)
    #expect(try fixture.reconcile("check").status == 0)
  }

  /// Every path under `directory` with its size and modification time.
  static func listing(_ directory: String) -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
    var entries: [String] = []
    while let name = enumerator.nextObject() as? String {
      let status = FileStatus.of(directory + "/" + name)
      entries.append("\(name) \(status?.fingerprint.size ?? -1) \(status?.fingerprint.mtimeNs ?? -1)")
    }
    return entries.sorted()
  }
}
