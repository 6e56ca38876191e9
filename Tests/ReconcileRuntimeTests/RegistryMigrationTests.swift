import Foundation
import ReconcileCore
import Testing

@testable import ReconcileRuntime

/// Schema 1 as the first release shipped it, copied here rather than read from
/// `SQLiteRegistry.migrations`, so that a test fails when someone edits a shipped migration.
private let releasedSchema1 = """
  CREATE TABLE verified_file (
    device      INTEGER NOT NULL,  -- st_dev, raw bits of a UInt64
    inode       INTEGER NOT NULL,  -- st_ino, raw bits of a UInt64
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    ctime_ns    INTEGER NOT NULL,
    sha256      TEXT    NOT NULL CHECK (length(sha256) = 64),
    verified_at REAL    NOT NULL,  -- unix seconds
    -- One row per file: a file that changed replaces its stale record.
    PRIMARY KEY (device, inode)
  ) WITHOUT ROWID;

  CREATE TABLE variant_last_use (
    model       TEXT NOT NULL,
    version     TEXT NOT NULL,
    variant     TEXT NOT NULL,
    last_use_at REAL NOT NULL,     -- unix seconds
    PRIMARY KEY (model, version, variant)
  ) WITHOUT ROWID;

  CREATE TABLE variant_unwanted (
    model          TEXT NOT NULL,
    version        TEXT NOT NULL,
    variant        TEXT NOT NULL,
    unwanted_since REAL NOT NULL,  -- unix seconds
    PRIMARY KEY (model, version, variant)
  ) WITHOUT ROWID;

  CREATE TABLE audit_run (
    id             INTEGER PRIMARY KEY,
    started_at     REAL NOT NULL,  -- unix seconds
    finished_at    REAL,
    user           TEXT NOT NULL,
    host           TEXT NOT NULL,
    node           TEXT NOT NULL,
    command        TEXT NOT NULL,
    desired_commit TEXT,
    outcome        TEXT
  );
  CREATE INDEX audit_run_by_start ON audit_run (started_at);

  CREATE TABLE audit_action (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES audit_run (id) ON DELETE CASCADE,
    action      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    bytes       INTEGER NOT NULL DEFAULT 0,
    source      TEXT,
    started_at  REAL    NOT NULL,  -- unix seconds
    finished_at REAL,
    outcome     TEXT    NOT NULL,
    detail      TEXT
  );
  CREATE INDEX audit_action_by_run ON audit_action (run_id, id);
  """

private let wan = VariantID(name: "wan2.2-t2v-a14b", version: "2.2.0", variant: "fp8")
private let llama = VariantID(name: "llama-3.1-8b", version: "1.0", variant: "bf16")
private let sdxl = VariantID(name: "sd-xl", version: "1.0", variant: "fp16")
private let blob = StatFingerprint(device: 2049, inode: 77, size: 4096, mtimeNs: 1_700_000_000_000_000_000, ctimeNs: 1_700_000_000_000_000_001)
private let blobDigest = Digest(hex: String(repeating: "ab", count: 32))

private func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_700_000_000 + seconds) }

/// Writes a registry as the first release left it: schema 1, WAL, variant times without a node,
/// and the audit runs `runs` adds.
private func writeReleaseOneRegistry(at path: String, runs: String) throws {
  let database = try SQLiteDatabase(path: path)
  try database.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON")
  try database.execute(releasedSchema1)
  try database.execute(
    """
    PRAGMA user_version = 1;
    INSERT INTO verified_file VALUES (2049, 77, 4096, 1700000000000000000, 1700000000000000001, '\(String(repeating: "ab", count: 32))', 1700000000);
    INSERT INTO variant_last_use VALUES ('wan2.2-t2v-a14b', '2.2.0', 'fp8', 1700000010.25);
    INSERT INTO variant_last_use VALUES ('llama-3.1-8b', '1.0', 'bf16', 1700000020);
    INSERT INTO variant_unwanted VALUES ('sd-xl', '1.0', 'fp16', 1700000005.5);
    \(runs)
    """
  )
}

/// The node column of every row of `table`, sorted.
private func nodes(in table: String, path: String) throws -> [String] {
  try SQLiteDatabase(path: path).query("SELECT node FROM \(table) ORDER BY node") { $0.string(at: 0) }
}

@Suite struct RegistryMigrationTests {
  @Test func shippedMigrationOneIsUnchanged() {
    #expect(SQLiteRegistry.migrations.first?.sql == releasedSchema1)
  }

  @Test func releaseOneRegistryKeepsEveryRowWithTheLatestRunsNode() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("registry.sqlite")
    try writeReleaseOneRegistry(
      at: path,
      runs: """
        INSERT INTO audit_run VALUES (1, 1699999950, 1699999960, 'ops', 'old-host', 'old-name', 'apply', NULL, 'ok');
        INSERT INTO audit_run VALUES (2, 1700000000, 1700000030, 'ops', 'gpu-a-01.lan', 'gpu-a-01', 'apply --auto-approve', '3f2c1ab', 'failed');
        INSERT INTO audit_action VALUES (10, 2, 'download', 'wan2.2-t2v-a14b@2.2.0:fp8 a', 9000, 'hf://org/repo@1', 1700000001, 1700000020, 'ok', NULL);
        INSERT INTO audit_action VALUES (11, 2, 'evict', 'sd-xl@1.0:fp16', 0, NULL, 1700000021, 1700000022, 'failed', 'permission denied');
        INSERT INTO audit_run VALUES (3, 1700000100, NULL, 'ops', 'gpu-a-01.lan', 'gpu-a-01', 'apply', NULL, NULL);
        INSERT INTO audit_action VALUES (12, 3, 'download', 'llama-3.1-8b@1.0:bf16 b', 5, NULL, 1700000101, NULL, 'running', NULL);
        """)

    let registry = try SQLiteRegistry(path: path)
    #expect(try registry.schemaVersion() == SQLiteRegistry.latestSchemaVersion)
    #expect(try nodes(in: "variant_last_use", path: path) == ["gpu-a-01", "gpu-a-01"])
    #expect(try nodes(in: "variant_unwanted", path: path) == ["gpu-a-01"])
    #expect(try registry.verifiedDigests() == [blob: try #require(blobDigest)])

    let ledger = try registry.ledger(node: "gpu-a-01")
    #expect(try ledger.lastUse() == [wan: date(10.25), llama: date(20)])
    #expect(try ledger.unwantedSince() == [sdxl: date(5.5)])
    let runs = try ledger.recentRuns(limit: 10)
    #expect(runs.map(\.id) == [3, 2])
    #expect(runs.map(\.outcome) == [nil, .failed])
    #expect(runs[1] == AuditRun(
      id: 2, startedAt: date(0), finishedAt: date(30), user: "ops", host: "gpu-a-01.lan", node: "gpu-a-01",
      command: "apply --auto-approve", desiredCommit: "3f2c1ab", outcome: .failed))
    #expect(try ledger.actions(ofRun: 2) == [
      AuditAction(
        id: 10, runID: 2, action: "download", subject: "wan2.2-t2v-a14b@2.2.0:fp8 a", bytes: 9000,
        source: "hf://org/repo@1", startedAt: date(1), finishedAt: date(20), outcome: .ok),
      AuditAction(
        id: 11, runID: 2, action: "evict", subject: "sd-xl@1.0:fp16", startedAt: date(21), finishedAt: date(22),
        outcome: .failed, detail: "permission denied"),
    ])
    #expect(try registry.ledger(node: "old-name").recentRuns(limit: 10).map(\.id) == [1])
    #expect(try registry.ledger(node: "old-name").lastUse().isEmpty)

    // Another node starts a run on the shared file; closing node A's unfinished runs leaves it.
    let other = try SQLiteRegistry(path: path).ledger(node: "gpu-b-07")
    let live = try other.beginRun(user: "ops", host: "gpu-b-07.lan", command: "apply", desiredCommit: nil, at: date(200))
    let liveAction = try other.beginAction(run: live, action: .download, subject: "x", bytes: 1, source: nil, at: date(201))
    #expect(try ledger.closeUnfinishedRuns() == 1)
    #expect(try ledger.recentRuns(limit: 10).map(\.outcome) == [.interrupted, .failed])
    #expect(try ledger.actions(ofRun: 3).map(\.outcome) == [.interrupted])
    #expect(try other.recentRuns(limit: 10).map(\.outcome) == [nil])
    #expect(try other.actions(ofRun: live).map(\.id) == [liveAction])
    #expect(try other.actions(ofRun: live).map(\.outcome) == [.running])
  }

  @Test func rowsWithoutARunAreAdoptedByTheFirstLedger() throws {
    let directory = try RegistryTestDirectory()
    let path = directory.path("registry.sqlite")
    try writeReleaseOneRegistry(at: path, runs: "")

    let registry = try SQLiteRegistry(path: path)
    #expect(try nodes(in: "variant_last_use", path: path) == ["", ""])
    #expect(try nodes(in: "variant_unwanted", path: path) == [""])
    // The node already has a later use of wan and an earlier unwanted time of sd-xl: they merge.
    try SQLiteDatabase(path: path).execute(
      """
      INSERT INTO variant_last_use (node, model, version, variant, last_use_at)
        VALUES ('gpu-a-01', 'wan2.2-t2v-a14b', '2.2.0', 'fp8', 1700000050);
      INSERT INTO variant_unwanted (node, model, version, variant, unwanted_since)
        VALUES ('gpu-a-01', 'sd-xl', '1.0', 'fp16', 1700000001);
      """)

    let ledger = try registry.ledger(node: "gpu-a-01")
    #expect(try ledger.lastUse() == [wan: date(50), llama: date(20)])
    #expect(try ledger.unwantedSince() == [sdxl: date(1)])
    #expect(try nodes(in: "variant_last_use", path: path) == ["gpu-a-01", "gpu-a-01"])
    #expect(try nodes(in: "variant_unwanted", path: path) == ["gpu-a-01"])
    // Adopted once: a second node finds nothing left to take.
    #expect(try SQLiteRegistry(path: path).ledger(node: "gpu-b-07").lastUse().isEmpty)
  }

  @Test func auditRunsAreIndexedByNode() throws {
    let registry = try SQLiteRegistry.inMemory()
    let indexes = try registry.withDatabase { database in
      try database.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_run'") {
        $0.string(at: 0)
      }
    }
    #expect(indexes == ["audit_run_by_node"])
    let plan = try registry.withDatabase { database in
      try database.query(
        "EXPLAIN QUERY PLAN SELECT id FROM audit_run WHERE node = 'n' ORDER BY started_at DESC, id DESC LIMIT 5"
      ) { $0.string(at: 3) }
    }
    #expect(plan.contains { $0.contains("audit_run_by_node") }, "\(plan)")
  }
}
