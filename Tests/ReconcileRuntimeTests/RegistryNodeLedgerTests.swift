import Foundation
import ReconcileCore
import Testing

@testable import ReconcileRuntime

/// Two nodes sharing one registry file: each ledger reads and changes only its node's rows.
@Suite struct RegistryNodeLedgerTests {
  let directory: RegistryTestDirectory
  let a: SQLiteNodeLedger
  let b: SQLiteNodeLedger
  let variant = VariantID(name: "wan2.2-t2v-a14b", version: "2.2.0", variant: "fp8")

  init() throws {
    directory = try RegistryTestDirectory()
    let path = directory.path("registry.sqlite")
    a = try SQLiteRegistry(path: path).ledger(node: "gpu-a-01")
    b = try SQLiteRegistry(path: path).ledger(node: "gpu-b-07")
  }

  private func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + seconds) }

  @Test func lastUseIsPerNode() throws {
    try a.recordUse(variant, at: date(10))
    #expect(try b.lastUse().isEmpty)
    try b.recordUse(variant, at: date(20))
    try b.recordUse(variant, at: date(30))
    #expect(try a.lastUse() == [variant: date(10)])
    #expect(try b.lastUse() == [variant: date(30)])
  }

  @Test func unwantedIsPerNode() throws {
    try a.markUnwanted([variant], at: date(10))
    #expect(try b.unwantedSince().isEmpty)
    try b.markUnwanted([variant], at: date(5))
    #expect(try a.unwantedSince() == [variant: date(10)])
    try b.clearUnwanted([variant])
    #expect(try b.unwantedSince().isEmpty)
    #expect(try a.unwantedSince() == [variant: date(10)])
  }

  @Test func runsAndActionsArePerNode() throws {
    let runA = try a.beginRun(user: "ops", host: "gpu-a-01.lan", command: "apply", desiredCommit: nil, at: date(0))
    let actionA = try a.beginAction(run: runA, action: .download, subject: "x", bytes: 1, source: nil, at: date(1))
    let runB = try b.beginRun(user: "ops", host: "gpu-b-07.lan", command: "apply", desiredCommit: nil, at: date(2))

    #expect(try a.recentRuns(limit: 10).map(\.id) == [runA])
    #expect(try b.recentRuns(limit: 10).map(\.id) == [runB])
    #expect(try b.recentRuns(limit: 10).map(\.node) == ["gpu-b-07"])
    #expect(try a.actions(ofRun: runA).map(\.id) == [actionA])
    #expect(try b.actions(ofRun: runA).isEmpty)

    #expect(throws: SQLiteRegistryError.unknownRun(id: runA, node: "gpu-b-07")) {
      try b.beginAction(run: runA, action: .evict, subject: "y", bytes: 0, source: nil, at: date(3))
    }
    #expect(throws: SQLiteRegistryError.unknownRun(id: runA, node: "gpu-b-07")) {
      try b.finishRun(id: runA, outcome: .ok, at: date(3))
    }
    #expect(throws: SQLiteRegistryError.unknownAction(id: actionA, node: "gpu-b-07")) {
      try b.finishAction(id: actionA, outcome: .failed, bytes: nil, detail: "not mine", at: date(3))
    }

    #expect(try b.closeUnfinishedRuns() == 1)
    #expect(try b.recentRuns(limit: 10).map(\.outcome) == [.interrupted])
    #expect(try a.recentRuns(limit: 10).map(\.outcome) == [nil])
    #expect(try a.actions(ofRun: runA).map(\.outcome) == [.running])
  }

  @Test func ledgersAreUsableThroughTheProtocol() throws {
    let ledgers: [any NodeLedger] = [a, b]
    for (index, ledger) in ledgers.enumerated() {
      try ledger.recordUse(variant, at: date(Double(index)))
    }
    #expect(try ledgers.map { try $0.lastUse()[variant] } == [date(0), date(1)])
    #expect(ledgers.map(\.node) == ["gpu-a-01", "gpu-b-07"])
  }
}
