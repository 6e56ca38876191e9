import ReconcileCore
import Foundation

/// When each model variant was last used (for LRU eviction) and since when no tenant on this
/// node has wanted it (for `gc_grace`).
extension SQLiteRegistry {
  /// The latest recorded use of every variant that has one.
  public func lastUse() throws -> [VariantID: Date] {
    try variantDates("SELECT model, version, variant, last_use_at FROM variant_last_use")
  }

  /// Records a use of `variant` at `date`; an earlier date than the one recorded changes nothing.
  public func recordUse(_ variant: VariantID, at date: Date) throws {
    try withDatabase { database in
      try database.run(
        """
        INSERT INTO variant_last_use (model, version, variant, last_use_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (model, version, variant) DO UPDATE SET
          last_use_at = max(last_use_at, excluded.last_use_at)
        """,
        Self.values(of: variant) + [SQLiteValue(date)]
      )
    }
  }

  /// When each variant that is currently unwanted first became unwanted.
  public func unwantedSince() throws -> [VariantID: Date] {
    try variantDates("SELECT model, version, variant, unwanted_since FROM variant_unwanted")
  }

  /// Records that `variants` are unwanted as of `date`, in one transaction. A variant already
  /// marked keeps the earlier time, so the grace period runs from the first time it was seen
  /// unwanted.
  public func markUnwanted(_ variants: [VariantID], at date: Date) throws {
    guard !variants.isEmpty else { return }
    try withDatabase { database in
      try database.transaction {
        let statement = try database.prepare(
          """
          INSERT INTO variant_unwanted (model, version, variant, unwanted_since) VALUES (?, ?, ?, ?)
          ON CONFLICT (model, version, variant) DO UPDATE SET
            unwanted_since = min(unwanted_since, excluded.unwanted_since)
          """
        )
        for variant in variants {
          try statement.run(Self.values(of: variant) + [SQLiteValue(date)])
        }
      }
    }
  }

  /// Forgets that `variants` were unwanted (they are wanted again, or were evicted), in one
  /// transaction.
  public func clearUnwanted(_ variants: [VariantID]) throws {
    guard !variants.isEmpty else { return }
    try withDatabase { database in
      try database.transaction {
        let statement = try database.prepare(
          "DELETE FROM variant_unwanted WHERE model = ? AND version = ? AND variant = ?"
        )
        for variant in variants {
          try statement.run(Self.values(of: variant))
        }
      }
    }
  }

  /// Runs a query whose rows are (model, version, variant, unix seconds).
  private func variantDates(_ sql: String) throws -> [VariantID: Date] {
    try withDatabase { database in
      let statement = try database.prepare(sql)
      var dates: [VariantID: Date] = [:]
      while try statement.step() {
        let variant = VariantID(
          name: statement.string(at: 0), version: statement.string(at: 1), variant: statement.string(at: 2)
        )
        dates[variant] = statement.date(at: 3)
      }
      return dates
    }
  }

  /// The variant as values for (model, version, variant).
  private static func values(of variant: VariantID) -> [SQLiteValue] {
    [.text(variant.model.name), .text(variant.model.version), .text(variant.variant)]
  }
}
