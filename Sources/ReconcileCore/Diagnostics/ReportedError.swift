/// An error the CLI reports as lines of its own: each line complete with its position and
/// severity (`file:line:column: error: …`), or `error: …` for a problem without a position.
/// Errors that are not `ReportedError` are printed as `error: <description>`.
public protocol ReportedError: Error {
  /// The lines to print, in order.
  var reportLines: [String] { get }
}

extension DiagnosticsError: ReportedError {
  /// One diagnostic per line, each with its position.
  public var reportLines: [String] { diagnostics.map(\.description) }
}
