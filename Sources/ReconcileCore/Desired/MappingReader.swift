/// Reads one mapping of the schema: typed fields by key, unknown and missing keys reported.
struct MappingReader {
  let mapping: DocumentNode.Mapping
  /// What the mapping is, for messages: "model", "node 'gpu-a-01'".
  let what: String
  let sink: DiagnosticSink

  /// Reads `node` as a mapping whose keys must be among `known`; nil (and an error) otherwise.
  init?(_ node: DocumentNode, what: String, known: [String], sink: DiagnosticSink) {
    guard case .mapping(let mapping) = node else {
      sink.error(node.location, "\(what) must be a mapping, got \(node.typeDescription)")
      return nil
    }
    self.mapping = mapping
    self.what = what
    self.sink = sink
    for entry in mapping.entries where !known.contains(entry.key) {
      let hint = Suggestion.closest(to: entry.key, in: known).map { "; did you mean '\($0)'?" }
        ?? "; expected one of: \(known.joined(separator: ", "))"
      sink.error(entry.keyLocation, "unknown key '\(entry.key)' in \(what)\(hint)")
    }
  }

  var location: SourceLocation { mapping.location }

  /// The value for `key`; reports it missing when `required`.
  func value(_ key: String, required: Bool = false) -> DocumentNode? {
    if let entry = mapping[key] {
      if case .scalar(let scalar) = entry.value, scalar.kind == .null {
        // At the key: an empty value has no text of its own to point at.
        if required { sink.error(entry.keyLocation, "'\(key)' in \(what) must not be empty") }
        return nil
      }
      return entry.value
    }
    if required { sink.error(mapping.location, "\(what) is missing required key '\(key)'") }
    return nil
  }

  /// A scalar read as text (numbers as written).
  func string(_ key: String, required: Bool = false) -> (String, SourceLocation)? {
    guard let node = value(key, required: required) else { return nil }
    guard case .scalar(let scalar) = node, scalar.kind != .boolean else {
      sink.error(node.location, "'\(key)' in \(what) must be a string, got \(node.typeDescription)")
      return nil
    }
    return (scalar.text, scalar.location)
  }

  /// A name matching `[a-z0-9._-]+`.
  func name(_ key: String = "name", required: Bool = true) -> (String, SourceLocation)? {
    guard let (text, location) = string(key, required: required) else { return nil }
    guard Names.isValid(text) else {
      sink.error(location, "\(key) '\(text)' must use only a-z, 0-9, '.', '_' and '-'")
      return nil
    }
    return (text, location)
  }

  func bool(_ key: String) -> Bool? {
    guard let node = value(key) else { return nil }
    guard case .scalar(let scalar) = node, scalar.kind == .boolean || scalar.kind == .string,
      let value = ["true": true, "false": false][scalar.text.lowercased()]
    else {
      sink.error(node.location, "'\(key)' in \(what) must be true or false, got \(describe(node))")
      return nil
    }
    return value
  }

  /// A non-negative integer up to `limit`.
  func integer(_ key: String, minimum: Int = 0, limit: Int = Int(Int32.max)) -> Int? {
    guard let node = value(key) else { return nil }
    guard case .scalar(let scalar) = node, scalar.kind == .integer || scalar.kind == .string,
      let value = Int(scalar.text)
    else {
      sink.error(node.location, "'\(key)' in \(what) must be an integer, got \(describe(node))")
      return nil
    }
    guard value >= minimum, value <= limit else {
      sink.error(node.location, "'\(key)' in \(what) must be between \(minimum) and \(limit), got \(value)")
      return nil
    }
    return value
  }

  /// A size: an integer of bytes or a number with a binary unit.
  func bytes(_ key: String, required: Bool = false) -> Int64? {
    guard let node = value(key, required: required) else { return nil }
    return Self.bytes(node, key: key, what: what, sink: sink)
  }

  static func bytes(_ node: DocumentNode, key: String, what: String, sink: DiagnosticSink) -> Int64? {
    guard case .scalar(let scalar) = node, scalar.kind == .integer || scalar.kind == .string || scalar.kind == .float else {
      sink.error(node.location, "'\(key)' in \(what) must be a size such as 80GiB, got \(node.typeDescription)")
      return nil
    }
    // YAML integers in hex, octal or binary mean what TOML's do (TOML's reader gives decimal).
    if let plain = Units.plainDigits(scalar.text) { return plain }
    if scalar.kind == .integer, let value = Self.radixInteger(scalar.text) { return value }
    switch Units.bytes(scalar.text) {
    case .success(let bytes): return bytes
    case .failure(let failure):
      sink.error(scalar.location, "'\(key)' in \(what): \(failure)")
      return nil
    }
  }

  /// `0x400`, `0o17`, `0b101` (underscores allowed) as a non-negative integer.
  static func radixInteger(_ text: String) -> Int64? {
    let digits = text.filter { $0 != "_" }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
      return Int64(digits.dropFirst(2), radix: radix)
    }
    return nil
  }

  /// A duration: seconds, or a number with s, m, h or d.
  func seconds(_ key: String) -> Int64? {
    guard let node = value(key) else { return nil }
    guard case .scalar(let scalar) = node, scalar.kind == .integer || scalar.kind == .string else {
      sink.error(node.location, "'\(key)' in \(what) must be a duration such as 24h, got \(node.typeDescription)")
      return nil
    }
    switch Units.seconds(scalar.text) {
    case .success(let seconds): return seconds
    case .failure(let failure):
      sink.error(scalar.location, "'\(key)' in \(what): \(failure)")
      return nil
    }
  }

  /// One of the raw values of `E`.
  func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) -> E? where E.RawValue == String {
    guard let (text, location) = string(key) else { return nil }
    if let value = E(rawValue: text) { return value }
    let options = E.allCases.map(\.rawValue)
    let hint = Suggestion.closest(to: text, in: options).map { "; did you mean '\($0)'?" } ?? ""
    sink.error(location, "'\(key)' in \(what) must be one of \(options.joined(separator: ", ")), got '\(text)'\(hint)")
    return nil
  }

  /// A list; a lone scalar is reported as the wrong type.
  func list(_ key: String, required: Bool = false) -> [DocumentNode]? {
    guard let node = value(key, required: required) else { return nil }
    guard case .sequence(let items, _) = node else {
      sink.error(node.location, "'\(key)' in \(what) must be a list, got \(node.typeDescription)")
      return nil
    }
    return items
  }

  /// A list of strings, each with its location.
  func strings(_ key: String) -> [(String, SourceLocation)]? {
    guard let items = list(key) else { return nil }
    return items.compactMap { item in
      guard case .scalar(let scalar) = item, scalar.kind != .null else {
        sink.error(item.location, "items of '\(key)' in \(what) must be strings, got \(item.typeDescription)")
        return nil
      }
      return (scalar.text, scalar.location)
    }
  }

  /// A nested mapping's entries.
  func entries(_ key: String, required: Bool = false) -> [DocumentNode.Entry]? {
    guard let node = value(key, required: required) else { return nil }
    guard case .mapping(let mapping) = node else {
      sink.error(node.location, "'\(key)' in \(what) must be a mapping, got \(node.typeDescription)")
      return nil
    }
    return mapping.entries
  }

  private func describe(_ node: DocumentNode) -> String {
    // Quote what was written: "must be true or false, got 'yes'" says more than "got a string".
    if case .scalar(let scalar) = node, [.string, .float, .boolean].contains(scalar.kind) { return "'\(scalar.text)'" }
    return node.typeDescription
  }
}
