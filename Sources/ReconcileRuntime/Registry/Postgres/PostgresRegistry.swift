import Foundation
import ReconcileCore

/// The fleet's shared registry in PostgreSQL: nodes and their heartbeats, what each holds
/// verified, and every node's ledger (last use, unwanted-since, audit runs and actions), all
/// keyed by node. The verified-file cache stays in each node's SQLite file.
///
/// Safe to share between threads: every call holds a lock for its whole database work.
public final class PostgresRegistry: FleetRegistry, @unchecked Sendable {
  /// The registry as given, with its password masked.
  public var target: String { connection.masked }
  /// The schema versions this open applied, in order; empty when it was already current.
  public let appliedMigrations: [Int]

  let connection: PostgresConnection
  private let lock = NSLock()

  /// Connects to `conninfo`; with `migrate`, brings the schema to this build's version (the
  /// role must be allowed to), otherwise refuses a schema older than this build. A schema newer
  /// than this build is always refused.
  public init(_ conninfo: String, migrate: Bool = true) throws {
    let connection = try PostgresConnection(conninfo)
    self.connection = connection
    appliedMigrations = try PostgresMigrations.bring(connection, migrate: migrate)
  }

  /// Runs `body` with the connection while holding the lock.
  func withConnection<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
    lock.lock()
    defer { lock.unlock() }
    return try body(connection)
  }

  /// The ledger of `node` in this registry.
  public func ledger(node: String) -> PostgresNodeLedger { PostgresNodeLedger(registry: self, node: node) }

  /// The schema version the database holds.
  public func schemaVersion() throws -> Int {
    try withConnection { try PostgresMigrations.version(of: $0) }
  }

  // MARK: Fleet

  public func heartbeat(_ heartbeat: NodeHeartbeat, registering: Bool) throws {
    if !registering {
      let known = try withConnection { try $0.query("SELECT 1 FROM reconcile_node WHERE name = $1", [heartbeat.node]) }
      guard !known.isEmpty else { return }
    }
    try withConnection { connection in
      try connection.query(
        """
        INSERT INTO reconcile_node (name, pool, state, disk_total, disk_free, vram, agent_version, last_heartbeat,
                                    desired_commit, last_apply_outcome, last_apply_at, labels)
        VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8::double precision), $9, $10, to_timestamp($11::double precision), $12::jsonb)
        ON CONFLICT (name) DO UPDATE SET
          pool = excluded.pool, state = excluded.state, disk_total = excluded.disk_total, disk_free = excluded.disk_free, labels = excluded.labels,
          vram = excluded.vram, agent_version = excluded.agent_version, last_heartbeat = excluded.last_heartbeat,
          desired_commit = coalesce(excluded.desired_commit, reconcile_node.desired_commit),
          last_apply_outcome = coalesce(excluded.last_apply_outcome, reconcile_node.last_apply_outcome),
          last_apply_at = coalesce(excluded.last_apply_at, reconcile_node.last_apply_at)
        """,
        [
          heartbeat.node, heartbeat.pool, heartbeat.state.rawValue, heartbeat.diskTotal.map(String.init), heartbeat.diskFree.map(String.init),
          heartbeat.vram.map(String.init), heartbeat.agentVersion, Self.seconds(heartbeat.at), heartbeat.desiredCommit,
          heartbeat.lastApply?.outcome, heartbeat.lastApply.map { Self.seconds($0.at) },
          String(decoding: (try? JSONEncoder().encode(heartbeat.labels)) ?? Data("{}".utf8), as: UTF8.self),
        ])
    }
  }

  public func replaceHoldings(node: String, _ holdings: [HeldVariant], at date: Date) throws {
    try withConnection { connection in
      try connection.transaction {
        try connection.query("DELETE FROM reconcile_holding WHERE node = $1", [node])
        for held in holdings {
          try connection.query(
            """
            INSERT INTO reconcile_holding (node, model, version, variant, bytes, verified_at)
            VALUES ($1, $2, $3, $4, $5, to_timestamp($6::double precision))
            """,
            [node, held.variant.model.name, held.variant.model.version, held.variant.variant, String(held.bytes), Self.seconds(date)])
        }
      }
    }
  }

  /// Records that `node` now holds `held` verified, as of `date`, keeping its other holdings.
  public func addHolding(node: String, _ held: HeldVariant, at date: Date) throws {
    try withConnection { connection in
      try connection.query(
        """
        INSERT INTO reconcile_holding (node, model, version, variant, bytes, verified_at)
        VALUES ($1, $2, $3, $4, $5, to_timestamp($6::double precision))
        ON CONFLICT (node, model, version, variant) DO UPDATE SET bytes = excluded.bytes, verified_at = excluded.verified_at
        """,
        [node, held.variant.model.name, held.variant.model.version, held.variant.variant, String(held.bytes), Self.seconds(date)])
    }
  }

  public func nodes() throws -> [FleetNode] {
    try withConnection { connection in
      let rows = try connection.query(
        """
        SELECT name, pool, state, disk_total, disk_free, vram, agent_version, extract(epoch FROM last_heartbeat),
               desired_commit, last_apply_outcome, extract(epoch FROM last_apply_at), labels::text
        FROM reconcile_node ORDER BY name
        """)
      let held = try connection.query("SELECT node, model, version, variant, bytes FROM reconcile_holding ORDER BY node, model, version, variant")
      var holdings: [String: [HeldVariant]] = [:]
      for row in held {
        guard row.count == 5, let node = row[0], let model = row[1], let version = row[2], let variant = row[3] else { continue }
        holdings[node, default: []].append(HeldVariant(variant: VariantID(name: model, version: version, variant: variant), bytes: Int64(row[4] ?? "") ?? 0))
      }
      return rows.compactMap { row -> FleetNode? in
        guard row.count == 12, let name = row[0] else { return nil }
        let lastApply = row[9].flatMap { outcome in Self.date(row[10]).map { NodeHeartbeat.LastApply(outcome: outcome, at: $0) } }
        let heartbeat = NodeHeartbeat(
          node: name, pool: row[1], state: row[2].flatMap(NodeState.init(rawValue:)) ?? .ready, diskTotal: row[3].flatMap { Int64($0) },
          diskFree: row[4].flatMap { Int64($0) }, vram: row[5].flatMap { Int64($0) }, agentVersion: row[6] ?? "", at: Self.date(row[7]) ?? .distantPast,
          desiredCommit: row[8], lastApply: lastApply)
        var node = FleetNode(heartbeat: heartbeat, holdings: holdings[name] ?? [])
        // Labels are informative: a row whose labels are not a flat string map keeps none.
        node.heartbeat.labels = row[11].flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        return node
      }
    }
  }

  @discardableResult
  public func removeNode(_ node: String) throws -> Bool {
    try withConnection { connection in
      try connection.transaction { () throws -> Bool in
        for table in ["reconcile_holding", "reconcile_last_use", "reconcile_unwanted"] {
          try connection.query("DELETE FROM \(table) WHERE node = $1", [node])
        }
        try connection.query("DELETE FROM reconcile_audit_run WHERE node = $1", [node])
        return !(try connection.query("DELETE FROM reconcile_node WHERE name = $1 RETURNING name", [node])).isEmpty
      }
    }
  }

  // MARK: Values

  /// Unix seconds as text, for `to_timestamp`.
  static func seconds(_ date: Date) -> String { String(format: "%.6f", date.timeIntervalSince1970) }

  /// A date from `extract(epoch FROM …)` text; nil for NULL or text that is not a number.
  static func date(_ text: String?) -> Date? {
    guard let text, let seconds = Double(text), seconds.isFinite else { return nil }
    return Date(timeIntervalSince1970: seconds)
  }
}
