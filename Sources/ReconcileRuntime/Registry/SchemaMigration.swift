/// One step of a registry's schema: migration `n` takes the schema from version `n - 1` to `n`.
///
/// Never edit a migration that has shipped: registries in the field already ran it. Append a
/// new one instead.
struct SchemaMigration: Sendable {
  /// The schema version after this migration.
  let version: Int
  /// What the migration does, for messages.
  let summary: String
  /// The statements, run in one transaction.
  let sql: String
}
