import Foundation
import ReconcileCore

/// The audit log of this node: every run of reconcile on it and every action the run took.
extension SQLiteNodeLedger {
  /// Records the start of a run of this node and returns its id.
  public func beginRun(user: String, host: String, command: String, desiredCommit: String?, at date: Date) throws
    -> Int64
  {
    try registry.withDatabase { database in
      try database.run(
        """
        INSERT INTO audit_run (started_at, user, host, node, command, desired_commit)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
        [SQLiteValue(date), .text(user), .text(host), .text(node), .text(command), SQLiteValue(desiredCommit)]
      )
      return database.lastInsertRowID
    }
  }

  /// Marks this node's runs that never finished (their process was killed), and their actions
  /// still running, as interrupted; returns how many runs. Call it while holding the root's lock,
  /// when no other run of this node can be in progress; other nodes' runs are left alone.
  @discardableResult
  public func closeUnfinishedRuns() throws -> Int {
    try registry.withDatabase { database in
      try database.transaction {
        try database.run(
          """
          UPDATE audit_action SET outcome = ?
          WHERE outcome = ? AND run_id IN (SELECT id FROM audit_run WHERE node = ?)
          """,
          [.text(ActionRecordOutcome.interrupted.rawValue), .text(ActionRecordOutcome.running.rawValue), .text(node)]
        )
        return try database.run(
          "UPDATE audit_run SET outcome = ? WHERE outcome IS NULL AND node = ?",
          [.text(RunOutcome.interrupted.rawValue), .text(node)]
        )
      }
    }
  }

  /// Records how run `id` of this node ended.
  public func finishRun(id: Int64, outcome: RunOutcome, detail: String?, at date: Date) throws {
    try registry.withDatabase { database in
      let changed = try database.run(
        "UPDATE audit_run SET outcome = ?, finished_at = ?, detail = ? WHERE id = ? AND node = ?",
        [.text(outcome.rawValue), SQLiteValue(date), detail.map { .text($0) } ?? .null, .integer(id), .text(node)]
      )
      guard changed > 0 else { throw SQLiteRegistryError.unknownRun(id: id, node: node) }
    }
  }

  /// Records the start of an action of run `runID` of this node and returns its id; its outcome
  /// is `running` until `finishAction`.
  public func beginAction(
    run runID: Int64, action: Action, subject: String, bytes: Int64, source: String?, at date: Date
  ) throws -> Int64 {
    try registry.withDatabase { database in
      // Inserted from the run's row, so a run of another node (or none) inserts nothing.
      let inserted = try database.run(
        """
        INSERT INTO audit_action (run_id, action, subject, bytes, source, started_at, outcome)
        SELECT id, ?, ?, ?, ?, ?, ? FROM audit_run WHERE id = ? AND node = ?
        """,
        [
          .text(action.rawValue), .text(subject), .integer(bytes), SQLiteValue(source), SQLiteValue(date),
          .text(ActionRecordOutcome.running.rawValue), .integer(runID), .text(node),
        ]
      )
      guard inserted > 0 else { throw SQLiteRegistryError.unknownRun(id: runID, node: node) }
      return database.lastInsertRowID
    }
  }

  /// Records how action `id` of a run of this node ended; `bytes` replaces the count given at the
  /// start unless nil.
  public func finishAction(id: Int64, outcome: ActionRecordOutcome, bytes: Int64?, detail: String?, at date: Date)
    throws
  {
    try registry.withDatabase { database in
      let changed = try database.run(
        """
        UPDATE audit_action SET outcome = ?, bytes = coalesce(?, bytes), detail = ?, finished_at = ?
        WHERE id = ? AND run_id IN (SELECT id FROM audit_run WHERE node = ?)
        """,
        [.text(outcome.rawValue), SQLiteValue(bytes), SQLiteValue(detail), SQLiteValue(date), .integer(id), .text(node)]
      )
      guard changed > 0 else { throw SQLiteRegistryError.unknownAction(id: id, node: node) }
    }
  }

  /// This node's latest `limit` runs, newest first.
  public func recentRuns(limit: Int) throws -> [AuditRun] {
    guard limit > 0 else { return [] }
    return try registry.withDatabase { database in
      try database.query(
        """
        SELECT id, started_at, finished_at, user, host, node, command, desired_commit, outcome, detail
        FROM audit_run WHERE node = ? ORDER BY started_at DESC, id DESC LIMIT ?
        """,
        [.text(node), SQLiteValue(limit)]
      ) { row in
        let id = row.int64(at: 0)
        let outcome: RunOutcome? =
          row.isNull(at: 8) ? nil : try knownOutcome(row.column(8), table: "audit_run", id: id, database: database)
        return AuditRun(
          id: id, startedAt: row.date(at: 1), finishedAt: row.column(2),
          user: row.string(at: 3), host: row.string(at: 4), node: row.string(at: 5), command: row.string(at: 6),
          desiredCommit: row.column(7), outcome: outcome, detail: row.column(9)
        )
      }
    }
  }

  /// The actions of run `runID`, in the order they began; none when the run is another node's.
  public func actions(ofRun runID: Int64) throws -> [AuditAction] {
    try registry.withDatabase { database in
      try database.query(
        """
        SELECT audit_action.id, run_id, action, subject, bytes, source,
               audit_action.started_at, audit_action.finished_at, audit_action.outcome, audit_action.detail
        FROM audit_action JOIN audit_run ON audit_run.id = audit_action.run_id
        WHERE run_id = ? AND audit_run.node = ? ORDER BY audit_action.id
        """,
        [.integer(runID), .text(node)]
      ) { row in
        let id = row.int64(at: 0)
        return AuditAction(
          id: id, runID: row.int64(at: 1), action: row.string(at: 2), subject: row.string(at: 3),
          bytes: row.int64(at: 4), source: row.column(5), startedAt: row.date(at: 6), finishedAt: row.column(7),
          outcome: try knownOutcome(row.column(8), table: "audit_action", id: id, database: database),
          detail: row.column(9)
        )
      }
    }
  }

  /// The outcome `text` names. A value this build does not know (a hand edit, or a newer
  /// reconcile's) is refused with the row it is in, rather than shown as something it is not.
  private func knownOutcome<Outcome: RawRepresentable<String> & CaseIterable>(
    _ text: String?, table: String, id: Int64, database: SQLiteDatabase
  ) throws -> Outcome {
    if let text, let outcome = Outcome(rawValue: text) { return outcome }
    throw SQLiteRegistryError.unknownOutcome(
      path: database.path, table: table, id: id, found: text, known: Outcome.allCases.map(\.rawValue))
  }
}
