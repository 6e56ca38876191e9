/// One problem found in the desired state, with where it is and, optionally, related places.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
  /// How bad a diagnostic is.
  public enum Severity: String, Sendable, Hashable, Codable {
    case error, warning, note
  }

  /// Where the problem is; nil for problems that belong to no file (an empty directory).
  public var location: SourceLocation?
  /// Error, warning or note.
  public var severity: Severity
  /// What is wrong and, where possible, what to do.
  public var message: String
  /// Other places that explain this one (the first definition of a duplicate).
  public var notes: [Diagnostic]

  /// Creates a diagnostic.
  public init(_ severity: Severity, at location: SourceLocation?, _ message: String, notes: [Diagnostic] = []) {
    self.location = location
    self.severity = severity
    self.message = message
    self.notes = notes
  }

  /// Creates an error.
  public static func error(at location: SourceLocation?, _ message: String, notes: [Diagnostic] = []) -> Diagnostic {
    Diagnostic(.error, at: location, message, notes: notes)
  }

  /// Creates a note.
  public static func note(at location: SourceLocation?, _ message: String) -> Diagnostic {
    Diagnostic(.note, at: location, message)
  }

  /// `file:line:column: error: message`, followed by one line per note.
  public var description: String {
    var lines = [Self.line(location, severity, message)]
    lines += notes.map { Self.line($0.location, $0.severity, $0.message) }
    return lines.joined(separator: "\n")
  }

  /// One line, whatever the file name and the message quote from the file.
  private static func line(_ location: SourceLocation?, _ severity: Severity, _ message: String) -> String {
    let message = TerminalSafeText.escaped(message)
    if let location { return "\(TerminalSafeText.escaped(location.description)): \(severity.rawValue): \(message)" }
    return "\(severity.rawValue): \(message)"
  }
}

/// Thrown when the desired state has errors; carries all of them.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
  /// Every problem found, in file order.
  public var diagnostics: [Diagnostic]

  /// Wraps the diagnostics found.
  public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

  /// One diagnostic per line.
  public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
