import Foundation
import ReconcileCore
import Testing

@testable import ReconcileRuntime

/// A registry an operator edited by hand: tables rebuilt without their NOT NULL constraints,
/// outcomes this build does not know, NULLs and text where numbers belong. Reading it must not
/// crash; a value that cannot be read is either left out or refused with the row it is in.
@Suite struct RegistryHandEditTests {
  let directory: RegistryTestDirectory
  let path: String

  /// Builds the current schema with every `NOT NULL` removed (primary-key columns of the
  /// `WITHOUT ROWID` tables stay non-null: SQLite enforces that itself), then hostile rows.
  init() throws {
    directory = try RegistryTestDirectory()
    path = directory.path("registry.sqlite")
    let database = try SQLiteDatabase(path: path)
    for migration in SQLiteRegistry.migrations {
      try database.execute(migration.sql.replacingOccurrences(of: "NOT NULL", with: ""))
    }
    try database.execute(
      """
      PRAGMA user_version = \(SQLiteRegistry.latestSchemaVersion);
      INSERT INTO audit_run (id, started_at, user, host, node, command, outcome)
        VALUES (1, 1700000010, 'ops', 'h', 'n', 'apply', 'exploded');
      INSERT INTO audit_run (id, started_at, user, host, node, command, outcome)
        VALUES (2, NULL, NULL, NULL, 'n', NULL, NULL);
      INSERT INTO audit_run (id, started_at, user, host, node, command, outcome)
        VALUES (3, 1700000030, 'ops', 'h', 'n', 'apply', 'ok');
      INSERT INTO audit_action (id, run_id, action, subject, bytes, started_at, outcome)
        VALUES (10, 3, 'download', 'a', 1, 1700000030, NULL);
      INSERT INTO audit_action (id, run_id, action, subject, bytes, started_at, outcome)
        VALUES (11, 3, 'download', 'b', 1, 1700000030, 'weird');
      INSERT INTO audit_action (id, run_id, action, subject, bytes, started_at, outcome)
        VALUES (20, 2, NULL, NULL, NULL, NULL, 'ok');
      INSERT INTO variant_last_use (node, model, version, variant, last_use_at) VALUES
        ('n', 'null-time', '1', 'fp16', NULL),
        ('n', 'text-time', '1', 'fp16', 'yesterday'),
        ('n', 'good', '1', 'fp16', 1700000000);
      INSERT INTO variant_unwanted (node, model, version, variant, unwanted_since) VALUES
        ('n', 'null-time', '1', 'fp16', NULL),
        ('n', 'good', '1', 'fp16', 1700000000);
      INSERT INTO verified_file (device, inode, size, mtime_ns, ctime_ns, sha256, verified_at)
        VALUES (1, 2, NULL, NULL, NULL, NULL, NULL);
      """
    )
  }

  @Test func unknownRunOutcomeIsRefusedWithTheRowAndTheFix() throws {
    let ledger = try SQLiteRegistry(path: path).ledger(node: "n")
    #expect(try ledger.recentRuns(limit: 1).map(\.outcome) == [.ok])

    let error = try #require(throws: SQLiteRegistryError.self) { try ledger.recentRuns(limit: 3) }
    #expect(
      error == .unknownOutcome(path: path, table: "audit_run", id: 1, found: "exploded", known: ["ok", "failed", "interrupted"]))
    #expect(error.description.contains("audit_run row 1 has outcome 'exploded'"))
    #expect(error.description.contains(path))

    // The fix the message names makes the log readable; NULL text reads as empty, not as a crash.
    try SQLiteDatabase(path: path).execute("UPDATE audit_run SET outcome = 'failed' WHERE id = 1")
    let runs = try ledger.recentRuns(limit: 3)
    #expect(runs.map(\.id) == [3, 1, 2])
    #expect(runs[2].user == "" && runs[2].command == "" && runs[2].outcome == nil)
    #expect(runs[2].startedAt == Date(timeIntervalSince1970: 0))
  }

  @Test func missingOrUnknownActionOutcomeIsRefused() throws {
    let ledger = try SQLiteRegistry(path: path).ledger(node: "n")
    let missing = try #require(throws: SQLiteRegistryError.self) { try ledger.actions(ofRun: 3) }
    #expect(missing == .unknownOutcome(path: path, table: "audit_action", id: 10, found: nil, known: ActionRecordOutcome.allCases.map(\.rawValue)))
    #expect(missing.description.contains("audit_action row 10 has no outcome"))

    try SQLiteDatabase(path: path).execute("DELETE FROM audit_action WHERE id = 10")
    let unknown = try #require(throws: SQLiteRegistryError.self) { try ledger.actions(ofRun: 3) }
    #expect(unknown.description.contains("audit_action row 11 has outcome 'weird'"))

    let nulls = try ledger.actions(ofRun: 2)
    #expect(nulls.map(\.action) == [""] && nulls.map(\.subject) == [""] && nulls.map(\.bytes) == [0])
  }

  @Test func closingUnfinishedRunsIgnoresWhatItCannotRead() throws {
    let ledger = try SQLiteRegistry(path: path).ledger(node: "n")
    #expect(try ledger.closeUnfinishedRuns() == 1)
    try SQLiteDatabase(path: path).execute("UPDATE audit_run SET outcome = 'failed' WHERE id = 1")
    #expect(try ledger.recentRuns(limit: 3).map(\.outcome) == [.ok, .failed, .interrupted])
  }

  @Test func timesThatAreNotNumbersAreNoRecord() throws {
    let ledger = try SQLiteRegistry(path: path).ledger(node: "n")
    let good = VariantID(name: "good", version: "1", variant: "fp16")
    #expect(try ledger.lastUse() == [good: Date(timeIntervalSince1970: 1_700_000_000)])
    #expect(try ledger.unwantedSince() == [good: Date(timeIntervalSince1970: 1_700_000_000)])
    // Recording again replaces the unreadable time, where max and min would keep it forever.
    let null = VariantID(name: "null-time", version: "1", variant: "fp16")
    let text = VariantID(name: "text-time", version: "1", variant: "fp16")
    let later = Date(timeIntervalSince1970: 1_700_000_100)
    try ledger.markUnwanted([null], at: later)
    try ledger.recordUse(null, at: later)
    try ledger.recordUse(text, at: later)
    #expect(try ledger.unwantedSince()[null] == later)
    #expect(try ledger.lastUse()[null] == later)
    #expect(try ledger.lastUse()[text] == later)
  }

  @Test func verifiedRecordWithoutADigestIsACacheMiss() throws {
    #expect(try SQLiteRegistry(path: path).verifiedDigests().isEmpty)
  }
}
