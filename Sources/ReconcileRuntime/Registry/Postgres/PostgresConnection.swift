import CLibPQ
import Foundation

/// One libpq connection to a PostgreSQL server, synchronous like the rest of the runtime.
///
/// Not `Sendable`: a connection is used by one thread at a time; `PostgresRegistry` serialises
/// access. Every statement is sent with text parameters (`$1`, `$2`, …), never by splicing
/// values into SQL.
public final class PostgresConnection {
  /// The connection string as given, with any password masked, for messages.
  public let masked: String
  let handle: OpaquePointer

  /// Connects with a `postgresql://` URI or a `key=value` string; libpq's own conventions
  /// apply too (`PGHOST`, `PGPASSFILE`, `~/.pgpass`, `sslmode`, service files).
  public init(_ conninfo: String, connectTimeout: Int = 10) throws(PostgresError) {
    masked = PostgresConnection.mask(conninfo)
    // connect_timeout is added only when the string does not set it.
    var info = conninfo
    if !conninfo.contains("connect_timeout") {
      info = conninfo.contains("://")
        ? conninfo + (conninfo.contains("?") ? "&" : "?") + "connect_timeout=\(connectTimeout)"
        : conninfo + " connect_timeout=\(connectTimeout)"
    }
    guard let connection = PQconnectdb(info) else {
      throw PostgresError(message: "cannot allocate a connection", target: masked)
    }
    guard PQstatus(connection) == CONNECTION_OK else {
      let message = Self.text(PQerrorMessage(connection))
      PQfinish(connection)
      throw PostgresError(message: message, target: masked)
    }
    handle = connection
    // The server's notices (`relation … already exists, skipping`, `terminating connection due
    // to immediate shutdown`) are not for the operator's terminal; errors come back as errors.
    PQsetNoticeProcessor(connection, { _, _ in }, nil)
  }

  deinit { PQfinish(handle) }

  /// Runs one statement with `parameters` (nil is SQL NULL) and returns its rows as text.
  @discardableResult
  public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> [[String?]] {
    let result = withParameters(parameters) { values in
      PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
    }
    guard let result else { throw PostgresError(message: Self.text(PQerrorMessage(handle)), target: masked, sql: sql) }
    defer { PQclear(result) }
    let status = PQresultStatus(result)
    guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
      let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
      throw PostgresError(message: Self.text(PQresultErrorMessage(result)), target: masked, sql: sql, sqlState: state)
    }
    var rows: [[String?]] = []
    let columns = PQnfields(result)
    for row in 0..<PQntuples(result) {
      rows.append((0..<columns).map { column in
        PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
      })
    }
    return rows
  }

  /// Runs `sql`, one or more statements without parameters (a migration).
  public func execute(_ sql: String) throws(PostgresError) {
    guard let result = PQexec(handle, sql) else { throw PostgresError(message: Self.text(PQerrorMessage(handle)), target: masked, sql: sql) }
    defer { PQclear(result) }
    let status = PQresultStatus(result)
    guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
      let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
      throw PostgresError(message: Self.text(PQresultErrorMessage(result)), target: masked, sql: sql, sqlState: state)
    }
  }

  /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
  public func transaction<Result>(_ body: () throws -> Result) throws -> Result {
    try execute("BEGIN")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  /// Calls `body` with the parameters as C strings that live until it returns.
  private func withParameters<Result>(_ parameters: [String?], _ body: ([UnsafePointer<CChar>?]) -> Result) -> Result {
    let strings = parameters.map { $0.map { strdup($0) } ?? nil }
    defer { strings.forEach { free($0) } }
    return body(strings.map { $0.map { UnsafePointer($0) } })
  }

  static func text(_ message: UnsafePointer<CChar>?) -> String {
    (message.map { String(cString: $0) } ?? "unknown error").trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// `conninfo` with its password replaced by `***`: in a URI (`user:secret@host`, `?password=`)
  /// and in `key=value` form (`password=secret`).
  public static func mask(_ conninfo: String) -> String {
    var text = conninfo
    if let scheme = text.range(of: "://") {
      let rest = text[scheme.upperBound...]
      if let at = rest.firstIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
        text.replaceSubrange(text.index(after: colon)..<at, with: "***")
      }
    }
    let pattern = #"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)"#
    if let expression = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) {
      text = expression.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1***")
    }
    return text
  }
}

/// A PostgreSQL error: what the server or libpq said, where, and the SQLSTATE when there is one.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
  /// The message, without a trailing newline.
  public var message: String
  /// The registry, its password masked.
  public var target: String
  /// The statement, when one failed.
  public var sql: String?
  /// The five-character SQLSTATE, for example `42501` (insufficient privilege).
  public var sqlState: String?

  /// Creates an error.
  public init(message: String, target: String, sql: String? = nil, sqlState: String? = nil) {
    self.message = message
    self.target = target
    self.sql = sql
    self.sqlState = sqlState
  }

  /// The registry and the message; the password never appears.
  public var description: String {
    "registry \(target): \(PostgresConnection.mask(message))"
  }
}
