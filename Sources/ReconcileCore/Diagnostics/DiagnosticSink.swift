/// Collects diagnostics while a tree is decoded, so every problem is reported in one run.
final class DiagnosticSink {
  private(set) var diagnostics: [Diagnostic] = []

  func error(_ location: SourceLocation?, _ message: String, notes: [Diagnostic] = []) {
    diagnostics.append(.error(at: location, message, notes: notes))
  }

  func append(contentsOf more: [Diagnostic]) { diagnostics += more }

  var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

  /// Errors sorted by place, each once.
  var sorted: [Diagnostic] {
    var seen = Set<Diagnostic>()
    return diagnostics.filter { seen.insert($0).inserted }.sorted {
      switch ($0.location, $1.location) {
      case let (lhs?, rhs?): lhs < rhs
      case (nil, .some): true
      default: false
      }
    }
  }
}
