import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// A registry file that is not a database any more: plan says which file and what to do, apply
/// moves it aside, starts a fresh one, hashes what is on disk again and records the gap;
/// `registry check` reports integrity; a deleted registry just starts fresh.
@Suite struct RegistryHealingTests {
  @Test func aCorruptRegistryIsMovedAsideAndTheStoreRehashed() throws {
    let fixture = try ApplyFixture()
    _ = try ApplyTests.alpha(fixture)
    #expect(try fixture.apply().status == 0)
    let check = try fixture.reconcile("registry", ["check"])
    #expect(check.status == 0 && check.stdout.contains(": ok."), "\(check.stdout)\(check.stderr)")

    // Overwritten with garbage, as a disk fault or a careless copy would leave it.
    for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.root.registry + suffix) }
    try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: fixture.root.registry))
    let plan = try fixture.reconcile("plan")
    #expect(plan.status == 1, "\(plan.stdout)\(plan.stderr)")
    #expect(plan.stderr.contains("error: registry \(fixture.root.registry) could not be read (") && plan.stderr.contains("'reconcile apply' moves it aside"), "\(plan.stderr)")
    let damaged = try fixture.reconcile("registry", ["check"])
    #expect(damaged.status == 1 && damaged.stderr.contains("could not be read"), "\(damaged.stderr)")

    try fixture.server.reset()
    let healed = try fixture.apply()
    #expect(healed.status == 0, "\(healed.stdout)\(healed.stderr)")
    #expect(healed.stderr.contains("warning: registry \(fixture.root.registry) could not be read (") && healed.stderr.contains("files on disk are hashed again"), "\(healed.stderr)")
    #expect(healed.stdout.contains("~ verify"), "what is on disk is hashed again, not fetched: \(healed.stdout)")
    #expect(try fixture.requests().isEmpty, "nothing is downloaded")
    let aside = try FileManager.default.contentsOfDirectory(atPath: fixture.root.state).filter { $0.hasPrefix("registry.sqlite.corrupt-") }
    #expect(aside.count == 1, "\(aside)")
    let history = try fixture.reconcile("history")
    #expect(history.stdout.contains("registry replaced: registry \(fixture.root.registry) could not be read"), "\(history.stdout)")
    #expect(try fixture.reconcile("plan", ["--detailed-exitcode"]).status == 0, "the next plan has nothing to do")
  }

  @Test func aDeletedRegistryStartsFreshAndRehashes() throws {
    let fixture = try ApplyFixture()
    _ = try ApplyTests.alpha(fixture)
    #expect(try fixture.apply().status == 0)
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.root.registry + suffix) }
    try fixture.server.reset()
    let again = try fixture.apply()
    #expect(again.status == 0 && again.stdout.contains("~ verify"), "\(again.stdout)\(again.stderr)")
    #expect(try fixture.requests().isEmpty)
  }
}
