/// Writes a `DocumentNode` tree as TOML: tables for mappings, arrays of tables for lists of
/// nested mappings, and multi-line arrays of inline tables for lists of flat records.
public enum TOMLWriter {
  /// The TOML text for `node`, which must be a mapping; nulls are left out, since TOML has none.
  public static func write(_ node: DocumentNode) -> String {
    guard case .mapping(let mapping) = node else { return "" }
    var out = ""
    table(mapping, path: [], into: &out)
    return out
  }

  static func table(_ mapping: DocumentNode.Mapping, path: [String], into out: inout String) {
    var nested: [(String, DocumentNode)] = []
    for entry in mapping.entries {
      switch entry.value {
      case .mapping(let inner) where !isFlat(inner):
        nested.append((entry.key, entry.value))
      case .sequence(let items, _) where !items.isEmpty && items.allSatisfy(isNestedMapping):
        nested.append((entry.key, entry.value))
      default:
        if let value = inline(entry.value, indent: "") { out += "\(key(entry.key)) = \(value)\n" }
      }
    }
    for (name, value) in nested {
      let childPath = path + [name]
      let header = childPath.map(key).joined(separator: ".")
      switch value {
      case .mapping(let inner):
        // A table with only sub-tables needs no header of its own: TOML creates it implicitly.
        let hasOwnKeys = inner.entries.isEmpty || inner.entries.contains { entry in
          switch entry.value {
          case .mapping(let nested): isFlat(nested)
          case .sequence(let items, _): items.isEmpty || !items.allSatisfy(isNestedMapping)
          case .scalar: true
          }
        }
        if hasOwnKeys { out += "\n[\(header)]\n" }
        table(inner, path: childPath, into: &out)
      case .sequence(let items, _):
        for case .mapping(let inner) in items {
          out += "\n[[\(header)]]\n"
          table(inner, path: childPath, into: &out)
        }
      case .scalar: break
      }
    }
  }

  /// A mapping whose values are all scalars or lists of scalars: written inline.
  static func isFlat(_ mapping: DocumentNode.Mapping) -> Bool {
    mapping.entries.allSatisfy {
      switch $0.value {
      case .scalar: true
      case .sequence(let items, _): items.allSatisfy { if case .scalar = $0 { true } else { false } }
      case .mapping: false
      }
    }
  }

  static func isNestedMapping(_ node: DocumentNode) -> Bool {
    if case .mapping(let mapping) = node { return !isFlat(mapping) }
    return false
  }

  static func inline(_ node: DocumentNode, indent: String) -> String? {
    switch node {
    case .scalar(let scalar):
      switch scalar.kind {
      case .null: return nil
      case .integer, .float, .boolean: return scalar.text
      case .string, .datetime: return quoted(scalar.text)
      }
    case .mapping(let mapping):
      let parts = mapping.entries.compactMap { entry in inline(entry.value, indent: indent).map { "\(key(entry.key)) = \($0)" } }
      return parts.isEmpty ? "{}" : "{ " + parts.joined(separator: ", ") + " }"
    case .sequence(let items, _):
      let values = items.compactMap { inline($0, indent: indent + "  ") }
      if values.isEmpty { return "[]" }
      let oneLine = "[" + values.joined(separator: ", ") + "]"
      if items.contains(where: { if case .mapping = $0 { true } else { false } }) || oneLine.count > 100 {
        return "[\n" + values.map { "\(indent)  \($0),\n" }.joined() + "\(indent)]"
      }
      return oneLine
    }
  }

  static func key(_ text: String) -> String {
    let bare = !text.isEmpty && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    return bare ? text : quoted(text)
  }

  static func quoted(_ text: String) -> String { QuotedString.doubleQuoted(text) }
}
