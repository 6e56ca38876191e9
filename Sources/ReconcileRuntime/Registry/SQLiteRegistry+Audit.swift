import Foundation

/// The audit log: every run of reconcile and every action it took.
extension SQLiteRegistry {
  /// Records the start of a run and returns its id.
  public func beginRun(
    user: String, host: String, node: String, command: String, desiredCommit: String?, at date: Date
  ) throws -> Int64 {
    try withDatabase { database in
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

  /// Marks runs and actions that never finished (their process was killed) as `interrupted`.
  /// Call it while holding the root's lock, when no other run can be in progress.
  @discardableResult
  public func closeUnfinishedRuns() throws -> Int {
    try withDatabase { database in
      try database.transaction {
        try database.run("UPDATE audit_action SET outcome = 'interrupted' WHERE outcome = 'running'")
        return try database.run("UPDATE audit_run SET outcome = 'interrupted' WHERE outcome IS NULL")
      }
    }
  }

  /// Records how run `id` ended.
  public func finishRun(id: Int64, outcome: String, at date: Date) throws {
    try withDatabase { database in
      let changed = try database.run(
        "UPDATE audit_run SET outcome = ?, finished_at = ? WHERE id = ?",
        [.text(outcome), SQLiteValue(date), .integer(id)]
      )
      guard changed > 0 else { throw SQLiteRegistryError.unknownRun(id: id) }
    }
  }

  /// Records the start of an action of run `runID` and returns its id; its outcome is
  /// `AuditAction.runningOutcome` until `finishAction`.
  public func beginAction(
    run runID: Int64, action: String, subject: String, bytes: Int64 = 0, source: String? = nil, at date: Date
  ) throws -> Int64 {
    try withDatabase { database in
      do {
        try database.run(
          """
          INSERT INTO audit_action (run_id, action, subject, bytes, source, started_at, outcome)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          """,
          [
            .integer(runID), .text(action), .text(subject), .integer(bytes), SQLiteValue(source),
            SQLiteValue(date), .text(AuditAction.runningOutcome),
          ]
        )
      } catch let error as SQLiteError where error.isForeignKeyViolation {
        throw SQLiteRegistryError.unknownRun(id: runID)
      }
      return database.lastInsertRowID
    }
  }

  /// Records how action `id` ended; `bytes` replaces the count given at the start unless nil.
  public func finishAction(id: Int64, outcome: String, bytes: Int64? = nil, detail: String? = nil, at date: Date)
    throws
  {
    try withDatabase { database in
      let changed = try database.run(
        """
        UPDATE audit_action SET outcome = ?, bytes = coalesce(?, bytes), detail = ?, finished_at = ?
        WHERE id = ?
        """,
        [.text(outcome), SQLiteValue(bytes), SQLiteValue(detail), SQLiteValue(date), .integer(id)]
      )
      guard changed > 0 else { throw SQLiteRegistryError.unknownAction(id: id) }
    }
  }

  /// The latest `limit` runs, newest first.
  public func recentRuns(limit: Int) throws -> [AuditRun] {
    guard limit > 0 else { return [] }
    return try withDatabase { database in
      try database.query(
        """
        SELECT id, started_at, finished_at, user, host, node, command, desired_commit, outcome
        FROM audit_run ORDER BY started_at DESC, id DESC LIMIT ?
        """,
        [SQLiteValue(limit)]
      ) { row in
        AuditRun(
          id: row.int64(at: 0), startedAt: row.date(at: 1), finishedAt: row.column(2),
          user: row.string(at: 3), host: row.string(at: 4), node: row.string(at: 5), command: row.string(at: 6),
          desiredCommit: row.column(7), outcome: row.column(8)
        )
      }
    }
  }

  /// The actions of run `runID`, in the order they began.
  public func actions(ofRun runID: Int64) throws -> [AuditAction] {
    try withDatabase { database in
      try database.query(
        """
        SELECT id, run_id, action, subject, bytes, source, started_at, finished_at, outcome, detail
        FROM audit_action WHERE run_id = ? ORDER BY id
        """,
        [.integer(runID)]
      ) { row in
        AuditAction(
          id: row.int64(at: 0), runID: row.int64(at: 1), action: row.string(at: 2), subject: row.string(at: 3),
          bytes: row.int64(at: 4), source: row.column(5), startedAt: row.date(at: 6), finishedAt: row.column(7),
          outcome: row.string(at: 8), detail: row.column(9)
        )
      }
    }
  }
}
