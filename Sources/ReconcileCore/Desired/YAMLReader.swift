import Yams

/// Reads YAML text into a `DocumentNode` tree that keeps every value's position.
public enum YAMLReader {
  /// Parses `text`; `file` is used in locations. An empty document is an empty mapping.
  public static func read(_ text: String, file: String) throws(DiagnosticsError) -> DocumentNode {
    var budget = maximumValues
    return try read(text, file: file, budget: &budget)
  }

  /// Parses `text`, taking the values it expands to from `budget`, which the files of one
  /// desired state share: a hundred files each just under the bound would otherwise cost a
  /// hundred times the time.
  public static func read(_ text: String, file: String, budget: inout Int) throws(DiagnosticsError) -> DocumentNode {
    // Bounds first: Yams' recursion must never see a tree deeper or larger than them.
    switch bounds(of: text, file: file, budget: budget) {
    case .violated(let violation): throw DiagnosticsError([violation])
    case .within(let values): budget -= values
    }
    let node: Yams.Node?
    do {
      // The basic resolver tags nothing; `kind(of:)` classifies plain scalars itself. Yams'
      // default resolver runs several regular expressions per scalar, which made reading a
      // 10 MB desired state take seconds.
      node = try Yams.compose(yaml: text, .basic)
    } catch let error as YamlError {
      throw DiagnosticsError([diagnostic(for: error, file: file)])
    } catch {
      throw DiagnosticsError([.error(at: SourceLocation(file: file, line: 1, column: 1), "\(error)")])
    }
    guard let node else {
      return .mapping(.init(entries: [], location: SourceLocation(file: file, line: 1, column: 1)))
    }
    // The walk above counted at least what conversion does; this bound only backs it up.
    var conversionBudget = maximumValues
    return try convert(node, file: file, budget: &conversionBudget, depth: 0)
  }

  /// The most values (scalars, mappings, sequences, aliases expanded) the YAML files of one
  /// desired state may hold: several times a 10,000-model desired state, and far below what an
  /// alias bomb expands to.
  static let maximumValues = 2_000_000
  /// The error past `maximumValues`.
  static let tooManyValues = "the desired state expands to more than \(maximumValues) values (aliases repeated over and over?); desired-state files are far smaller — write the values out"
  /// The deepest nesting one file may have.
  static let maximumDepth = 128

  /// The document as a positioned tree; past `maximumValues` values (an alias expanded over and
  /// over) or `maximumDepth` levels it stops with one error at the value where it gave up.
  static func convert(_ node: Yams.Node, file: String, budget: inout Int, depth: Int) throws(DiagnosticsError) -> DocumentNode {
    let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    budget -= 1
    guard budget >= 0 else {
      throw DiagnosticsError([.error(at: location, tooManyValues)])
    }
    guard depth <= maximumDepth else {
      throw DiagnosticsError([.error(at: location, "values are nested more than \(maximumDepth) levels deep; desired-state files need a handful")])
    }
    switch node {
    case .scalar(let scalar):
      return .scalar(.init(text: scalar.string, kind: kind(of: node, scalar), location: location))
    case .mapping(let mapping):
      var entries: [DocumentNode.Entry] = []
      for (key, value) in mapping {
        entries.append(DocumentNode.Entry(
          key: key.string ?? "",
          keyLocation: SourceLocation(file: file, line: key.mark?.line ?? 1, column: key.mark?.column ?? 1),
          value: try convert(value, file: file, budget: &budget, depth: depth + 1)))
      }
      return .mapping(.init(entries: entries, location: location))
    case .sequence(let sequence):
      var items: [DocumentNode] = []
      for item in sequence { items.append(try convert(item, file: file, budget: &budget, depth: depth + 1)) }
      return .sequence(items, location)
    case .alias:
      // compose() resolves aliases; an unresolved one is read as null.
      return .scalar(.init(text: "", kind: .null, location: location))
    }
  }

  static func kind(of node: Yams.Node, _ scalar: Yams.Node.Scalar) -> DocumentNode.Scalar.Kind {
    guard scalar.style == .plain else { return .string }
    return ScalarClassifier.kind(of: scalar.string)
  }

  static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
      let location = SourceLocation(file: file, line: mark.line, column: mark.column)
      return .error(at: location, problem, notes: notes(for: context, at: location))
    case .composer(let context, let problem, let mark, _):
      if problem.contains("duplicate") || problem.contains("Duplicate") {
        return .error(at: SourceLocation(file: file, line: mark.line, column: mark.column), "duplicate key")
      }
      let location = SourceLocation(file: file, line: mark.line, column: mark.column)
      return .error(at: location, problem, notes: notes(for: context, at: location))
    case .reader(let problem, let offset, let value, let text):
      let place = offset.map { location(ofCharacter: $0, in: text, file: file) } ?? SourceLocation(file: file, line: 1, column: 1)
      let character = value >= 0 ? " (U+\(hex(value)))" : ""
      return .error(at: place, problem + character)
    case .duplicatedKeysInMapping(let duplicates, let context):
      let name = duplicates.first ?? "?"
      let first = SourceLocation(file: file, line: context.mark.line, column: context.mark.column)
      let second = repeatedKey(name, after: first, in: context.text) ?? first
      return .error(at: second, "duplicate key '\(name)'", notes: [.note(at: first, "first defined here")])
    default:
      return .error(at: SourceLocation(file: file, line: 1, column: 1), "\(error)")
    }
  }

  /// What libyaml was reading when it failed (`while scanning a quoted scalar`), at the place it
  /// started: an unclosed quote or bracket is reported where the input ends, far from its start.
  /// A context at the error's own place adds nothing and is left out.
  static func notes(for context: YamlError.Context?, at problem: SourceLocation) -> [Diagnostic] {
    guard let context else { return [] }
    let location = SourceLocation(file: problem.file, line: context.mark.line, column: context.mark.column)
    return location == problem ? [] : [.note(at: location, context.text)]
  }

  /// The line and column of the character at `offset` (counted in characters, as Yams does).
  static func location(ofCharacter offset: Int, in text: String, file: String) -> SourceLocation {
    var line = 1, column = 1
    for character in text.prefix(offset) {
      if character == "\n" || character == "\r\n" {
        line += 1
        column = 1
      } else {
        column += character.unicodeScalars.count
      }
    }
    return SourceLocation(file: file, line: line, column: column)
  }

  /// `0007` for 7: a code point as messages print it.
  static func hex(_ value: Int32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }

  /// Yams reports a duplicate key at its first occurrence only; the repeat is further on the same
  /// line in a flow mapping (`{ a: 1, a: 2 }`), or else the next line with the same key at the
  /// same column.
  static func repeatedKey(_ key: String, after first: SourceLocation, in text: String) -> SourceLocation? {
    // "\r\n" is one Character, so splitting on "\n" alone would leave a CRLF file in one piece.
    let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    let candidates = [key + ":", "\"" + key + "\":", "'" + key + "':"]
    guard first.line >= 1, first.line <= lines.count else { return nil }
    let firstLine = Array(lines[first.line - 1].unicodeScalars)
    var afterComma = false
    for column in stride(from: max(0, first.column), to: firstLine.count, by: 1) {
      let rest = String(String.UnicodeScalarView(firstLine[column...]))
      if afterComma, candidates.contains(where: { rest.hasPrefix($0) }) {
        return SourceLocation(file: first.file, line: first.line, column: column + 1)
      }
      if firstLine[column] == "," { afterComma = true } else if firstLine[column] != " " { afterComma = false }
    }
    guard first.line < lines.count else { return nil }
    for index in first.line..<lines.count {
      let line = Array(lines[index].unicodeScalars)
      let column = first.column - 1
      guard column >= 0, column < line.count else { continue }
      let rest = String(String.UnicodeScalarView(line[column...]))
      for candidate in candidates where rest.hasPrefix(candidate) {
        return SourceLocation(file: first.file, line: index + 1, column: first.column)
      }
    }
    return nil
  }
}
