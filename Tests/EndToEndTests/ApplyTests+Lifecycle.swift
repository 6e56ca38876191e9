import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// What happens around and after an apply: evictions, saved plans, verify and history.
extension ApplyTests {
  /// alpha@1:fp16 and beta@1:main, sharing `shared.bin`, each with a file of its own.
  struct TwoModels {
    var alpha: ModelSpec
    var beta: ModelSpec
    var alphaOnly: ServedFile
    var betaOnly: ServedFile
    var shared: ServedFile

    init(_ fixture: ApplyFixture) throws {
      alphaOnly = try fixture.makeFile("alpha/alpha.bin", size: 1 << 20)
      betaOnly = try fixture.makeFile("beta/beta.bin", size: 512 << 10)
      shared = try fixture.makeFile("alpha/shared.bin", size: 2 << 20)
      try fixture.copy(shared, to: "beta/shared.bin")
      alpha = ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["alpha.bin": alphaOnly, "shared.bin": shared]])
      beta = ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["main": ["beta.bin": betaOnly, "shared.bin": shared]])
    }

    /// alpha at version 2, served from `alpha-2/`: a new alpha.bin, and shared.bin unless
    /// `keepingShared` is false. Returns the model and its new alpha.bin.
    func version2(_ fixture: ApplyFixture, keepingShared: Bool = true) throws -> (ModelSpec, ServedFile) {
      let upgraded = try fixture.makeFile("alpha-2/alpha.bin", size: 1 << 20)
      var model = alpha
      model.version = "2"
      model.sources = [fixture.source("alpha-2")]
      model.variants = ["fp16": ["alpha.bin": upgraded]]
      if keepingShared {
        try fixture.copy(shared, to: "alpha-2/shared.bin")
        model.variants["fp16"]?["shared.bin"] = shared
      }
      return (model, upgraded)
    }
  }

  @Test func droppedModelIsEvictedAndOnlyItsOwnBlobsGo() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha, models.beta])
    let first = try fixture.apply()
    #expect(first.status == 0, "\(first.stdout)\(first.stderr)")

    try fixture.writeDesired([models.beta])
    try fixture.server.reset()
    let second = try fixture.apply()
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout.contains("  - evict     alpha@1:fp16"), "\(second.stdout)")
    #expect(second.stdout.contains("1 evicted"), "\(second.stdout)")
    #expect(try fixture.requests().isEmpty)
    #expect(Stat(fixture.root.view(VariantID(name: "alpha", version: "1", variant: "fp16"))) == nil, "the view directory is gone")
    #expect(Stat(fixture.root.models + "/alpha") == nil, "and its empty model directory")
    #expect(Stat(fixture.blob(models.alphaOnly)) == nil, "a blob no desired variant uses is removed")
    fixture.expectLinked(fixture.view("beta", "main", "shared.bin"), to: models.shared)
    fixture.expectLinked(fixture.view("beta", "main", "beta.bin"), to: models.betaOnly)
    #expect(fixture.blobNames() == [models.shared.digest.hex, models.betaOnly.digest.hex].sorted())

    let plan = try fixture.reconcile("plan", ["--detailed-exitcode"])
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
  }

  @Test func newVersionSharingFilesFetchesOnlyWhatIsNewAndEvictsTheOld() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    #expect(try fixture.apply().status == 0)

    let (version2, upgraded) = try models.version2(fixture)
    try fixture.writeDesired([version2])
    try fixture.server.reset()
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("  - evict     alpha@1:fp16"), "\(result.stdout)")
    #expect(try fixture.requests().map(\.path) == ["/alpha-2/alpha.bin"], "only the changed file is fetched")
    fixture.expectLinked(fixture.view("alpha", "fp16", "alpha.bin", version: "2"), to: upgraded)
    fixture.expectLinked(fixture.view("alpha", "fp16", "shared.bin", version: "2"), to: models.shared)
    #expect(Stat(fixture.root.models + "/alpha/1") == nil)
    #expect(fixture.blobNames() == [upgraded.digest.hex, models.shared.digest.hex].sorted())
  }

  @Test func aFailedUpgradeKeepsServingTheOldVersion() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    #expect(try fixture.apply().status == 0)

    let (version2, upgraded) = try models.version2(fixture, keepingShared: false)
    try fixture.writeDesired([version2])
    try fixture.server.behave(path: "/alpha-2/alpha.bin", mode: .status, status: 503)
    let failed = try fixture.apply()
    #expect(failed.status == 1)
    #expect(failed.stdout.contains("kept: alpha@1:fp16 is not evicted yet, since a download failed"), "\(failed.stdout)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "alpha.bin"), to: models.alphaOnly)

    try fixture.server.reset()
    let repaired = try fixture.apply()
    #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "alpha.bin", version: "2"), to: upgraded)
    #expect(Stat(fixture.root.models + "/alpha/1") == nil)
  }

  @Test func aFileDroppedFromAVariantIsRemovedWithItsBlob() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    #expect(try fixture.apply().status == 0)
    var trimmed = models.alpha
    trimmed.variants = ["fp16": ["shared.bin": models.shared]]
    try fixture.writeDesired([trimmed])
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(Stat(fixture.view("alpha", "fp16", "alpha.bin")) == nil)
    #expect(Stat(fixture.blob(models.alphaOnly)) == nil)
    fixture.expectLinked(fixture.view("alpha", "fp16", "shared.bin"), to: models.shared)
    #expect(try fixture.reconcile("plan", ["--detailed-exitcode"]).status == 0)
  }

  @Test func savedPlanIsRefusedWhenTheDesiredStateChanged() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    let saved = fixture.directory.path + "/plan.json"
    let plan = try fixture.reconcile("plan", ["-o", saved])
    #expect(plan.status == 0, "\(plan.stderr)")

    let file = fixture.desired + "/models.yaml"
    try (try String(contentsOfFile: file, encoding: .utf8) + "# reviewed\n").write(toFile: file, atomically: true, encoding: .utf8)
    let refused = try fixture.reconcile("apply", [saved])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("the desired state in \(fixture.desired) changed since the plan was made"), "\(refused.stderr)")
    #expect(refused.stderr.contains("reconcile plan -o"), "\(refused.stderr)")
    #expect(try fixture.requests().isEmpty)
    #expect(fixture.blobNames().isEmpty)
    #expect(Stat(fixture.root.models + "/alpha") == nil)

    // Planned again on the still empty root, the saved plan applies once; a second time it is stale.
    #expect(try fixture.reconcile("plan", ["-o", saved]).status == 0)
    let applied = try fixture.reconcile("apply", [saved])
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "alpha.bin"), to: models.alphaOnly)
    fixture.expectLinked(fixture.view("alpha", "fp16", "shared.bin"), to: models.shared)
    let again = try fixture.reconcile("apply", [saved])
    #expect(again.status == 1)
    #expect(again.stderr.contains("changed since the plan was made"), "\(again.stderr)")
  }

  @Test func aSymlinkInAViewIsReplacedNotWrittenThrough() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    #expect(try fixture.apply().status == 0)
    let outside = try fixture.directory.write("outside/secret", "not a model\n")
    let view = fixture.view("alpha", "fp16", "alpha.bin")
    try FileManager.default.removeItem(atPath: view)
    try FileManager.default.createSymbolicLink(atPath: view, withDestinationPath: outside)

    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    fixture.expectLinked(view, to: models.alphaOnly)
    #expect(try String(contentsOfFile: outside, encoding: .utf8) == "not a model\n")
    #expect(try fixture.reconcile("plan", ["--detailed-exitcode"]).status == 0)
  }

  @Test func savedPlanIsRefusedWhenTheRootChangedAndAnUnchangedOneApplies() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    #expect(try fixture.apply().status == 0)
    let alphaView = fixture.view("alpha", "fp16", "alpha.bin"), sharedView = fixture.view("alpha", "fp16", "shared.bin")

    try FileManager.default.removeItem(atPath: alphaView)
    let saved = fixture.directory.path + "/plan.json"
    #expect(try fixture.reconcile("plan", ["-o", saved]).status == 0)
    try FileManager.default.removeItem(atPath: sharedView)
    let refused = try fixture.reconcile("apply", [saved])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("the node root \(fixture.root.path) changed since the plan was made"), "\(refused.stderr)")
    #expect(Stat(alphaView) == nil && Stat(sharedView) == nil, "nothing may be applied from a stale plan")

    // Planned again, and applied as saved: no --auto-approve needed, since the plan was reviewed.
    let replanned = try fixture.reconcile("plan", ["-o", saved])
    #expect(replanned.status == 0)
    try fixture.server.reset()
    let applied = try fixture.reconcile("apply", [saved])
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    fixture.expectLinked(alphaView, to: models.alphaOnly)
    fixture.expectLinked(sharedView, to: models.shared)
    #expect(try fixture.requests().isEmpty, "verified blobs are linked again, not fetched")
    #expect(try fixture.reconcile("plan", ["--detailed-exitcode"]).status == 0)
  }

  @Test func verifyFindsACorruptedBlobAndApplyQuarantinesAndRefetchesIt() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    #expect(try fixture.apply().status == 0)

    // Same size, other content: only the stat fingerprint (mtime, ctime) tells.
    let blob = fixture.blob(models.shared)
    #expect(chmod(blob, 0o644) == 0)
    let handle = try #require(FileHandle(forWritingAtPath: blob))
    try handle.write(contentsOf: Data(repeating: 0x5a, count: 4096))
    try handle.close()
    let corrupted = try #require(FileManager.default.contents(atPath: blob))
    #expect(corrupted.count == models.shared.size)

    let verify = try fixture.reconcile("verify")
    #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
    #expect(verify.stderr.contains("error: blob \(models.shared.digest.hex) (alpha@1:fp16 file shared.bin) hashes to "), "\(verify.stderr)")
    #expect(verify.stdout.contains("Verified 1 blob "), "only the changed blob is hashed: \(verify.stdout)")
    #expect(verify.stdout.contains("1 mismatched; 1 trusted by fingerprint"), "\(verify.stdout)")

    try fixture.server.reset()
    let apply = try fixture.apply()
    #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
    let quarantine = BlobStore(root: fixture.root).quarantine
    let held = try FileManager.default.contentsOfDirectory(atPath: quarantine)
    #expect(held.count == 1 && held.first?.hasPrefix(models.shared.digest.hex) == true, "\(held)")
    #expect(held.first.flatMap { FileManager.default.contents(atPath: quarantine + "/" + $0) } == corrupted, "the bad copy is kept for inspection")
    #expect(apply.stdout.contains("quarantined: \(quarantine)/"), "\(apply.stdout)")
    #expect(try fixture.requests().map(\.path) == ["/alpha/shared.bin"])
    fixture.expectLinked(fixture.view("alpha", "fp16", "shared.bin"), to: models.shared)
    fixture.expectLinked(fixture.view("alpha", "fp16", "alpha.bin"), to: models.alphaOnly)

    let full = try fixture.reconcile("verify", ["--full"])
    #expect(full.status == 0, "\(full.stdout)\(full.stderr)")
    #expect(full.stdout.contains("Verified 2 blobs "), "\(full.stdout)")
    #expect(full.stdout.contains(": all match."), "\(full.stdout)")
    #expect(try fixture.reconcile("plan", ["--detailed-exitcode"]).status == 0)
  }

  @Test func aCorruptedBlobThatCannotBeRefetchedLeavesNoViewOfIt() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha, models.beta])
    #expect(try fixture.apply().status == 0)
    let blob = fixture.blob(models.shared)
    #expect(chmod(blob, 0o644) == 0)
    let handle = try #require(FileHandle(forWritingAtPath: blob))
    try handle.write(contentsOf: Data(repeating: 0x5a, count: 4096))
    try handle.close()

    try fixture.server.behave(path: "/alpha/shared.bin", mode: .status, status: 404)
    try fixture.server.behave(path: "/beta/shared.bin", mode: .status, status: 404)
    let failed = try fixture.apply()
    #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
    #expect(failed.stderr.contains("content does not match"), "\(failed.stderr)")
    #expect(failed.stdout.contains("quarantined: "), "\(failed.stdout)")
    for view in [fixture.view("alpha", "fp16", "shared.bin"), fixture.view("beta", "main", "shared.bin")] {
      #expect(Stat(view) == nil, "content known to be wrong must not stay visible at \(view)")
    }
    #expect(Stat(blob) == nil)
    fixture.expectLinked(fixture.view("alpha", "fp16", "alpha.bin"), to: models.alphaOnly)

    try fixture.server.reset()
    let repaired = try fixture.apply()
    #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "shared.bin"), to: models.shared)
    fixture.expectLinked(fixture.view("beta", "main", "shared.bin"), to: models.shared)
    #expect(try fixture.requests(endingIn: "/shared.bin").count == 1)
  }

  @Test func historyListsEachRunWithItsActionsAndSources() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    #expect(try fixture.apply().status == 0)
    try fixture.writeDesired([models.alpha, models.beta])
    #expect(try fixture.apply().status == 0)

    let history = try fixture.reconcile("history")
    #expect(history.status == 0, "\(history.stderr)")
    let lines = history.stdout.split(separator: "\n").map(String.init)
    let runs = lines.filter { $0.hasPrefix("run ") }
    #expect(runs.count == 2, "\(history.stdout)")
    #expect(runs.first?.hasPrefix("run 2 ") == true && runs.first?.contains("node \(fixture.node)") == true, "newest first: \(history.stdout)")
    #expect(runs.allSatisfy { $0.contains("  ok in ") }, "\(history.stdout)")
    #expect(lines.contains { $0.contains("ok       download beta@1:main file beta.bin") && $0.hasSuffix("from \(fixture.server.url("/beta/beta.bin"))") }, "\(history.stdout)")
    #expect(lines.contains { $0.contains("ok       link     beta@1:main file shared.bin") }, "\(history.stdout)")
    #expect(lines.contains { $0.contains("ok       download alpha@1:fp16 file shared.bin") && $0.hasSuffix("from \(fixture.server.url("/alpha/shared.bin"))") }, "\(history.stdout)")
    #expect(lines.contains { $0.contains("apply --auto-approve") }, "the command line is recorded: \(history.stdout)")

    let json = try fixture.reconcile("history", ["--json"])
    #expect(json.status == 0, "\(json.stderr)")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(document["formatVersion"] as? Int == 1)
    let entries = try #require(document["runs"] as? [[String: Any]])
    #expect(entries.count == 2)
    let newest = try #require(entries.first?["actions"] as? [[String: Any]])
    let downloads = newest.filter { $0["action"] as? String == "download" }
    #expect(downloads.count == 1)
    #expect(downloads.first?["source"] as? String == fixture.server.url("/beta/beta.bin"))
    #expect(downloads.first?["outcome"] as? String == "ok")
    #expect(downloads.first?["bytes"] as? Int == models.betaOnly.size)
  }
}
