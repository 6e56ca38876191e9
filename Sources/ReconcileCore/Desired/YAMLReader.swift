import Yams

/// Reads YAML text into a `DocumentNode` tree that keeps every value's position.
public enum YAMLReader {
  /// Parses `text`; `file` is used in locations. An empty document is an empty mapping.
  public static func read(_ text: String, file: String) throws(DiagnosticsError) -> DocumentNode {
    let node: Yams.Node?
    do {
      node = try Yams.compose(yaml: text)
    } catch let error as YamlError {
      throw DiagnosticsError([diagnostic(for: error, file: file)])
    } catch {
      throw DiagnosticsError([.error(at: SourceLocation(file: file, line: 1, column: 1), "\(error)")])
    }
    guard let node else {
      return .mapping(.init(entries: [], location: SourceLocation(file: file, line: 1, column: 1)))
    }
    return convert(node, file: file)
  }

  static func convert(_ node: Yams.Node, file: String) -> DocumentNode {
    let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    switch node {
    case .scalar(let scalar):
      return .scalar(.init(text: scalar.string, kind: kind(of: node, scalar), location: location))
    case .mapping(let mapping):
      let entries = mapping.map { key, value in
        DocumentNode.Entry(
          key: key.string ?? "",
          keyLocation: SourceLocation(file: file, line: key.mark?.line ?? 1, column: key.mark?.column ?? 1),
          value: convert(value, file: file))
      }
      return .mapping(.init(entries: entries, location: location))
    case .sequence(let sequence):
      return .sequence(sequence.map { convert($0, file: file) }, location)
    case .alias:
      // compose() resolves aliases; an unresolved one is read as null.
      return .scalar(.init(text: "", kind: .null, location: location))
    }
  }

  static func kind(of node: Yams.Node, _ scalar: Yams.Node.Scalar) -> DocumentNode.Scalar.Kind {
    if scalar.style != .plain { return .string }
    switch Tag.Name(rawValue: node.tag.rawValue) {
    case .int: return .integer
    case .float: return .float
    case .bool: return .boolean
    case .null: return .null
    case .timestamp: return .datetime
    default: return .string
    }
  }

  static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
      return .error(at: SourceLocation(file: file, line: mark.line, column: mark.column), problem)
    case .composer(_, let problem, let mark, _):
      if problem.contains("duplicate") || problem.contains("Duplicate") {
        return .error(at: SourceLocation(file: file, line: mark.line, column: mark.column), "duplicate key")
      }
      return .error(at: SourceLocation(file: file, line: mark.line, column: mark.column), problem)
    case .duplicatedKeysInMapping(let duplicates, let context):
      let name = duplicates.first ?? "?"
      let first = SourceLocation(file: file, line: context.mark.line, column: context.mark.column)
      let second = repeatedKey(name, after: first, in: context.text) ?? first
      return .error(at: second, "duplicate key '\(name)'", notes: [.note(at: first, "first defined here")])
    default:
      return .error(at: SourceLocation(file: file, line: 1, column: 1), "\(error)")
    }
  }

  /// Yams reports a duplicate key at its first occurrence only; the repeat is the next line
  /// with the same key at the same column.
  static func repeatedKey(_ key: String, after first: SourceLocation, in text: String) -> SourceLocation? {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard first.line < lines.count else { return nil }
    for index in first.line..<lines.count {
      let line = Array(lines[index].unicodeScalars)
      let column = first.column - 1
      guard column < line.count else { continue }
      let rest = String(String.UnicodeScalarView(line[column...]))
      for candidate in [key + ":", "\"" + key + "\":", "'" + key + "':"] where rest.hasPrefix(candidate) {
        return SourceLocation(file: first.file, line: index + 1, column: first.column)
      }
    }
    return nil
  }
}
