import Foundation

/// The fleet registry's schema, one versioned migration at a time (never edit one that shipped).
/// The version lives in `reconcile_schema`; migrators take an advisory lock so two nodes
/// starting at once do not both migrate.
enum PostgresMigrations {
  /// A step of the schema; its version is the row it adds to `reconcile_schema`.
  typealias Migration = SchemaMigration

  /// Every migration, in order; the last one's version is the schema this build writes.
  static let migrations: [Migration] = [
    Migration(
      version: 1,
      summary: "nodes, holdings, and every node's ledger",
      sql: """
        CREATE TABLE reconcile_node (
          name               TEXT PRIMARY KEY,
          pool               TEXT,
          labels             JSONB NOT NULL DEFAULT '{}',
          state              TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'draining', 'leaving')),
          disk_total         BIGINT,
          disk_free          BIGINT,
          vram               BIGINT,
          agent_version      TEXT NOT NULL,
          last_heartbeat     TIMESTAMPTZ NOT NULL,
          desired_commit     TEXT,
          last_apply_outcome TEXT,
          last_apply_at      TIMESTAMPTZ
        );
        CREATE TABLE reconcile_holding (
          node        TEXT NOT NULL REFERENCES reconcile_node (name) ON DELETE CASCADE,
          model       TEXT NOT NULL,
          version     TEXT NOT NULL,
          variant     TEXT NOT NULL,
          bytes       BIGINT NOT NULL CHECK (bytes >= 0),
          verified_at TIMESTAMPTZ NOT NULL,
          PRIMARY KEY (node, model, version, variant)
        );
        CREATE INDEX reconcile_holding_by_variant ON reconcile_holding (model, version, variant);
        CREATE TABLE reconcile_last_use (
          node        TEXT NOT NULL,
          model       TEXT NOT NULL,
          version     TEXT NOT NULL,
          variant     TEXT NOT NULL,
          last_use_at TIMESTAMPTZ NOT NULL,
          PRIMARY KEY (node, model, version, variant)
        );
        CREATE TABLE reconcile_unwanted (
          node           TEXT NOT NULL,
          model          TEXT NOT NULL,
          version        TEXT NOT NULL,
          variant        TEXT NOT NULL,
          unwanted_since TIMESTAMPTZ NOT NULL,
          PRIMARY KEY (node, model, version, variant)
        );
        CREATE TABLE reconcile_audit_run (
          id             BIGSERIAL PRIMARY KEY,
          node           TEXT NOT NULL,
          started_at     TIMESTAMPTZ NOT NULL,
          finished_at    TIMESTAMPTZ,
          run_user       TEXT NOT NULL,
          host           TEXT NOT NULL,
          command        TEXT NOT NULL,
          desired_commit TEXT,
          outcome        TEXT
        );
        CREATE INDEX reconcile_audit_run_by_node ON reconcile_audit_run (node, started_at);
        CREATE TABLE reconcile_audit_action (
          id          BIGSERIAL PRIMARY KEY,
          run_id      BIGINT NOT NULL REFERENCES reconcile_audit_run (id) ON DELETE CASCADE,
          node        TEXT NOT NULL,
          action      TEXT NOT NULL,
          subject     TEXT NOT NULL,
          bytes       BIGINT NOT NULL DEFAULT 0,
          source      TEXT,
          started_at  TIMESTAMPTZ NOT NULL,
          finished_at TIMESTAMPTZ,
          outcome     TEXT NOT NULL,
          detail      TEXT
        );
        CREATE INDEX reconcile_audit_action_by_run ON reconcile_audit_action (run_id, id);
        """),
    Migration(
      version: 2,
      summary: "row-level security: a node's role writes only its own rows",
      sql: """
        CREATE TABLE reconcile_node_role (
          role_name TEXT PRIMARY KEY,
          node      TEXT NOT NULL UNIQUE
        );
        -- The node the connected role may write as; NULL for any other role.
        CREATE FUNCTION reconcile_own_node() RETURNS TEXT LANGUAGE sql STABLE SECURITY DEFINER
          SET search_path = pg_catalog, public
          AS 'SELECT node FROM reconcile_node_role WHERE role_name = session_user';
        ALTER TABLE reconcile_node ENABLE ROW LEVEL SECURITY;
        CREATE POLICY reconcile_node_read ON reconcile_node FOR SELECT USING (true);
        CREATE POLICY reconcile_node_write ON reconcile_node FOR ALL USING (name = reconcile_own_node()) WITH CHECK (name = reconcile_own_node());
        ALTER TABLE reconcile_holding ENABLE ROW LEVEL SECURITY;
        CREATE POLICY reconcile_holding_read ON reconcile_holding FOR SELECT USING (true);
        CREATE POLICY reconcile_holding_write ON reconcile_holding FOR ALL USING (node = reconcile_own_node()) WITH CHECK (node = reconcile_own_node());
        ALTER TABLE reconcile_last_use ENABLE ROW LEVEL SECURITY;
        CREATE POLICY reconcile_last_use_read ON reconcile_last_use FOR SELECT USING (true);
        CREATE POLICY reconcile_last_use_write ON reconcile_last_use FOR ALL USING (node = reconcile_own_node()) WITH CHECK (node = reconcile_own_node());
        ALTER TABLE reconcile_unwanted ENABLE ROW LEVEL SECURITY;
        CREATE POLICY reconcile_unwanted_read ON reconcile_unwanted FOR SELECT USING (true);
        CREATE POLICY reconcile_unwanted_write ON reconcile_unwanted FOR ALL USING (node = reconcile_own_node()) WITH CHECK (node = reconcile_own_node());
        ALTER TABLE reconcile_audit_run ENABLE ROW LEVEL SECURITY;
        CREATE POLICY reconcile_audit_run_read ON reconcile_audit_run FOR SELECT USING (true);
        CREATE POLICY reconcile_audit_run_write ON reconcile_audit_run FOR ALL USING (node = reconcile_own_node()) WITH CHECK (node = reconcile_own_node());
        ALTER TABLE reconcile_audit_action ENABLE ROW LEVEL SECURITY;
        CREATE POLICY reconcile_audit_action_read ON reconcile_audit_action FOR SELECT USING (true);
        CREATE POLICY reconcile_audit_action_write ON reconcile_audit_action FOR ALL USING (node = reconcile_own_node()) WITH CHECK (node = reconcile_own_node());
        """),
    Migration(
      version: 3,
      summary: "why a run failed or stopped",
      sql: """
        ALTER TABLE reconcile_audit_run ADD COLUMN detail TEXT;
        """),
  ]

  /// The schema version this build writes.
  static var latest: Int { migrations.last?.version ?? 0 }

  /// An arbitrary key for `pg_advisory_xact_lock`, so concurrent migrators take turns.
  static let lockKey = 0x7265_636f_6e63

  /// The version the database holds; 0 when reconcile never migrated it.
  static func version(of connection: PostgresConnection) throws -> Int {
    let exists = try connection.query("SELECT to_regclass('reconcile_schema') IS NOT NULL")
    guard (exists.first?.first ?? nil) == "t" else { return 0 }
    let value = try connection.query("SELECT max(version) FROM reconcile_schema").first?.first ?? nil
    return value.flatMap { Int($0) } ?? 0
  }

  /// Brings the schema to `latest` when `migrate` (returning the versions applied), or checks
  /// that it already is; refuses a newer schema either way.
  static func bring(_ connection: PostgresConnection, migrate: Bool) throws -> [Int] {
    let found = try version(of: connection)
    if found > latest { throw PostgresSchemaError.tooNew(target: connection.masked, found: found, supported: latest) }
    guard found < latest else { return [] }
    guard migrate else { throw PostgresSchemaError.tooOld(target: connection.masked, found: found, latest: latest) }
    var applied: [Int] = []
    for migration in migrations where migration.version > found {
      let ran = try connection.transaction { () throws -> Bool in
        try connection.query("SELECT pg_advisory_xact_lock($1)", [String(lockKey)])
        try connection.execute("CREATE TABLE IF NOT EXISTS reconcile_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        // Another node may have migrated while this one waited for the lock.
        let current = try version(of: connection)
        if current > latest { throw PostgresSchemaError.tooNew(target: connection.masked, found: current, supported: latest) }
        guard current == migration.version - 1 else { return false }
        try connection.execute(migration.sql)
        try connection.query("INSERT INTO reconcile_schema (version) VALUES ($1)", [String(migration.version)])
        return true
      }
      if ran { applied.append(migration.version) }
    }
    return applied
  }
}

/// Why the fleet registry's schema cannot be used by this build.
public enum PostgresSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A newer reconcile migrated it.
  case tooNew(target: String, found: Int, supported: Int)
  /// It needs migrating, and this command does not migrate.
  case tooOld(target: String, found: Int, latest: Int)

  /// What happened and what to do.
  public var description: String {
    switch self {
    case .tooNew(let target, let found, let supported):
      "registry \(target) has schema version \(found), but this reconcile knows versions up to \(supported): a newer reconcile migrated it — upgrade reconcile on this node"
    case .tooOld(let target, let found, let latest):
      "registry \(target) has schema version \(found), this reconcile needs \(latest); run 'reconcile registry migrate' with a role that may create tables"
    }
  }
}
