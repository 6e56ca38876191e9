import Foundation
import ReconcileCore

/// One node's rows in an SQLite registry: when its variants were last used (for LRU eviction)
/// and since when no tenant on it has wanted them (for `gc_grace`), and its audit log.
///
/// Every statement names the node, so nodes sharing one registry file never read or change
/// each other's rows. Obtained with `SQLiteRegistry.ledger(node:)`.
public struct SQLiteNodeLedger: NodeLedger {
  /// The registry that holds the rows.
  let registry: SQLiteRegistry
  /// The node whose rows this ledger reads and writes.
  public let node: String

  init(registry: SQLiteRegistry, node: String) {
    self.registry = registry
    self.node = node
  }

  /// The latest recorded use of every variant of this node that has one.
  public func lastUse() throws -> [VariantID: Date] {
    try variantDates(
      """
      SELECT model, version, variant, last_use_at FROM variant_last_use
      WHERE node = ? AND typeof(last_use_at) IN ('real', 'integer')
      """
    )
  }

  /// Records a use of `variant` at `date`; an earlier date than the one recorded changes nothing.
  public func recordUse(_ variant: VariantID, at date: Date) throws {
    try registry.withDatabase { database in
      try database.run(
        """
        INSERT INTO variant_last_use (node, model, version, variant, last_use_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (node, model, version, variant) DO UPDATE SET
          last_use_at = \(Self.later("last_use_at"))
        """,
        values(of: variant) + [SQLiteValue(date)]
      )
    }
  }

  /// When each variant unwanted on this node first became unwanted.
  public func unwantedSince() throws -> [VariantID: Date] {
    try variantDates(
      """
      SELECT model, version, variant, unwanted_since FROM variant_unwanted
      WHERE node = ? AND typeof(unwanted_since) IN ('real', 'integer')
      """
    )
  }

  /// Records that `variants` are unwanted as of `date`, in one transaction. A variant already
  /// marked keeps the earlier time, so the grace period runs from the first time it was seen
  /// unwanted.
  public func markUnwanted(_ variants: [VariantID], at date: Date) throws {
    guard !variants.isEmpty else { return }
    try registry.withDatabase { database in
      try database.transaction {
        let statement = try database.prepare(
          """
          INSERT INTO variant_unwanted (node, model, version, variant, unwanted_since) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (node, model, version, variant) DO UPDATE SET
            unwanted_since = \(Self.earlier("unwanted_since"))
          """
        )
        for variant in variants {
          try statement.run(values(of: variant) + [SQLiteValue(date)])
        }
      }
    }
  }

  /// Forgets that `variants` were unwanted on this node (they are wanted again, or were
  /// evicted), in one transaction.
  public func clearUnwanted(_ variants: [VariantID]) throws {
    guard !variants.isEmpty else { return }
    try registry.withDatabase { database in
      try database.transaction {
        let statement = try database.prepare(
          "DELETE FROM variant_unwanted WHERE node = ? AND model = ? AND version = ? AND variant = ?"
        )
        for variant in variants {
          try statement.run(values(of: variant))
        }
      }
    }
  }

  /// Makes rows written before the registry knew nodes (node '') this node's, merging them with
  /// rows it already has as `recordUse` and `markUnwanted` would. Reads only, unless such rows
  /// exist: a current registry needs no write lock to open a ledger.
  func adoptUnownedRows() throws {
    guard !node.isEmpty else { return }
    try registry.withDatabase { database in
      let unowned = try database.query(
        """
        SELECT EXISTS (SELECT 1 FROM variant_last_use WHERE node = '')
            OR EXISTS (SELECT 1 FROM variant_unwanted WHERE node = '')
        """
      ) { $0.int64(at: 0) }
      guard unowned.first == 1 else { return }
      try database.transaction {
        try database.run(
          """
          INSERT INTO variant_last_use (node, model, version, variant, last_use_at)
          SELECT ?, model, version, variant, last_use_at FROM variant_last_use WHERE node = ''
          ON CONFLICT (node, model, version, variant) DO UPDATE SET
            last_use_at = \(Self.later("last_use_at"))
          """,
          [.text(node)]
        )
        try database.run(
          """
          INSERT INTO variant_unwanted (node, model, version, variant, unwanted_since)
          SELECT ?, model, version, variant, unwanted_since FROM variant_unwanted WHERE node = ''
          ON CONFLICT (node, model, version, variant) DO UPDATE SET
            unwanted_since = \(Self.earlier("unwanted_since"))
          """,
          [.text(node)]
        )
        try database.run("DELETE FROM variant_last_use WHERE node = ''")
        try database.run("DELETE FROM variant_unwanted WHERE node = ''")
      }
    }
  }

  /// Runs a query with this node bound whose rows are (model, version, variant, unix seconds).
  /// The queries leave out rows whose time is not a number (a hand edit): no record is better
  /// than a use in 1970.
  private func variantDates(_ sql: String) throws -> [VariantID: Date] {
    try registry.withDatabase { database in
      let rows = try database.query(sql, [.text(node)]) { row in
        (VariantID(name: row.string(at: 0), version: row.string(at: 1), variant: row.string(at: 2)), row.date(at: 3))
      }
      return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }
  }

  /// The later of `column` and the value being inserted; a stored time that is not a number
  /// (NULL or text, by hand) loses, where SQLite's `max` would keep it.
  private static func later(_ column: String) -> String {
    """
    CASE WHEN typeof(\(column)) IN ('real', 'integer') AND \(column) > excluded.\(column)
    THEN \(column) ELSE excluded.\(column) END
    """
  }

  /// The earlier of `column` and the value being inserted; a stored time that is not a number
  /// loses, where SQLite's `min` would keep a NULL.
  private static func earlier(_ column: String) -> String {
    """
    CASE WHEN typeof(\(column)) IN ('real', 'integer') AND \(column) < excluded.\(column)
    THEN \(column) ELSE excluded.\(column) END
    """
  }

  /// This node and the variant as values for (node, model, version, variant).
  private func values(of variant: VariantID) -> [SQLiteValue] {
    [.text(node), .text(variant.model.name), .text(variant.model.version), .text(variant.variant)]
  }
}
