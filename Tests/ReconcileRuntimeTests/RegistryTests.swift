import Foundation
import ReconcileCore
import Testing

@testable import ReconcileRuntime

private func digest(_ number: Int) -> Digest {
  let hex = String(number, radix: 16)
  return Digest(hex: String(repeating: "0", count: 64 - hex.count) + hex)!
}

private func fingerprint(_ inode: UInt64, size: Int64 = 4096, mtimeNs: Int64 = 1_700_000_000_000_000_000)
  -> StatFingerprint
{
  StatFingerprint(device: 2049, inode: inode, size: size, mtimeNs: mtimeNs, ctimeNs: mtimeNs + 1)
}

/// Dates on quarter seconds, which survive the round trip through unix seconds exactly.
private func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + seconds) }

@Suite struct RegistrySchemaTests {
  @Test func migrationsAreNumberedOneByOne() {
    let versions = SQLiteRegistry.migrations.map(\.version)
    #expect(versions == Array(1...versions.count))
    #expect(SQLiteRegistry.latestSchemaVersion == versions.count)
  }

  @Test func freshFileEndsAtLatestVersionAndSecondOpenAppliesNothing() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("registry.sqlite")
    let latest = SQLiteRegistry.latestSchemaVersion

    #expect(try SQLiteRegistry.migrate(SQLiteDatabase.inMemory()) == Array(1...latest))
    let first = try SQLiteRegistry(path: path)
    #expect(try first.schemaVersion() == latest)

    // What opening again runs: nothing, the file is current.
    #expect(try SQLiteRegistry.migrate(SQLiteDatabase(path: path)) == [])
    let second = try SQLiteRegistry(path: path)
    #expect(try second.schemaVersion() == latest)
  }

  @Test func dataSurvivesReopening() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("registry.sqlite")
    let variant = VariantID(name: "llama-3.1-8b", version: "1.0", variant: "bf16")
    try SQLiteRegistry(path: path).ledger(node: "gpu-a-01").recordUse(variant, at: date(1))
    #expect(try SQLiteRegistry(path: path).ledger(node: "gpu-a-01").lastUse() == [variant: date(1)])
  }

  @Test func newerSchemaIsRefusedWithAnUpgradeHint() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("registry.sqlite")
    _ = try SQLiteRegistry(path: path)
    let newer = SQLiteRegistry.latestSchemaVersion + 1
    try SQLiteDatabase(path: path).execute("PRAGMA user_version = \(newer)")

    let error = try #require(throws: SQLiteRegistryError.self) { try SQLiteRegistry(path: path) }
    #expect(error == .schemaTooNew(path: path, found: newer, supported: SQLiteRegistry.latestSchemaVersion))
    #expect(error.description.contains("upgrade reconcile"))
    #expect(error.description.contains(path))
  }

  @Test func fileRegistryUsesWAL() throws {
    let directory = try RegistryTestDirectory()
    let registry = try SQLiteRegistry(path: directory.path("registry.sqlite"))
    #expect(try registry.journalMode() == "wal")
    #expect(try SQLiteRegistry.inMemory().journalMode() == "memory")
  }

  @Test func connectionSettingsAreApplied() throws {
    let directory = try RegistryTestDirectory()
    let registry = try SQLiteRegistry(path: directory.path("registry.sqlite"))
    let settings = try registry.withDatabase { database in
      (
        try database.query("PRAGMA foreign_keys") { $0.int64(at: 0) },
        try database.query("PRAGMA synchronous") { $0.int64(at: 0) }
      )
    }
    #expect(settings.0 == [1])
    #expect(settings.1 == [1])  // NORMAL
  }

  @Test func inMemoryRegistriesAreSeparate() throws {
    let variant = VariantID(name: "sd-xl", version: "1.0", variant: "fp16")
    let one = try SQLiteRegistry.inMemory()
    let other = try SQLiteRegistry.inMemory()
    try one.ledger(node: "n").recordUse(variant, at: date(0))
    #expect(try other.ledger(node: "n").lastUse().isEmpty)
    #expect(try one.schemaVersion() == SQLiteRegistry.latestSchemaVersion)
  }
}

@Suite struct RegistryVerifiedFileTests {
  @Test func recordedDigestsLoadBack() throws {
    let registry: any VerifiedFileCache = try SQLiteRegistry.inMemory()
    #expect(try registry.verifiedDigests().isEmpty)
    try registry.recordVerified([(fingerprint(1), digest(1))], at: date(0))
    try registry.recordVerified([(fingerprint(2), digest(2)), (fingerprint(3), digest(3))], at: date(0.5))
    #expect(try registry.verifiedDigests() == [fingerprint(1): digest(1), fingerprint(2): digest(2), fingerprint(3): digest(3)])
  }

  @Test func fingerprintsBeyondInt64RoundTrip() throws {
    let registry: any VerifiedFileCache = try SQLiteRegistry.inMemory()
    let large = StatFingerprint(device: UInt64.max, inode: UInt64.max - 1, size: 0, mtimeNs: -5, ctimeNs: Int64.max)
    try registry.recordVerified([(large, digest(7))], at: date(0))
    #expect(try registry.verifiedDigests() == [large: digest(7)])
  }

  @Test func changedFileReplacesItsStaleRecord() throws {
    let registry: any VerifiedFileCache = try SQLiteRegistry.inMemory()
    try registry.recordVerified([(fingerprint(1, size: 10), digest(1))], at: date(0))
    try registry.recordVerified([(fingerprint(1, size: 20), digest(2))], at: date(1))
    #expect(try registry.verifiedDigests() == [fingerprint(1, size: 20): digest(2)])
  }

  @Test func pruneKeepsOnlyListedFingerprints() throws {
    let registry: any VerifiedFileCache = try SQLiteRegistry.inMemory()
    try registry.recordVerified((1...5).map { (fingerprint($0), digest(Int($0))) }, at: date(0))
    let dropped = try registry.pruneVerified(keeping: [fingerprint(2), fingerprint(4), fingerprint(3, size: 1)])
    #expect(dropped == 3)
    #expect(try registry.verifiedDigests() == [fingerprint(2): digest(2), fingerprint(4): digest(4)])
    #expect(try registry.pruneVerified(keeping: []) == 2)
    #expect(try registry.verifiedDigests().isEmpty)
  }

  @Test func hundredThousandRowsLoadBack() throws {
    let directory = try RegistryTestDirectory()
    let registry = try SQLiteRegistry(path: directory.path("registry.sqlite"))
    var expected: [StatFingerprint: Digest] = [:]
    for number in 0..<100_000 {
      expected[fingerprint(UInt64(number), size: Int64(number) * 7)] = digest(number)
    }
    try registry.recordVerified(expected.map { ($0.key, $0.value) }, at: date(0))
    #expect(try registry.verifiedDigests() == expected)
    #expect(try SQLiteRegistry(path: directory.path("registry.sqlite")).verifiedDigests().count == 100_000)
  }
}

@Suite struct RegistryVariantTimeTests {
  let wan = VariantID(name: "wan2.2-t2v-a14b", version: "2.2.0", variant: "fp8")
  let llama = VariantID(name: "llama-3.1-8b", version: "1.0", variant: "bf16")

  @Test func lastUseKeepsTheLatest() throws {
    let ledger: any NodeLedger = try SQLiteRegistry.inMemory().ledger(node: "gpu-a-01")
    try ledger.recordUse(wan, at: date(10.25))
    try ledger.recordUse(wan, at: date(5))
    try ledger.recordUse(llama, at: date(1))
    try ledger.recordUse(llama, at: date(1.5))
    #expect(try ledger.lastUse() == [wan: date(10.25), llama: date(1.5)])
  }

  @Test func unwantedKeepsTheEarliestAndClears() throws {
    let ledger: any NodeLedger = try SQLiteRegistry.inMemory().ledger(node: "gpu-a-01")
    try ledger.markUnwanted([wan], at: date(100))
    try ledger.markUnwanted([wan, llama], at: date(200))
    try ledger.markUnwanted([wan], at: date(50.75))
    #expect(try ledger.unwantedSince() == [wan: date(50.75), llama: date(200)])

    try ledger.clearUnwanted([wan])
    #expect(try ledger.unwantedSince() == [llama: date(200)])
    try ledger.clearUnwanted([wan, llama])
    #expect(try ledger.unwantedSince().isEmpty)
  }
}

@Suite struct RegistryAuditTests {
  @Test func runAndActionsRoundTrip() throws {
    let ledger: any NodeLedger = try SQLiteRegistry.inMemory().ledger(node: "gpu-a-01")
    let run = try ledger.beginRun(
      user: "ops", host: "gpu-a-01.lan", command: "apply --auto-approve", desiredCommit: "3f2c1ab", at: date(0))
    let download = try ledger.beginAction(
      run: run, action: .download, subject: "wan2.2-t2v-a14b@2.2.0:fp8 transformer/model-00001.safetensors",
      bytes: 0, source: "hf://Wan-AI/Wan2.2-T2V-A14B@2b4f0c1", at: date(0.25))
    let evict = try ledger.beginAction(
      run: run, action: .evict, subject: "sd-xl@1.0:fp16", bytes: 13_800, source: nil, at: date(0.5))

    let running = try ledger.actions(ofRun: run)
    #expect(running.map(\.outcome) == [.running, .running])
    #expect(try ledger.recentRuns(limit: 1).first?.outcome == nil)

    try ledger.finishAction(id: download, outcome: .ok, bytes: 9_968_229_352, detail: nil, at: date(30))
    try ledger.finishAction(id: evict, outcome: .failed, bytes: nil, detail: "permission denied", at: date(31))
    try ledger.finishRun(id: run, outcome: .failed, at: date(32))

    #expect(try ledger.recentRuns(limit: 10) == [
      AuditRun(
        id: run, startedAt: date(0), finishedAt: date(32), user: "ops", host: "gpu-a-01.lan", node: "gpu-a-01",
        command: "apply --auto-approve", desiredCommit: "3f2c1ab", outcome: .failed)
    ])
    #expect(try ledger.actions(ofRun: run) == [
      AuditAction(
        id: download, runID: run, action: "download",
        subject: "wan2.2-t2v-a14b@2.2.0:fp8 transformer/model-00001.safetensors", bytes: 9_968_229_352,
        source: "hf://Wan-AI/Wan2.2-T2V-A14B@2b4f0c1", startedAt: date(0.25), finishedAt: date(30), outcome: .ok),
      AuditAction(
        id: evict, runID: run, action: "evict", subject: "sd-xl@1.0:fp16", bytes: 13_800, startedAt: date(0.5),
        finishedAt: date(31), outcome: .failed, detail: "permission denied"),
    ])
  }

  @Test func recentRunsAreNewestFirstToTheSubSecond() throws {
    let ledger: any NodeLedger = try SQLiteRegistry.inMemory().ledger(node: "n")
    var ids: [Int64] = []
    for start in [0.5, 0.25, 0.75, 0.0] {
      ids.append(try ledger.beginRun(user: "ops", host: "h", command: "plan", desiredCommit: nil, at: date(start)))
    }
    let recent = try ledger.recentRuns(limit: 3)
    #expect(recent.map(\.id) == [ids[2], ids[0], ids[1]])
    #expect(recent.map(\.startedAt) == [date(0.75), date(0.5), date(0.25)])
    #expect(recent.allSatisfy { $0.desiredCommit == nil && $0.finishedAt == nil })
    #expect(try ledger.recentRuns(limit: 0).isEmpty)
  }

  @Test func actionsBelongToTheirRun() throws {
    let ledger: any NodeLedger = try SQLiteRegistry.inMemory().ledger(node: "n")
    let first = try ledger.beginRun(user: "a", host: "h", command: "apply", desiredCommit: nil, at: date(0))
    let second = try ledger.beginRun(user: "b", host: "h", command: "gc", desiredCommit: nil, at: date(1))
    _ = try ledger.beginAction(run: first, action: .verify, subject: "x", bytes: 0, source: nil, at: date(0))
    _ = try ledger.beginAction(run: second, action: .evict, subject: "y", bytes: 0, source: nil, at: date(1))
    #expect(try ledger.actions(ofRun: first).map(\.subject) == ["x"])
    #expect(try ledger.actions(ofRun: second).map(\.subject) == ["y"])
    #expect(try ledger.actions(ofRun: 999).isEmpty)
  }

  @Test func unknownIdsAreRefused() throws {
    let ledger: any NodeLedger = try SQLiteRegistry.inMemory().ledger(node: "n")
    #expect(throws: SQLiteRegistryError.unknownRun(id: 42, node: "n")) {
      try ledger.beginAction(run: 42, action: .download, subject: "x", bytes: 0, source: nil, at: date(0))
    }
    #expect(throws: SQLiteRegistryError.unknownRun(id: 42, node: "n")) {
      try ledger.finishRun(id: 42, outcome: .ok, at: date(0))
    }
    #expect(throws: SQLiteRegistryError.unknownAction(id: 7, node: "n")) {
      try ledger.finishAction(id: 7, outcome: .ok, bytes: nil, detail: nil, at: date(0))
    }
  }
}

@Suite struct RegistrySharingTests {
  @Test func secondRegistryWaitsForTheFirstsTransaction() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("registry.sqlite")
    let holder = try SQLiteDatabase(path: path)
    let waiting: any NodeLedger = try SQLiteRegistry(path: path).ledger(node: "n")
    let variant = VariantID(name: "sd-xl", version: "1.0", variant: "fp16")

    try holder.execute("BEGIN IMMEDIATE")
    // Threads of their own, not the concurrency pool: on a busy 2-core machine a pool thread
    // may not come back in time to commit, and the writer's busy timeout would run out.
    let failure = ErrorBox()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
      do { try waiting.recordUse(variant, at: date(3)) } catch { failure.error = error }
      done.signal()
    }
    Thread.sleep(forTimeInterval: 0.3)
    try holder.execute("COMMIT")
    #expect(done.wait(timeout: .now() + 30) == .success)
    #expect(failure.error == nil, "\(String(describing: failure.error))")
    #expect(try waiting.lastUse() == [variant: date(3)])
  }

  @Test func twoRegistriesOnOneFileBothWrite() async throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("registry.sqlite")
    let registries = [try SQLiteRegistry(path: path), try SQLiteRegistry(path: path)]

    try await withThrowingTaskGroup(of: Void.self) { group in
      for (index, registry) in registries.enumerated() {
        group.addTask {
          for step in 0..<200 {
            let inode = UInt64(index * 1_000 + step)
            try registry.recordVerified([(fingerprint(inode), digest(Int(inode)))], at: date(Double(step)))
            let ledger = try registry.ledger(node: "n")
            let run = try ledger.beginRun(user: "u\(index)", host: "h", command: "apply", desiredCommit: nil, at: date(0))
            try ledger.finishRun(id: run, outcome: .ok, at: date(1))
          }
        }
      }
      try await group.waitForAll()
    }

    for registry in registries {
      #expect(try registry.verifiedDigests().count == 400)
      #expect(try registry.ledger(node: "n").recentRuns(limit: 1_000).count == 400)
    }
  }

  @Test func oneRegistrySharedByManyTasks() async throws {
    let ledger: any NodeLedger = try SQLiteRegistry.inMemory().ledger(node: "n")
    let run = try ledger.beginRun(user: "u", host: "h", command: "apply", desiredCommit: nil, at: date(0))
    try await withThrowingTaskGroup(of: Void.self) { group in
      for worker in 0..<8 {
        group.addTask {
          for step in 0..<50 {
            let action = try ledger.beginAction(
              run: run, action: .verify, subject: "w\(worker)/\(step)", bytes: 0, source: nil, at: date(0))
            try ledger.finishAction(id: action, outcome: .ok, bytes: 1, detail: nil, at: date(1))
          }
        }
      }
      try await group.waitForAll()
    }
    let actions = try ledger.actions(ofRun: run)
    #expect(actions.count == 400)
    #expect(actions.allSatisfy { $0.outcome == .ok && $0.bytes == 1 })
  }
}

/// A run whose process was killed is closed as interrupted by the next one.
@Suite struct RegistryInterruptedRunTests {
  @Test func unfinishedRunsAndActionsBecomeInterrupted() throws {
    let ledger: any NodeLedger = try SQLiteRegistry.inMemory().ledger(node: "n")
    let killed = try ledger.beginRun(user: "u", host: "h", command: "apply", desiredCommit: nil, at: Date())
    let action = try ledger.beginAction(
      run: killed, action: .download, subject: "m@1:fp16 file a", bytes: 0, source: nil, at: Date())
    let finished = try ledger.beginRun(user: "u", host: "h", command: "apply", desiredCommit: nil, at: Date())
    try ledger.finishRun(id: finished, outcome: .ok, at: Date())
    #expect(try ledger.closeUnfinishedRuns() == 1)
    let runs = try ledger.recentRuns(limit: 10)
    #expect(runs.first { $0.id == killed }?.outcome == .interrupted)
    #expect(runs.first { $0.id == finished }?.outcome == .ok)
    #expect(try ledger.actions(ofRun: killed).first { $0.id == action }?.outcome == .interrupted)
  }
}

/// An error one thread sets and the test reads after waiting for it.
final class ErrorBox: @unchecked Sendable {
  var error: (any Error)?
}
