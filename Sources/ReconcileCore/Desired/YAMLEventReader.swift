import CYaml

/// Builds the positioned `DocumentNode` tree straight from libyaml's parser events, with no
/// intermediate node graph: planning 10,000 models spent most of its time composing Yams
/// nodes. A duplicate key is reported where it repeats, with a note where it was first defined.
///
/// The bounds are checked as the events arrive, before anything is added to the tree. An alias
/// costs a file nothing and its reader a whole copy: a chain of anchors each holding the one
/// before (`a1: &a1 [*a0]`, …) nests a value 50,000 levels deep in a file of a few hundred
/// kilobytes, and anything recursive over that tree (freeing it, comparing it) would overflow
/// the stack. So each alias counts as the values and the levels its anchor holds: it is refused
/// when it would nest deeper than `maximumDepth` or spend more than `budget` allows.
struct YAMLEventReader {
  let file: String
  /// The values left (scalars, mappings, sequences, aliases expanded; plain keys are not values).
  var budget: Int
  let maximumDepth: Int
  /// `file`'s number in `SourceFiles`, for the locations made.
  private let fileID: UInt32
  /// Where the items of one top-level list go instead of the tree, as each is read.
  var handOff: HandOff?

  init(file: String, budget: Int, maximumDepth: Int, handOff: HandOff? = nil) {
    self.file = file
    self.budget = budget
    self.maximumDepth = maximumDepth
    self.handOff = handOff
    fileID = SourceFiles.id(of: file)
  }

  /// The items of the list under the top-level `key`, handed to `item` one by one (in order,
  /// on the reading thread); the tree keeps that list empty. Anchors in them still serve
  /// aliases further on.
  struct HandOff {
    var key: String
    var item: (DocumentNode) -> Void
  }

  /// A collection being built. A class, so that appending to it never copies what it holds.
  private final class Frame {
    let isMapping: Bool
    let location: SourceLocation
    let anchor: String?
    var entries: [DocumentNode.Entry] = []
    var items: [DocumentNode] = []
    var pendingKey: (String, SourceLocation)?
    /// The keys so far, once there are more than a scan should look through.
    var keys: [String: SourceLocation]?
    /// Values inside, itself included, for an anchor on it.
    var count = 1
    /// Levels below it so far (0 without children), for an anchor on it.
    var height = 0

    init(isMapping: Bool, location: SourceLocation, anchor: String?) {
      self.isMapping = isMapping
      self.location = location
      self.anchor = anchor
    }

    var node: DocumentNode {
      isMapping ? .mapping(.init(entries: entries, location: location)) : .sequence(items, location)
    }

    /// Where `key` was first defined in this mapping, if it was; then records it.
    func firstDefinition(of key: String, at place: SourceLocation) -> SourceLocation? {
      // Mappings of the schema hold a handful of keys: a scan costs less than hashing them.
      if keys == nil {
        for entry in entries where entry.key == key { return entry.keyLocation }
        guard entries.count >= 16 else { return nil }
        keys = Dictionary(entries.map { ($0.key, $0.keyLocation) }, uniquingKeysWith: { first, _ in first })
      }
      if let first = keys?[key] { return first }
      keys?[key] = place
      return nil
    }
  }

  /// An anchored value, how many values it expands to and how many levels it holds.
  private struct Anchored {
    var node: DocumentNode
    var count: Int
    var height: Int
  }

  /// The document in `bytes`; nil for a stream without a document (empty, or comments only).
  mutating func read(_ bytes: [UInt8]) throws(DiagnosticsError) -> DocumentNode? {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else {
      throw DiagnosticsError([.error(at: location(line: 0, column: 0), "cannot start the YAML parser (out of memory)")])
    }
    defer { yaml_parser_delete(&parser) }
    return try bytes.withUnsafeBufferPointer { buffer throws(DiagnosticsError) -> DocumentNode? in
      // The encoding is left to libyaml: UTF-8, with or without a byte-order mark.
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      return try parse(&parser, bytes: buffer)
    }
  }

  private mutating func parse(_ parser: inout yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>) throws(DiagnosticsError) -> DocumentNode? {
    var stack: [Frame] = []
    var anchors: [String: Anchored] = [:]
    var document: DocumentNode?
    var firstDocument: SourceLocation?
    var event = yaml_event_t()

    /// Adds a finished node to the collection being built, or makes it the document.
    func attach(_ node: DocumentNode, anchor: String?, count: Int, height: Int) throws(DiagnosticsError) {
      if let anchor { anchors[anchor] = Anchored(node: node, count: count, height: height) }
      guard let top = stack.last else {
        document = node
        return
      }
      top.count += count
      top.height = max(top.height, height + 1)
      if !top.isMapping {
        if stack.count == 2, let handOff, let (key, _) = stack[0].pendingKey, key == handOff.key {
          handOff.item(node)
        } else {
          top.items.append(node)
        }
      } else if let (key, keyLocation) = top.pendingKey {
        top.entries.append(DocumentNode.Entry(key: key, keyLocation: keyLocation, value: node))
        top.pendingKey = nil
      } else {
        // A key: a scalar's text; a collection as a key reads as empty.
        let key: String
        if case .scalar(let scalar) = node { key = scalar.text } else { key = "" }
        let keyLocation = node.location
        if let first = top.firstDefinition(of: key, at: keyLocation) {
          throw DiagnosticsError([.error(at: keyLocation, "duplicate key '\(key)'", notes: [.note(at: first, "first defined here")])])
        }
        top.pendingKey = (key, keyLocation)
      }
    }

    while true {
      guard yaml_parser_parse(&parser, &event) == 1 else {
        throw DiagnosticsError([parserError(parser, bytes: bytes)])
      }
      defer { yaml_event_delete(&event) }
      let start = location(line: event.start_mark.line, column: event.start_mark.column)
      switch event.type {
      case YAML_STREAM_END_EVENT:
        return document
      case YAML_DOCUMENT_START_EVENT:
        if let firstDocument {
          throw DiagnosticsError([.error(at: start, "but found another document", notes: [.note(at: firstDocument, "expected a single document in the stream")])])
        }
        firstDocument = start
      case YAML_SCALAR_EVENT:
        let scalar = event.data.scalar
        let text = scalar.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self) } ?? ""
        let kind: DocumentNode.Scalar.Kind = scalar.style == YAML_PLAIN_SCALAR_STYLE ? ScalarClassifier.kind(of: text) : .string
        try enter(depth: stack.count, at: start)
        // A plain key is not a value; one with an anchor is (its aliases count it as one).
        let isKey = stack.last.map { $0.isMapping && $0.pendingKey == nil } ?? false
        if !isKey { try spend(1, at: start) }
        try attach(.scalar(.init(text: text, kind: kind, location: start)), anchor: Self.string(scalar.anchor), count: 1, height: 0)
      case YAML_ALIAS_EVENT:
        let name = Self.string(event.data.alias.anchor) ?? ""
        guard let anchored = anchors[name] else {
          throw DiagnosticsError([.error(at: start, "found undefined alias '\(name)'")])
        }
        if stack.count + anchored.height > maximumDepth {
          throw DiagnosticsError([.error(at: start, "values are nested more than \(maximumDepth) levels deep, counting what alias '*\(name)' repeats; desired-state files need a handful")])
        }
        try spend(anchored.count, at: start)
        try attach(anchored.node, anchor: nil, count: anchored.count, height: anchored.height)
      case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
        try enter(depth: stack.count, at: start)
        try spend(1, at: start)
        let isMapping = event.type == YAML_MAPPING_START_EVENT
        let anchor = isMapping ? Self.string(event.data.mapping_start.anchor) : Self.string(event.data.sequence_start.anchor)
        stack.append(Frame(isMapping: isMapping, location: start, anchor: anchor))
      case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
        guard let frame = stack.popLast() else { continue }
        try attach(frame.node, anchor: frame.anchor, count: frame.count, height: frame.height)
      default:
        continue
      }
    }
  }

  private mutating func spend(_ values: Int, at place: SourceLocation) throws(DiagnosticsError) {
    budget -= values
    guard budget >= 0 else {
      throw DiagnosticsError([.error(at: place, YAMLReader.tooManyValues)])
    }
  }

  /// A value starts inside `depth` collections.
  private func enter(depth: Int, at place: SourceLocation) throws(DiagnosticsError) {
    guard depth <= maximumDepth else {
      throw DiagnosticsError([.error(at: place, "values are nested more than \(maximumDepth) levels deep; desired-state files need a handful")])
    }
  }

  private func location(line: Int, column: Int) -> SourceLocation {
    SourceLocation(fileID: fileID, line: line + 1, column: column + 1)
  }

  /// libyaml's error, at its place, with what it was reading where that started.
  private func parserError(_ parser: yaml_parser_t, bytes: UnsafeBufferPointer<UInt8>) -> Diagnostic {
    let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
    if parser.error == YAML_READER_ERROR {
      let place = location(ofByte: parser.problem_offset, in: bytes)
      let character = parser.problem_value >= 0 ? " (U+\(YAMLReader.hex(parser.problem_value)))" : ""
      return .error(at: place, problem + character)
    }
    let place = location(line: parser.problem_mark.line, column: parser.problem_mark.column)
    guard let context = parser.context.map({ String(cString: $0) }) else { return .error(at: place, problem) }
    let contextPlace = location(line: parser.context_mark.line, column: parser.context_mark.column)
    return .error(at: place, problem, notes: contextPlace == place ? [] : [.note(at: contextPlace, context)])
  }

  /// The line and column (in characters) of the byte at `offset`.
  private func location(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> SourceLocation {
    var line = 1, column = 1, index = 0
    while index < min(offset, bytes.count) {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\n") {
        line += 1
        column = 1
      } else if byte & 0xC0 != 0x80 {
        column += 1
      }
      index += 1
    }
    return SourceLocation(fileID: fileID, line: line, column: column)
  }

  private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    pointer.map { String(cString: $0) }
  }
}
