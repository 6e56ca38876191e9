import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Saved plans run only what the desired state gives, and grace counts across quiet applies.
extension ApplyTests {
  @Test func anEditedSavedPlanIsRefusedAndTouchesNothing() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    try fixture.writeDesired([models.alpha])
    #expect(try fixture.apply().status == 0)
    let victim = try fixture.directory.write("victim", "keep me\n")
    let saved = fixture.directory.path + "/plan.json"
    #expect(try fixture.reconcile("plan", ["-o", saved]).status == 0)
    // The saved plan has no changes; someone adds an eviction of a path outside the root.
    var document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: saved))) as? [String: Any])
    let relative = String(repeating: "../", count: 4) + "victim"
    document["changes"] = [[
      "action": "evict", "bytes": 0, "files": 1, "sources": [String](), "reason": ["kind": "not-desired", "since": "2026-01-01T00:00:00Z"],
      "subject": ["variant": "..@..:\(relative)"],
    ]]
    try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: saved))
    let refused = try fixture.reconcile("apply", [saved])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("the saved plan's changes are not the ones the desired state"), "\(refused.stderr)")
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
  }

  @Test func graceCountsAcrossApplyRunsWithNothingElseToDo() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    let policy = ApplyFixture.fastPolicy.replacingOccurrences(of: "gc_grace: 0s", with: "gc_grace: 2s")
    try fixture.writeDesired([models.alpha, models.beta], policy: policy)
    #expect(try fixture.apply().status == 0)
    try fixture.writeDesired([models.beta], policy: policy)
    let first = try fixture.apply()
    #expect(first.stdout.contains("No changes."), "\(first.stdout)")
    Thread.sleep(forTimeInterval: 2.5)
    // Only the first quiet apply saw alpha unwanted; the grace has run out since.
    let second = try fixture.apply()
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout.contains("  - evict     alpha@1:fp16"), "\(second.stdout)")
    #expect(Stat(fixture.root.models + "/alpha") == nil)
  }
}

extension ApplyTests {
  @Test func aCorruptBlobLeavesTheViewsOfKeptVariantsToo() throws {
    let fixture = try ApplyFixture()
    let models = try TwoModels(fixture)
    let policy = ApplyFixture.fastPolicy.replacingOccurrences(of: "gc_grace: 0s", with: "gc_grace: 1h")
    try fixture.writeDesired([models.alpha], policy: policy)
    #expect(try fixture.apply().status == 0)
    // Version 2 shares shared.bin; version 1 stays on disk within its grace period.
    let (version2, _) = try models.version2(fixture)
    try fixture.writeDesired([version2], policy: policy)
    #expect(try fixture.apply().status == 0)
    let keptView = fixture.view("alpha", "fp16", "shared.bin")
    fixture.expectLinked(keptView, to: models.shared)

    // The shared blob is overwritten in place with other bytes of the same size.
    let blob = fixture.blob(models.shared)
    chmod(blob, 0o644)
    let handle = try #require(FileHandle(forWritingAtPath: blob))
    try handle.write(contentsOf: Data(repeating: 0x5a, count: 4096))
    try handle.close()
    let repaired = try fixture.apply()
    #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "shared.bin", version: "2"), to: models.shared)
    #expect(Stat(keptView) == nil, "the kept variant's view of the corrupt blob is withdrawn")
  }
}
