import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// The fleet registry on a real PostgreSQL cluster started by the tests: migrations, every
/// node's ledger kept apart, heartbeats and holdings, passwords never in messages.
@Suite(.serialized) struct PostgresRegistryTests {
  static let variant = VariantID(name: "llama", version: "1", variant: "bf16")
  static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_750_000_000 + seconds) }

  @Test func migratesOnceAndRefusesANewerSchema() throws {
    let server = try PostgresServer.shared()
    let uri = try server.createDatabase()
    let first = try PostgresRegistry(uri)
    #expect(first.appliedMigrations == Array(1...PostgresMigrations.latest))
    #expect(try PostgresRegistry(uri).appliedMigrations == [])
    #expect(try first.schemaVersion() == PostgresMigrations.latest)

    try first.connection.query("INSERT INTO reconcile_schema (version) VALUES ($1)", [String(PostgresMigrations.latest + 1)])
    let error = try #require(throws: PostgresSchemaError.self) { try PostgresRegistry(uri) }
    #expect(error.description.contains("a newer reconcile migrated it — upgrade reconcile on this node"))
  }

  @Test func aRegistryNotMigratedYetIsRefusedWithoutMigrating() throws {
    let uri = try PostgresServer.shared().createDatabase()
    let error = try #require(throws: PostgresSchemaError.self) { try PostgresRegistry(uri, migrate: false) }
    #expect(error.description.contains("run 'reconcile registry migrate'"), "\(error)")
  }

  @Test func eachNodesLedgerSeesOnlyItsOwnRows() throws {
    let registry = try PostgresRegistry(try PostgresServer.shared().createDatabase())
    let a = registry.ledger(node: "gpu-a")
    let b = registry.ledger(node: "gpu-b")
    try a.recordUse(Self.variant, at: Self.date(10))
    try a.recordUse(Self.variant, at: Self.date(5))
    try b.recordUse(Self.variant, at: Self.date(20))
    #expect(try a.lastUse() == [Self.variant: Self.date(10)], "an earlier use changes nothing")
    #expect(try b.lastUse() == [Self.variant: Self.date(20)])
    try a.markUnwanted([Self.variant], at: Self.date(30))
    try a.markUnwanted([Self.variant], at: Self.date(40))
    #expect(try a.unwantedSince() == [Self.variant: Self.date(30)], "grace runs from the first time")
    #expect(try b.unwantedSince().isEmpty)
    try b.clearUnwanted([Self.variant])
    #expect(try a.unwantedSince().count == 1, "b cannot clear a's row")

    let runA = try a.beginRun(user: "root", host: "h", command: "apply", desiredCommit: "abc", at: Self.date(50))
    let actionA = try a.beginAction(run: runA, action: .download, subject: "llama@1:bf16 file a", bytes: 10, source: "s3://x", at: Self.date(51))
    let runB = try b.beginRun(user: "root", host: "h", command: "apply", desiredCommit: nil, at: Self.date(60))
    #expect(try a.closeUnfinishedRuns() == 1, "only a's open run")
    #expect(try a.recentRuns(limit: 5).map(\.outcome) == [.interrupted])
    #expect(try a.actions(ofRun: runA).map(\.outcome) == [.interrupted])
    #expect(try b.recentRuns(limit: 5).map(\.id) == [runB] && b.recentRuns(limit: 5).first?.outcome == nil, "b's run is still open")
    #expect(throws: SQLiteRegistryError.self) { try b.finishRun(id: runA, outcome: .ok, at: Self.date(70)) }
    #expect(throws: SQLiteRegistryError.self) { try b.beginAction(run: runA, action: .verify, subject: "x", bytes: 0, source: nil, at: Self.date(70)) }
    #expect(throws: SQLiteRegistryError.self) { try b.finishAction(id: actionA, outcome: .ok, bytes: nil, detail: nil, at: Self.date(70)) }
    try b.finishRun(id: runB, outcome: .ok, at: Self.date(70))
    #expect(try b.recentRuns(limit: 5).first?.outcome == .ok)
    #expect(try a.actions(ofRun: runB).isEmpty)
  }

  @Test func aHandEditedOutcomeIsAClearErrorNotACrash() throws {
    let registry = try PostgresRegistry(try PostgresServer.shared().createDatabase())
    let ledger = registry.ledger(node: "n")
    let run = try ledger.beginRun(user: "u", host: "h", command: "c", desiredCommit: nil, at: Self.date(0))
    try registry.connection.query("UPDATE reconcile_audit_run SET outcome = 'exploded' WHERE id = $1", [String(run)])
    let error = try #require(throws: SQLiteRegistryError.self) { try ledger.recentRuns(limit: 1) }
    #expect(error.description.contains("outcome 'exploded', which this reconcile does not know"))
  }

  @Test func heartbeatsAndHoldingsMakeTheFleetsView() throws {
    let registry = try PostgresRegistry(try PostgresServer.shared().createDatabase())
    let held = [HeldVariant(variant: Self.variant, bytes: 1 << 30)]
    var labelled = NodeHeartbeat(node: "gpu-b", pool: "a100", diskTotal: 100, diskFree: 40, vram: 80 << 30, agentVersion: "test", at: Self.date(0))
    labelled.labels = ["zone": "eu-west-1a", "quote": "it's \"fine\""]
    try registry.heartbeat(labelled)
    try registry.heartbeat(
      NodeHeartbeat(node: "gpu-a", pool: "a100", agentVersion: "test", at: Self.date(5), desiredCommit: "abc", lastApply: .init(outcome: "ok", at: Self.date(4))))
    try registry.replaceHoldings(node: "gpu-a", held, at: Self.date(5))
    // A later heartbeat without an apply keeps the last apply's outcome and commit.
    try registry.heartbeat(NodeHeartbeat(node: "gpu-a", pool: "a100", state: .draining, agentVersion: "test", at: Self.date(9)))
    let nodes = try registry.nodes()
    #expect(nodes.map(\.heartbeat.node) == ["gpu-a", "gpu-b"])
    #expect(nodes[0].heartbeat.state == .draining && nodes[0].heartbeat.at == Self.date(9))
    #expect(nodes[0].heartbeat.desiredCommit == "abc" && nodes[0].heartbeat.lastApply == .init(outcome: "ok", at: Self.date(4)))
    #expect(nodes[0].holdings == held && nodes[1].holdings.isEmpty)
    #expect(nodes[1].heartbeat.diskFree == 40 && nodes[1].heartbeat.vram == 80 << 30)
    #expect(nodes[1].heartbeat.labels == ["zone": "eu-west-1a", "quote": "it's \"fine\""])

    try registry.replaceHoldings(node: "gpu-a", [], at: Self.date(10))
    #expect(try registry.nodes()[0].holdings.isEmpty)
    #expect(try registry.removeNode("gpu-b"))
    #expect(try !registry.removeNode("gpu-b"))
    #expect(try registry.nodes().map(\.heartbeat.node) == ["gpu-a"])
  }

  @Test func aNodesRoleWritesOnlyItsOwnRowsAndAReaderWritesNothing() throws {
    let server = try PostgresServer.shared()
    let admin = try server.createDatabase("rls")
    let database = String(admin.split(separator: "/").last ?? "")
    let owner = try PostgresRegistry(admin)
    #expect(try owner.grantNode("gpu-a") == "reconcile_gpu-a")
    try owner.grantNode("gpu-b")
    try owner.grantReader("fleet_reader")
    let a = try PostgresRegistry(server.uri(database: database, user: "reconcile_gpu-a"))
    let b = try PostgresRegistry(server.uri(database: database, user: "reconcile_gpu-b"))
    let reader = try PostgresRegistry(server.uri(database: database, user: "fleet_reader"))
    try a.heartbeat(NodeHeartbeat(node: "gpu-a", agentVersion: "t", at: Self.date(0)))
    try b.heartbeat(NodeHeartbeat(node: "gpu-b", agentVersion: "t", at: Self.date(0)))
    try a.replaceHoldings(node: "gpu-a", [HeldVariant(variant: Self.variant, bytes: 1)], at: Self.date(0))
    let run = try a.ledger(node: "gpu-a").beginRun(user: "u", host: "h", command: "c", desiredCommit: nil, at: Self.date(1))

    // Node A cannot change node B's heartbeat, holdings or ledger: the database refuses.
    for attempt in [
      { try a.heartbeat(NodeHeartbeat(node: "gpu-b", state: .draining, agentVersion: "t", at: Self.date(5))) },
      { try a.replaceHoldings(node: "gpu-b", [HeldVariant(variant: Self.variant, bytes: 1)], at: Self.date(5)) },
      { try a.ledger(node: "gpu-b").recordUse(Self.variant, at: Self.date(5)) },
      { _ = try a.ledger(node: "gpu-b").beginRun(user: "u", host: "h", command: "c", desiredCommit: nil, at: Self.date(5)) },
    ] as [() throws -> Void] {
      let error = try #require(throws: PostgresError.self) { try attempt() }
      #expect(error.sqlState == "42501", "\(error)")
    }
    #expect(try owner.nodes().first { $0.heartbeat.node == "gpu-b" }?.heartbeat.state == .ready, "B's row is as B wrote it")
    #expect(throws: SQLiteRegistryError.self) { try b.ledger(node: "gpu-b").finishRun(id: run, outcome: .failed, at: Self.date(6)) }
    #expect(try !b.removeNode("gpu-a"), "B cannot even see A's row to delete it")

    // The reader sees everything and may write nothing.
    #expect(try reader.nodes().map(\.heartbeat.node) == ["gpu-a", "gpu-b"])
    #expect(try reader.nodes().first?.holdings.count == 1)
    let refused = try #require(throws: PostgresError.self) { try reader.heartbeat(NodeHeartbeat(node: "gpu-a", agentVersion: "t", at: Self.date(9))) }
    #expect(refused.sqlState == "42501", "\(refused)")
  }

  @Test func passwordsNeverAppearInMessages() throws {
    let server = try PostgresServer.shared()
    // Nothing listens on the port after this cluster's: the connection fails, naming the target.
    let uri = "postgresql://fleet:s3cr3t-pw@127.0.0.1:\(try PostgresServer.freePort())/db"
    let error = try #require(throws: PostgresError.self) { try PostgresConnection(uri) }
    #expect(!error.description.contains("s3cr3t-pw"), "\(error)")
    #expect(error.description.contains("postgresql://fleet:***@127.0.0.1"), "\(error)")
    #expect(PostgresConnection.mask("host=h password=s3cr3t-pw user=u") == "host=h password=*** user=u")
    #expect(PostgresConnection.mask("postgresql://h/db?password=s3cr3t-pw&sslmode=require") == "postgresql://h/db?password=***&sslmode=require")
    _ = server
  }
}
