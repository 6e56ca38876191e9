extension TOMLReader {
  /// How a table came to exist, which decides how it may still be extended.
  enum TableOrigin {
    /// Created as an intermediate of a `[a.b]` header; a later `[a]` may still define it.
    case implicit
    /// Defined by its own `[header]` (or is the root, or an element of an array of tables).
    case header
    /// Created by a dotted key (`a.b = 1`) or is an inline table being read.
    case dotted
  }

  /// A value in a table under construction.
  enum PendingValue {
    /// A finished value: a scalar, a static array or an inline table. Never extended.
    case complete(DocumentNode)
    /// A table still open to new keys, by index into `Parser.tables`.
    case table(Int)
    /// An array of tables, by index into `Parser.tableArrays`.
    case arrayOfTables(Int)
  }

  /// One key of a table under construction.
  struct PendingEntry {
    var key: String
    var keyLocation: SourceLocation
    var value: PendingValue
  }

  /// A table under construction: entries in document order and an index by key.
  struct PendingTable {
    /// The keys in document order.
    var entries: [PendingEntry] = []
    /// Each key's position in `entries`.
    var index: [String: Int] = [:]
    /// Where the table starts: its header's name, the dotted key segment or the brace that made it.
    var location: SourceLocation
    var origin: TableOrigin
    /// How many tables and arrays enclose this one, for the nesting limit.
    var depth: Int
  }

  /// An array of tables under construction.
  struct PendingTableArray {
    /// The element tables, by index into `Parser.tables`.
    var elements: [Int]
    /// The name of the first `[[header]]`.
    var location: SourceLocation
    var depth: Int
  }
}

extension TOMLReader.Parser {
  typealias KeySegment = TOMLReader.KeySegment

  /// Adds an empty table to the arena and returns its index.
  mutating func newTable(location: SourceLocation, origin: TOMLReader.TableOrigin, depth: Int) -> Int {
    tables.append(TOMLReader.PendingTable(location: location, origin: origin, depth: depth))
    return tables.count - 1
  }

  /// Adds `key = value` to `table`.
  mutating func addEntry(_ segment: KeySegment, _ value: TOMLReader.PendingValue, to table: Int) {
    tables[table].index[segment.text] = tables[table].entries.count
    tables[table].entries.append(TOMLReader.PendingEntry(key: segment.text, keyLocation: segment.location, value: value))
  }

  /// Creates a table named `segment` inside `parent`.
  mutating func addTable(
    _ segment: KeySegment, to parent: Int, location: SourceLocation, origin: TOMLReader.TableOrigin
  ) throws(TOMLReader.SyntaxError) -> Int {
    let depth = tables[parent].depth + 1
    guard depth <= Self.maxDepth else { throw tooDeep(at: segment.location) }
    let table = newTable(location: location, origin: origin, depth: depth)
    addEntry(segment, .table(table), to: parent)
    return table
  }

  /// Records a conflict with an earlier definition, with a note pointing at it.
  mutating func report(_ message: String, at location: SourceLocation, firstDefinedAt first: SourceLocation) {
    diagnostics.append(.error(at: location, message, notes: [.note(at: first, "first defined here")]))
  }

  /// Records why the key `path` cannot hold a table; `entry` is what it holds.
  mutating func reportNotATable(_ entry: TOMLReader.PendingEntry, path: ArraySlice<KeySegment>, at location: SourceLocation) {
    let name = Self.display(path)
    switch entry.value {
    case .complete(.mapping):
      report("cannot extend inline table '\(name)'", at: location, firstDefinedAt: entry.keyLocation)
    case .complete(let node):
      report("key '\(name)' is already defined as \(node.typeDescription)", at: location, firstDefinedAt: entry.keyLocation)
    case .arrayOfTables:
      report("key '\(name)' is already defined as an array of tables", at: location, firstDefinedAt: entry.keyLocation)
    case .table(let table):
      report("key '\(name)' is already defined as a table", at: location, firstDefinedAt: tables[table].location)
    }
  }

  /// A detached table that swallows the keys of a header that could not be defined.
  mutating func scratchTable(at location: SourceLocation) -> Int {
    newTable(location: location, origin: .header, depth: 0)
  }

  // MARK: Key/value pairs

  /// Adds `value` at the dotted `key` below `table`; a conflict is recorded and the value dropped.
  mutating func insert(_ value: DocumentNode, at key: [KeySegment], into table: Int) throws(TOMLReader.SyntaxError) {
    var parent = table
    for position in key.indices.dropLast() {
      let segment = key[position]
      guard let slot = tables[parent].index[segment.text] else {
        parent = try addTable(segment, to: parent, location: segment.location, origin: .dotted)
        continue
      }
      let entry = tables[parent].entries[slot]
      guard case .table(let child) = entry.value else {
        reportNotATable(entry, path: key[...position], at: segment.location)
        return
      }
      switch tables[child].origin {
      case .implicit:
        tables[child].origin = .dotted
      case .dotted:
        break
      case .header:
        report(
          "cannot extend table '\(Self.display(key[...position]))' with a dotted key; it has its own [header]",
          at: segment.location, firstDefinedAt: tables[child].location)
        return
      }
      parent = child
    }
    guard let last = key.last else { return }
    if let slot = tables[parent].index[last.text] {
      report("duplicate key '\(Self.display(key[...]))'", at: last.location,
             firstDefinedAt: tables[parent].entries[slot].keyLocation)
      return
    }
    addEntry(last, .complete(value), to: parent)
  }

  // MARK: Headers

  /// Walks `[a.b.c]` up to `b`, creating implicit tables and entering the last element of
  /// arrays of tables; nil (after recording why) if a segment holds a value.
  mutating func headerParent(_ key: [KeySegment]) throws(TOMLReader.SyntaxError) -> Int? {
    var parent = 0
    for position in key.indices.dropLast() {
      let segment = key[position]
      guard let slot = tables[parent].index[segment.text] else {
        parent = try addTable(segment, to: parent, location: segment.location, origin: .implicit)
        continue
      }
      let entry = tables[parent].entries[slot]
      switch entry.value {
      case .table(let child):
        parent = child
      case .arrayOfTables(let array):
        guard let lastElement = tableArrays[array].elements.last else { return nil }
        parent = lastElement
      case .complete:
        reportNotATable(entry, path: key[...position], at: segment.location)
        return nil
      }
    }
    return parent
  }

  /// Defines the table of a `[a.b]` header and returns it (a scratch table after a conflict).
  mutating func defineTable(_ key: [KeySegment], nameLocation: SourceLocation) throws(TOMLReader.SyntaxError) -> Int {
    guard let last = key.last, let parent = try headerParent(key) else { return scratchTable(at: nameLocation) }
    guard let slot = tables[parent].index[last.text] else {
      return try addTable(last, to: parent, location: nameLocation, origin: .header)
    }
    let entry = tables[parent].entries[slot]
    guard case .table(let table) = entry.value else {
      reportNotATable(entry, path: key[...], at: nameLocation)
      return scratchTable(at: nameLocation)
    }
    guard tables[table].origin == .implicit else {
      report("duplicate table '\(Self.display(key[...]))'", at: nameLocation, firstDefinedAt: tables[table].location)
      return scratchTable(at: nameLocation)
    }
    tables[table].origin = .header
    tables[table].location = nameLocation
    return table
  }

  /// Appends a table to the array of a `[[a.b]]` header and returns it (a scratch table after a conflict).
  mutating func appendTableArrayElement(
    _ key: [KeySegment], nameLocation: SourceLocation
  ) throws(TOMLReader.SyntaxError) -> Int {
    guard let last = key.last, let parent = try headerParent(key) else { return scratchTable(at: nameLocation) }
    guard let slot = tables[parent].index[last.text] else {
      let depth = tables[parent].depth + 1
      guard depth < Self.maxDepth else { throw tooDeep(at: last.location) }
      let element = newTable(location: nameLocation, origin: .header, depth: depth + 1)
      tableArrays.append(TOMLReader.PendingTableArray(elements: [element], location: nameLocation, depth: depth))
      addEntry(last, .arrayOfTables(tableArrays.count - 1), to: parent)
      return element
    }
    let entry = tables[parent].entries[slot]
    switch entry.value {
    case .arrayOfTables(let array):
      let element = newTable(location: nameLocation, origin: .header, depth: tableArrays[array].depth + 1)
      tableArrays[array].elements.append(element)
      return element
    case .complete(.sequence):
      report("cannot append to static array '\(Self.display(key[...]))' with [[…]]", at: nameLocation,
             firstDefinedAt: entry.keyLocation)
    default:
      reportNotATable(entry, path: key[...], at: nameLocation)
    }
    return scratchTable(at: nameLocation)
  }

  // MARK: Result

  /// The finished tree of the table at `index`.
  func materialize(_ table: Int) -> DocumentNode {
    let pending = tables[table]
    let entries = pending.entries.map { entry in
      DocumentNode.Entry(key: entry.key, keyLocation: entry.keyLocation, value: materialize(entry.value))
    }
    return .mapping(DocumentNode.Mapping(entries: entries, location: pending.location))
  }

  /// The finished tree of one value.
  func materialize(_ value: TOMLReader.PendingValue) -> DocumentNode {
    switch value {
    case .complete(let node):
      node
    case .table(let table):
      materialize(table)
    case .arrayOfTables(let array):
      .sequence(tableArrays[array].elements.map { materialize($0) }, tableArrays[array].location)
    }
  }
}
