import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// plan and status against a root laid out on disk: trust by fingerprint, links not followed.
@Suite struct ObservedRootTests {
  static let arguments = ["--desired", "Examples/quickstart", "--node", "demo"]

  @Test func verifiedRootHasNoChanges() throws {
    let directory = try TemporaryDirectory()
    try StoreBuilder(root: NodeRoot(directory.path)).installQuickstart(verified: true)
    let plan = try Binary.run(["plan", "--root", directory.path, "--detailed-exitcode"] + Self.arguments)
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
    #expect(plan.stdout.contains("\nNo changes.\n"))
    let status = try Binary.run(["status", "--root", directory.path] + Self.arguments)
    #expect(status.status == 0)
    let rows = status.stdout.split(separator: "\n").map(String.init)
    #expect(rows.contains("embed-mini  0.3      fp32       3/3  101.0 KiB  yes       never      ok"))
    #expect(rows.contains("tiny-llama  1.0      fp16       3/3  229.1 KiB  yes       never      ok"))
    #expect(rows.last == "3 variants, 463.2 KiB in views; 3 of 3 desired variants complete and verified.")
  }

  @Test func unknownFilesAreVerifiedNotTrusted() throws {
    let directory = try TemporaryDirectory()
    try StoreBuilder(root: NodeRoot(directory.path)).installQuickstart(verified: false)
    let plan = try Binary.run(["plan", "--root", directory.path] + Self.arguments)
    #expect(plan.status == 0, "\(plan.stderr)")
    // The tokenizer is shared by all three variants: it is hashed once, for the first of them.
    #expect(plan.stdout.contains("  ~ verify    embed-mini@0.3:fp32  3 files  101.0 KiB  (not verified yet)\n"))
    #expect(plan.stdout.contains("  ~ verify    tiny-llama@1.0:fp16  2 files  192.1 KiB  (not verified yet)\n"))
    #expect(plan.stdout.contains("Plan: 3 to verify (389.2 KiB)."))
  }

  @Test func aFileChangedSinceVerificationIsVerifiedAgain() throws {
    let directory = try TemporaryDirectory()
    let root = NodeRoot(directory.path)
    try StoreBuilder(root: root).installQuickstart(verified: true)
    let digest = try #require(Digest(hex: "c1b8029c2a4defa3ae2dc81681bdadd4b67fb5a9c419cf846d6d95d80ea626ac"))
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: root.blob(digest))
    let handle = try #require(FileHandle(forWritingAtPath: root.blob(digest)))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("tampered".utf8))
    try handle.close()
    let plan = try Binary.run(["plan", "--root", directory.path] + Self.arguments)
    #expect(plan.stdout.contains("  + download  embed-mini@0.3:fp32  1 file  64.0 KiB  from file://./mirror/embed-mini/ (size on disk 65544 B, expected 65536 B)"), "\(plan.stdout)")
  }

  @Test func symlinksInViewsAreNotFollowed() throws {
    let directory = try TemporaryDirectory()
    let root = NodeRoot(directory.path + "/root")
    try StoreBuilder(root: root).installQuickstart(verified: true)
    let outside = try directory.write("outside/secret", "not a model\n")
    let view = root.view(VariantID(name: "embed-mini", version: "0.3", variant: "fp32")) + "/config.json"
    try FileManager.default.removeItem(atPath: view)
    try FileManager.default.createSymbolicLink(atPath: view, withDestinationPath: outside)
    // Unlinking changed the blob's ctime; apply records the new fingerprint after its own link
    // changes, and so does this test.
    let digest = try #require(Digest(hex: "5b358ce8be972d7a04c81c21ab16ce5d7a014449479e86b0e8efd552a622dea7"))
    let blob = root.blob(digest)
    let cache: any VerifiedFileCache = try SQLiteRegistry(path: root.registry)
    try cache.recordVerified([(try #require(FileStatus.of(blob)).fingerprint, digest)], at: Date())
    let plan = try Binary.run(["plan", "--root", root.path] + Self.arguments)
    #expect(plan.stdout.contains("  ~ link      embed-mini@0.3:fp32  1 file  (view differs from the verified blob)"), "\(plan.stdout)")
    #expect(try String(contentsOfFile: outside, encoding: .utf8) == "not a model\n")
  }

  @Test func unwantedVariantIsKeptWithinGraceThenEvicted() throws {
    let directory = try TemporaryDirectory()
    let root = NodeRoot(directory.path + "/root")
    try StoreBuilder(root: root).installQuickstart(verified: true)
    // A desired state without embed-mini: it becomes unwanted now, and gc_grace is 1h.
    let desired = try directory.write("desired/models.yaml", try String(contentsOfFile: Binary.packageRoot.path + "/Examples/quickstart/models.yaml", encoding: .utf8).components(separatedBy: "\n  - name: embed-mini")[0])
    try directory.write("desired/policy.toml", try String(contentsOfFile: Binary.packageRoot.path + "/Examples/quickstart/policy.toml", encoding: .utf8))
    let arguments = ["plan", "--desired", (desired as NSString).deletingLastPathComponent, "--root", root.path, "--node", "demo"]
    let fresh = try Binary.run(arguments)
    #expect(fresh.stdout.contains("  = keep      embed-mini@0.3:fp32  64.1 KiB  (unwanted since 0 s, within gc_grace; evictable in 60 min)"), "\(fresh.stdout)")
    #expect(fresh.stdout.contains("\n\nNo changes.\n"))
    let ledger: any NodeLedger = try SQLiteRegistry(path: root.registry).ledger(node: "demo")
    try ledger.markUnwanted([VariantID(name: "embed-mini", version: "0.3", variant: "fp32")], at: Date().addingTimeInterval(-7200))
    let later = try Binary.run(arguments)
    #expect(later.stdout.contains("  - evict     embed-mini@0.3:fp32  3 files  64.1 KiB  (no tenant needs it since 2 h)"), "\(later.stdout)")
  }
}
