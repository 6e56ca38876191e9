/// Reads YAML text into a `DocumentNode` tree that keeps every value's position.
public enum YAMLReader {
  /// Parses `text`; `file` is used in locations. An empty document is an empty mapping.
  ///
  /// libyaml's events build the tree directly (`YAMLEventReader`), which checks the depth and
  /// value bounds before anything is added. Plain scalars are classified by `ScalarClassifier`;
  /// quoted ones are strings. Aliases are expanded within the value budget.
  public static func read(_ text: String, file: String) throws(DiagnosticsError) -> DocumentNode {
    var budget = maximumValues
    return try read(text, file: file, budget: &budget)
  }

  /// Parses `text`, taking the values it expands to from `budget`, which the files of one
  /// desired state share: a hundred files each just under the bound would otherwise cost a
  /// hundred times the time.
  public static func read(_ text: String, file: String, budget: inout Int) throws(DiagnosticsError) -> DocumentNode {
    try read(text, file: file, budget: &budget, handOff: nil)
  }

  /// Parses `text` as above; the items of the list under the top-level `handOff.key` go to
  /// `handOff.item` as each is read, and that list is left empty in the tree.
  static func read(_ text: String, file: String, budget: inout Int, handOff: YAMLEventReader.HandOff?) throws(DiagnosticsError) -> DocumentNode {
    var reader = YAMLEventReader(file: file, budget: budget, maximumDepth: maximumDepth, handOff: handOff)
    let node = try reader.read(Array(text.utf8))
    budget = reader.budget
    return node ?? .mapping(.init(entries: [], location: SourceLocation(file: file, line: 1, column: 1)))
  }

  /// The most values (scalars, mappings, sequences, aliases expanded) the YAML files of one
  /// desired state may hold: several times a 10,000-model desired state, and far below what an
  /// alias bomb expands to.
  static let maximumValues = 2_000_000
  /// The error past `maximumValues`.
  static let tooManyValues = "the desired state expands to more than \(maximumValues) values (aliases repeated over and over?); desired-state files are far smaller — write the values out"
  /// The deepest nesting one file may have.
  static let maximumDepth = 128

  /// `0007` for 7: a code point as messages print it.
  static func hex(_ value: Int32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }
}
