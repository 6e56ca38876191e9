import Foundation
import ReconcileCore

/// One node's ledger in the fleet registry: every row it reads or writes carries its name.
public struct PostgresNodeLedger: NodeLedger {
  let registry: PostgresRegistry
  /// The node whose rows this ledger reads and writes.
  public let node: String

  public func lastUse() throws -> [VariantID: Date] {
    try variantDates("SELECT model, version, variant, extract(epoch FROM last_use_at) FROM reconcile_last_use WHERE node = $1")
  }

  public func recordUse(_ variant: VariantID, at date: Date) throws {
    try registry.withConnection { connection in
      try connection.query(
        """
        INSERT INTO reconcile_last_use (node, model, version, variant, last_use_at) VALUES ($1, $2, $3, $4, to_timestamp($5::double precision))
        ON CONFLICT (node, model, version, variant) DO UPDATE SET last_use_at = greatest(reconcile_last_use.last_use_at, excluded.last_use_at)
        """, [node] + Self.values(variant) + [PostgresRegistry.seconds(date)])
    }
  }

  public func unwantedSince() throws -> [VariantID: Date] {
    try variantDates("SELECT model, version, variant, extract(epoch FROM unwanted_since) FROM reconcile_unwanted WHERE node = $1")
  }

  public func markUnwanted(_ variants: [VariantID], at date: Date) throws {
    guard !variants.isEmpty else { return }
    try registry.withConnection { connection in
      try connection.transaction {
        for variant in variants {
          try connection.query(
            """
            INSERT INTO reconcile_unwanted (node, model, version, variant, unwanted_since) VALUES ($1, $2, $3, $4, to_timestamp($5::double precision))
            ON CONFLICT (node, model, version, variant) DO UPDATE SET unwanted_since = least(reconcile_unwanted.unwanted_since, excluded.unwanted_since)
            """, [node] + Self.values(variant) + [PostgresRegistry.seconds(date)])
        }
      }
    }
  }

  public func clearUnwanted(_ variants: [VariantID]) throws {
    guard !variants.isEmpty else { return }
    try registry.withConnection { connection in
      try connection.transaction {
        for variant in variants {
          try connection.query("DELETE FROM reconcile_unwanted WHERE node = $1 AND model = $2 AND version = $3 AND variant = $4", [node] + Self.values(variant))
        }
      }
    }
  }

  public func beginRun(user: String, host: String, command: String, desiredCommit: String?, at date: Date) throws -> Int64 {
    try registry.withConnection { connection in
      let rows = try connection.query(
        """
        INSERT INTO reconcile_audit_run (node, started_at, run_user, host, command, desired_commit)
        VALUES ($1, to_timestamp($2::double precision), $3, $4, $5, $6) RETURNING id
        """, [node, PostgresRegistry.seconds(date), user, host, command, desiredCommit])
      guard let id = (rows.first?.first ?? nil).flatMap({ Int64($0) }) else {
        throw PostgresError(message: "no id returned for a new run", target: registry.target)
      }
      return id
    }
  }

  @discardableResult
  public func closeUnfinishedRuns() throws -> Int {
    try registry.withConnection { connection in
      try connection.transaction { () throws -> Int in
        try connection.query(
          """
          UPDATE reconcile_audit_action SET outcome = 'interrupted'
          WHERE outcome = 'running' AND run_id IN (SELECT id FROM reconcile_audit_run WHERE node = $1 AND outcome IS NULL)
          """, [node])
        return try connection.query("UPDATE reconcile_audit_run SET outcome = 'interrupted' WHERE node = $1 AND outcome IS NULL RETURNING id", [node]).count
      }
    }
  }

  public func finishRun(id: Int64, outcome: RunOutcome, detail: String?, at date: Date) throws {
    try registry.withConnection { connection in
      let changed = try connection.query(
        "UPDATE reconcile_audit_run SET outcome = $1, finished_at = to_timestamp($2::double precision), detail = $5 WHERE id = $3 AND node = $4 RETURNING id",
        [outcome.rawValue, PostgresRegistry.seconds(date), String(id), node, detail])
      guard !changed.isEmpty else { throw SQLiteRegistryError.unknownRun(id: id, node: node) }
    }
  }

  public func beginAction(run runID: Int64, action: Action, subject: String, bytes: Int64, source: String?, at date: Date) throws -> Int64 {
    try registry.withConnection { connection in
      let rows = try connection.query(
        """
        INSERT INTO reconcile_audit_action (run_id, node, action, subject, bytes, source, started_at, outcome)
        SELECT id, node, $3, $4, $5, $6, to_timestamp($7::double precision), 'running' FROM reconcile_audit_run WHERE id = $1 AND node = $2
        RETURNING id
        """, [String(runID), node, action.rawValue, subject, String(bytes), source, PostgresRegistry.seconds(date)])
      guard let id = (rows.first?.first ?? nil).flatMap({ Int64($0) }) else { throw SQLiteRegistryError.unknownRun(id: runID, node: node) }
      return id
    }
  }

  public func finishAction(id: Int64, outcome: ActionRecordOutcome, bytes: Int64?, detail: String?, at date: Date) throws {
    try registry.withConnection { connection in
      let changed = try connection.query(
        """
        UPDATE reconcile_audit_action SET outcome = $1, bytes = coalesce($2::bigint, bytes), detail = $3, finished_at = to_timestamp($4::double precision)
        WHERE id = $5 AND node = $6 RETURNING id
        """, [outcome.rawValue, bytes.map(String.init), detail, PostgresRegistry.seconds(date), String(id), node])
      guard !changed.isEmpty else { throw SQLiteRegistryError.unknownAction(id: id, node: node) }
    }
  }

  public func recentRuns(limit: Int) throws -> [AuditRun] {
    guard limit > 0 else { return [] }
    return try registry.withConnection { connection in
      let rows = try connection.query(
        """
        SELECT id, extract(epoch FROM started_at), extract(epoch FROM finished_at), run_user, host, node, command, desired_commit, outcome, detail
        FROM reconcile_audit_run WHERE node = $1 ORDER BY started_at DESC, id DESC LIMIT $2
        """, [node, String(limit)])
      return try rows.map { row in
        guard row.count == 10, let id = row[0].flatMap({ Int64($0) }) else { throw PostgresError(message: "a run row without an id", target: registry.target) }
        let outcome = try row[8].map { text -> RunOutcome in
          guard let outcome = RunOutcome(rawValue: text) else {
            throw SQLiteRegistryError.unknownOutcome(path: registry.target, table: "reconcile_audit_run", id: id, found: text, known: RunOutcome.allCases.map(\.rawValue))
          }
          return outcome
        }
        return AuditRun(
          id: id, startedAt: PostgresRegistry.date(row[1]) ?? .distantPast, finishedAt: PostgresRegistry.date(row[2]), user: row[3] ?? "",
          host: row[4] ?? "", node: row[5] ?? node, command: row[6] ?? "", desiredCommit: row[7], outcome: outcome, detail: row[9])
      }
    }
  }

  public func actions(ofRun runID: Int64) throws -> [AuditAction] {
    try registry.withConnection { connection in
      let rows = try connection.query(
        """
        SELECT id, run_id, action, subject, bytes, source, extract(epoch FROM started_at), extract(epoch FROM finished_at), outcome, detail
        FROM reconcile_audit_action WHERE run_id = $1 AND node = $2 ORDER BY id
        """, [String(runID), node])
      return try rows.map { row in
        guard row.count == 10, let id = row[0].flatMap({ Int64($0) }) else { throw PostgresError(message: "an action row without an id", target: registry.target) }
        guard let outcome = row[8].flatMap(ActionRecordOutcome.init(rawValue:)) else {
          throw SQLiteRegistryError.unknownOutcome(
            path: registry.target, table: "reconcile_audit_action", id: id, found: row[8], known: ActionRecordOutcome.allCases.map(\.rawValue))
        }
        return AuditAction(
          id: id, runID: runID, action: row[2] ?? "", subject: row[3] ?? "", bytes: row[4].flatMap { Int64($0) } ?? 0, source: row[5],
          startedAt: PostgresRegistry.date(row[6]) ?? .distantPast, finishedAt: PostgresRegistry.date(row[7]), outcome: outcome, detail: row[9])
      }
    }
  }

  /// Rows of (model, version, variant, epoch seconds) for this node; a row whose time is not a
  /// number is left out.
  private func variantDates(_ sql: String) throws -> [VariantID: Date] {
    try registry.withConnection { connection in
      var dates: [VariantID: Date] = [:]
      for row in try connection.query(sql, [node]) {
        guard row.count == 4, let model = row[0], let version = row[1], let variant = row[2], let date = PostgresRegistry.date(row[3]) else { continue }
        dates[VariantID(name: model, version: version, variant: variant)] = date
      }
      return dates
    }
  }

  private static func values(_ variant: VariantID) -> [String?] {
    [variant.model.name, variant.model.version, variant.variant]
  }
}
