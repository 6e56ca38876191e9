/// Reads TOML text into a `DocumentNode` tree that keeps every value's position.
///
/// A TOML 1.0 reader of our own, because the TOML library available to us does not expose
/// source positions and every mistake in a desired-state file must be reported at its
/// `file:line:column`. Integers are normalised to decimal text; floats, dates and times keep
/// their literal text; the schema decoder gives them meaning.
public enum TOMLReader {
  /// Parses `text`; `file` is used in locations. Throws `DiagnosticsError` with one or more
  /// diagnostics (syntax errors at their exact line:column).
  public static func read(_ text: String, file: String) throws(DiagnosticsError) -> DocumentNode {
    var parser = Parser(text: text, file: file)
    return try parser.parseDocument()
  }
}

extension TOMLReader {
  /// A syntax error that ends the statement being parsed.
  struct SyntaxError: Error {
    /// What went wrong and where.
    var diagnostic: Diagnostic
    /// Whether reading must stop here rather than go on at the next line.
    var stopsReading = false
  }

  /// One segment of a dotted key, unquoted, and where it starts.
  struct KeySegment {
    /// The segment's text without quotes or escapes.
    var text: String
    /// Where the segment starts (its opening quote for quoted keys).
    var location: SourceLocation
  }

  /// The cursor over a document's scalars, the tables built so far and the problems found.
  struct Parser {
    /// Deepest nesting of tables and arrays accepted; deeper input is an error, not a stack overflow.
    static let maxDepth = 100

    /// The document, one element per Unicode scalar so that columns are indices.
    let scalars: [Unicode.Scalar]
    /// The file name put in every location.
    let file: String
    /// `file`'s number in `SourceFiles`, for the locations made.
    let fileID: UInt32
    /// The index of the next scalar to read.
    var index = 0
    /// The 1-based line of `index`.
    var line = 1
    /// The index of the first scalar of the current line, for columns.
    var lineStart = 0
    /// Every table under construction; `PendingValue.table` refers to them by index.
    var tables: [PendingTable] = []
    /// Every array of tables under construction; `PendingValue.arrayOfTables` refers to them by index.
    var tableArrays: [PendingTableArray] = []
    /// Problems found so far, syntax and semantic.
    var diagnostics: [Diagnostic] = []
    /// How many arrays, inline tables and multi-line strings are open: an error inside one
    /// cannot be skipped by line, since the construct may go on (or was meant to go on) below.
    var unclosedConstructs = 0

    init(text: String, file: String) {
      scalars = Array(text.unicodeScalars)
      self.file = file
      fileID = SourceFiles.id(of: file)
      if scalars.first == "\u{FEFF}" {
        index = 1
        lineStart = 1
      }
    }

    /// Reads every statement, collecting errors while skipping a bad line is safe.
    mutating func parseDocument() throws(DiagnosticsError) -> DocumentNode {
      let root = newTable(location: SourceLocation(fileID: fileID, line: 1, column: 1), origin: .header, depth: 0)
      var section = root
      while index < scalars.count {
        let statementLine = line
        unclosedConstructs = 0
        do {
          try parseStatement(section: &section)
        } catch {
          diagnostics.append(error.diagnostic)
          guard !error.stopsReading, unclosedConstructs == 0, line == statementLine, skipRestOfLine() else { break }
        }
      }
      guard diagnostics.isEmpty else {
        let ordered = diagnostics.enumerated().sorted { lhs, rhs in
          let left = lhs.element.location, right = rhs.element.location
          return (left?.line ?? 0, left?.column ?? 0, lhs.offset) < (right?.line ?? 0, right?.column ?? 0, rhs.offset)
        }
        throw DiagnosticsError(ordered.map(\.element))
      }
      return materialize(root)
    }

    /// Reads one line's statement: blank, comment, `[table]`, `[[array]]` or `key = value`.
    mutating func parseStatement(section: inout Int) throws(SyntaxError) {
      skipSpaces()
      guard let first = current else { return }
      switch first {
      case "#", "\n", "\r":
        try expectLineEnd(after: nil)
      case "[":
        do {
          section = try parseTableHeader()
        } catch {
          // Keys below a broken header must not land in the previous table and raise false duplicates.
          section = scratchTable(at: here)
          throw error
        }
        try expectLineEnd(after: "table header")
      default:
        try parseKeyValue(into: section)
        try expectLineEnd(after: "value")
      }
    }

    /// Reads `[name]` or `[[name]]` and returns the table that following keys go into.
    mutating func parseTableHeader() throws(SyntaxError) -> Int {
      let isArray = peek(1) == "["
      index += isArray ? 2 : 1
      skipSpaces()
      let nameLocation = here
      let key = try parseKey(what: "a table name")
      guard key.count <= Self.maxDepth else { throw tooDeep(at: nameLocation) }
      if isArray {
        guard current == "]", peek(1) == "]" else {
          throw error("expected ']]' to close the array of tables header, found \(describeCurrent())", at: here)
        }
        index += 2
        return try appendTableArrayElement(key, nameLocation: nameLocation)
      }
      guard current == "]" else {
        throw error("expected ']' to close the table header, found \(describeCurrent())", at: here)
      }
      index += 1
      return try defineTable(key, nameLocation: nameLocation)
    }

    /// Reads `key = value` and adds it to `table`.
    mutating func parseKeyValue(into table: Int) throws(SyntaxError) {
      let keyLocation = here
      let key = try parseKey(what: "a key")
      guard current == "=" else {
        throw error("expected '=' after key '\(Self.display(key[...]))', found \(describeCurrent())", at: here)
      }
      index += 1
      skipSpaces()
      let depth = tables[table].depth + key.count
      guard depth <= Self.maxDepth else { throw tooDeep(at: keyLocation) }
      let value = try parseValue(depth: depth)
      try insert(value, at: key, into: table)
    }

    /// Reads a possibly dotted key; stops after the whitespace that follows it.
    mutating func parseKey(what: String) throws(SyntaxError) -> [KeySegment] {
      var segments = [try parseKeySegment(what: what)]
      while true {
        skipSpaces()
        guard current == "." else { return segments }
        index += 1
        skipSpaces()
        segments.append(try parseKeySegment(what: "a key after '.'"))
      }
    }

    /// Reads one bare or quoted key segment.
    mutating func parseKeySegment(what: String) throws(SyntaxError) -> KeySegment {
      let location = here
      switch current {
      case "\"", "'":
        if peek(1) == current, peek(2) == current {
          throw error("expected \(what), found a multi-line string; keys must be on one line", at: location)
        }
        let text = current == "\"" ? try parseBasicString() : try parseLiteralString()
        return KeySegment(text: text, location: location)
      case let scalar? where Self.isBareKeyScalar(scalar):
        let start = index
        while let next = current, Self.isBareKeyScalar(next) { index += 1 }
        return KeySegment(text: text(start..<index), location: location)
      default:
        throw error("expected \(what), found \(describeCurrent())", at: location)
      }
    }

    /// Skips spaces and an optional comment, then requires a line end or the end of the file.
    mutating func expectLineEnd(after what: String?) throws(SyntaxError) {
      skipSpaces()
      try skipComment()
      if current == nil || consumeNewline() { return }
      let context = what.map { " after \($0)" } ?? ""
      throw error("expected end of line\(context), found \(describeCurrent())", at: here)
    }

    /// After an error, moves to the next line; false when the rest of the line may open a
    /// construct that spans lines, so reading on would only report follow-on errors.
    mutating func skipRestOfLine() -> Bool {
      var opensMultiline = false
      while let scalar = current {
        if consumeNewline() { break }
        if scalar == "[" || ((scalar == "\"" || scalar == "'") && peek(1) == scalar && peek(2) == scalar) {
          opensMultiline = true
        }
        index += 1
      }
      return !opensMultiline
    }
  }
}

// MARK: - Cursor

extension TOMLReader.Parser {
  /// The scalar at the cursor, nil at the end.
  var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

  /// Where the cursor is.
  var here: SourceLocation { SourceLocation(fileID: fileID, line: line, column: index - lineStart + 1) }

  /// The scalar `offset` places after the cursor, nil past the end.
  func peek(_ offset: Int) -> Unicode.Scalar? {
    index + offset < scalars.count ? scalars[index + offset] : nil
  }

  /// The scalars in `range` as a string, encoded straight into the string's storage.
  func text(_ range: Range<Int>) -> String {
    let slice = scalars[range]
    let byteCount = slice.reduce(0) { $0 + UTF8.width($1) }
    return String(unsafeUninitializedCapacity: byteCount) { buffer in
      var offset = 0
      for scalar in slice {
        let value = scalar.value
        switch value {
        case ..<0x80:
          buffer[offset] = UInt8(value)
        case ..<0x800:
          buffer[offset] = UInt8(0xC0 | value >> 6)
          buffer[offset + 1] = UInt8(0x80 | value & 0x3F)
        case ..<0x1_0000:
          buffer[offset] = UInt8(0xE0 | value >> 12)
          buffer[offset + 1] = UInt8(0x80 | value >> 6 & 0x3F)
          buffer[offset + 2] = UInt8(0x80 | value & 0x3F)
        default:
          buffer[offset] = UInt8(0xF0 | value >> 18)
          buffer[offset + 1] = UInt8(0x80 | value >> 12 & 0x3F)
          buffer[offset + 2] = UInt8(0x80 | value >> 6 & 0x3F)
          buffer[offset + 3] = UInt8(0x80 | value & 0x3F)
        }
        offset += UTF8.width(scalar)
      }
      return offset
    }
  }

  /// Skips spaces and tabs.
  mutating func skipSpaces() {
    while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
  }

  /// Whether a line feed or a carriage return + line feed starts at the cursor.
  var atNewline: Bool { current == "\n" || (current == "\r" && peek(1) == "\n") }

  /// Consumes a line end (LF or CRLF) and moves to the next line; false if there is none.
  mutating func consumeNewline() -> Bool {
    guard atNewline else { return false }
    index += current == "\r" ? 2 : 1
    line += 1
    lineStart = index
    return true
  }

  /// Skips a `#` comment up to its line end; control characters other than tab are errors.
  mutating func skipComment() throws(TOMLReader.SyntaxError) {
    guard current == "#" else { return }
    index += 1
    while let scalar = current, !atNewline {
      if Self.isControl(scalar) {
        throw error("\(Self.describe(scalar)) is not allowed in a comment", at: here)
      }
      index += 1
    }
  }

  /// What is at the cursor, for "found …" in messages.
  func describeCurrent() -> String {
    guard let scalar = current else { return "end of file" }
    return atNewline ? "end of line" : Self.describe(scalar)
  }

  /// A scalar for messages: `'x'`, or `control character U+0007` for the invisible ones.
  static func describe(_ scalar: Unicode.Scalar) -> String {
    guard isControl(scalar) || scalar == "\n" else { return "'\(scalar)'" }
    let digits = String(scalar.value, radix: 16, uppercase: true)
    return "control character U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }

  /// Control characters TOML forbids outside escapes: U+0000–U+001F except tab, and U+007F.
  static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
  }

  /// Letters, digits, `_` and `-`: the scalars of a bare key.
  static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
    default: false
    }
  }

  /// A key path for messages, quoting segments that are not bare.
  static func display(_ key: ArraySlice<TOMLReader.KeySegment>) -> String {
    key.map { segment in
      let isBare = !segment.text.isEmpty && segment.text.unicodeScalars.allSatisfy(isBareKeyScalar)
      return isBare ? segment.text : "\"\(segment.text)\""
    }.joined(separator: ".")
  }

  /// An error diagnostic to throw.
  func error(_ message: String, at location: SourceLocation) -> TOMLReader.SyntaxError {
    TOMLReader.SyntaxError(diagnostic: .error(at: location, message))
  }

  /// The error for input nested deeper than `maxDepth`.
  func tooDeep(at location: SourceLocation) -> TOMLReader.SyntaxError {
    var tooDeep = error("nesting is too deep; at most \(Self.maxDepth) levels of tables and arrays are allowed", at: location)
    tooDeep.stopsReading = true
    return tooDeep
  }
}
