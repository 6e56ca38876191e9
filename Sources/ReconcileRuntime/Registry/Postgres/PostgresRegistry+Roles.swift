import Foundation
import ReconcileCore

/// The fleet registry's roles: one login role per node, which row-level security lets write only
/// that node's rows, and read-only roles for `nodes`, `catalog` and dashboards. Run these as the
/// role that owns the tables (the one that migrated them).
extension PostgresRegistry {
  /// The tables a node writes its own rows of.
  static let nodeTables = ["reconcile_node", "reconcile_holding", "reconcile_last_use", "reconcile_unwanted", "reconcile_audit_run", "reconcile_audit_action"]

  /// The default role name of `node`: `reconcile_<node>`.
  public static func roleName(forNode node: String) -> String { "reconcile_\(node)" }

  /// Creates or updates the login role of `node` (with `password`, when given), lets it read
  /// every table and write, through row-level security, only the rows of `node`. Returns the role.
  @discardableResult
  public func grantNode(_ node: String, role: String? = nil, password: String? = nil) throws -> String {
    let role = role ?? Self.roleName(forNode: node)
    try withConnection { connection in
      try connection.transaction {
        try Self.ensureLoginRole(role, password: password, on: connection)
        try Self.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I", role, on: connection)
        try Self.execute("GRANT INSERT, UPDATE, DELETE ON \(Self.nodeTables.joined(separator: ", ")) TO %I", role, on: connection)
        try Self.execute("GRANT USAGE ON SEQUENCE reconcile_audit_run_id_seq, reconcile_audit_action_id_seq TO %I", role, on: connection)
        try connection.query(
          "INSERT INTO reconcile_node_role (role_name, node) VALUES ($1, $2) ON CONFLICT (role_name) DO UPDATE SET node = excluded.node", [role, node])
      }
    }
    return role
  }

  /// Creates or updates a login role that may only read the registry.
  public func grantReader(_ role: String, password: String? = nil) throws {
    try withConnection { connection in
      try connection.transaction {
        try Self.ensureLoginRole(role, password: password, on: connection)
        try Self.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I", role, on: connection)
      }
    }
  }

  /// `CREATE ROLE … LOGIN` or `ALTER ROLE … LOGIN`, with the password quoted by the server.
  static func ensureLoginRole(_ role: String, password: String?, on connection: PostgresConnection) throws {
    let exists = try connection.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])
    let verb = exists.isEmpty ? "CREATE" : "ALTER"
    let sql = try connection.query(
      password == nil ? "SELECT format('\(verb) ROLE %I LOGIN', $1::text)" : "SELECT format('\(verb) ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
      password == nil ? [role] : [role, password])
    guard let statement = sql.first?.first ?? nil else { throw PostgresError(message: "cannot format the role statement", target: connection.masked) }
    try connection.execute(statement)
  }

  /// Runs `template` with its one `%I` filled with `identifier`, quoted by the server.
  static func execute(_ template: String, _ identifier: String, on connection: PostgresConnection) throws {
    let sql = try connection.query("SELECT format($1::text, $2::text)", [template, identifier])
    guard let statement = sql.first?.first ?? nil else { throw PostgresError(message: "cannot format '\(template)'", target: connection.masked) }
    try connection.execute(statement)
  }
}
