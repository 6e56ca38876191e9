extension TOMLReader.Parser {
  /// Reads the value at the cursor; `depth` is how deeply it is nested.
  mutating func parseValue(depth: Int) throws(TOMLReader.SyntaxError) -> DocumentNode {
    let start = here
    switch current {
    case "\"":
      let isMultiline = peek(1) == "\"" && peek(2) == "\""
      let text = isMultiline ? try parseMultilineString(quote: "\"") : try parseBasicString()
      return .scalar(.init(text: text, kind: .string, location: start))
    case "'":
      let isMultiline = peek(1) == "'" && peek(2) == "'"
      let text = isMultiline ? try parseMultilineString(quote: "'") : try parseLiteralString()
      return .scalar(.init(text: text, kind: .string, location: start))
    case "[":
      return try parseArray(depth: depth + 1)
    case "{":
      return try parseInlineTable(depth: depth + 1)
    case let scalar? where Self.isValueTokenScalar(scalar):
      return .scalar(try parseBareValue())
    default:
      throw error("expected a value, found \(describeCurrent())", at: start)
    }
  }

  /// Scalars that make up booleans, numbers, dates and times.
  static func isValueTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "+", "-", ".", ":": true
    default: false
    }
  }

  /// Reads an unquoted value: `true`, `false`, a number, a date or a time.
  mutating func parseBareValue() throws(TOMLReader.SyntaxError) -> DocumentNode.Scalar {
    let start = here
    let tokenStart = index
    while let scalar = current, Self.isValueTokenScalar(scalar) { index += 1 }
    // A date followed by a space and a time is one date-time: `1979-05-27 07:32:00`.
    if index - tokenStart == 10, scalars[tokenStart + 4] == "-", current == " ",
       let hour = peek(1), let hour2 = peek(2), peek(3) == ":",
       Self.isDigit(hour), Self.isDigit(hour2) {
      index += 1
      while let scalar = current, Self.isValueTokenScalar(scalar) { index += 1 }
    }
    let bytes = scalars[tokenStart..<index].map { UInt8(truncatingIfNeeded: $0.value) }
    let literal = text(tokenStart..<index)
    switch literal {
    case "true", "false":
      return .init(text: literal, kind: .boolean, location: start)
    case "True", "False", "TRUE", "FALSE":
      throw error("invalid value '\(literal)'; booleans are 'true' or 'false' in lower case", at: start)
    default:
      break
    }
    let startsLikeNumber = Self.isDigit(scalars[tokenStart]) || "+-.".unicodeScalars.contains(scalars[tokenStart])
    guard startsLikeNumber || literal == "inf" || literal == "nan" else {
      throw error("invalid value '\(literal)'; strings must be in quotes", at: start)
    }
    if let form = TOMLReader.DateTimeLiteral.form(of: bytes) {
      do throws(TOMLReader.LiteralError) {
        try TOMLReader.DateTimeLiteral.validate(bytes, form: form)
      } catch {
        throw self.error("invalid \(form.rawValue) '\(literal)': \(error.reason)", at: start)
      }
      return .init(text: literal, kind: .datetime, location: start)
    }
    do throws(TOMLReader.LiteralError) {
      let number = try TOMLReader.NumberLiteral.parse(bytes)
      return .init(text: number.text, kind: number.kind, location: start)
    } catch {
      throw self.error("invalid number '\(literal)': \(error.reason)", at: start)
    }
  }

  /// Whether `scalar` is an ASCII digit.
  static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

  /// Reads `[ value, … ]`, which may span lines and hold comments and a trailing comma.
  mutating func parseArray(depth: Int) throws(TOMLReader.SyntaxError) -> DocumentNode {
    let open = here
    guard depth <= Self.maxDepth else { throw tooDeep(at: open) }
    index += 1
    unclosedConstructs += 1
    var elements: [DocumentNode] = []
    while true {
      try skipArrayWhitespace()
      guard current != nil else { throw error("unterminated array: expected ']'", at: open) }
      if current == "]" { break }
      elements.append(try parseValue(depth: depth))
      try skipArrayWhitespace()
      if current == "," {
        index += 1
      } else if current == "]" {
        break
      } else if current == nil {
        throw error("unterminated array: expected ']'", at: open)
      } else {
        throw error("expected ',' or ']' after an array element, found \(describeCurrent())", at: here)
      }
    }
    index += 1
    unclosedConstructs -= 1
    return .sequence(elements, open)
  }

  /// Skips spaces, line ends and comments between array elements.
  mutating func skipArrayWhitespace() throws(TOMLReader.SyntaxError) {
    while true {
      skipSpaces()
      if current == "#" {
        try skipComment()
      } else if !consumeNewline() {
        return
      }
    }
  }

  /// Reads `{ key = value, … }` on one line; its keys may be dotted but it cannot be extended later.
  mutating func parseInlineTable(depth: Int) throws(TOMLReader.SyntaxError) -> DocumentNode {
    let open = here
    guard depth <= Self.maxDepth else { throw tooDeep(at: open) }
    index += 1
    unclosedConstructs += 1
    let table = newTable(location: open, origin: .dotted, depth: depth)
    skipSpaces()
    if current == "}" {
      index += 1
    } else {
      while true {
        let keyLocation = here
        let key = try parseKey(what: "a key or '}'")
        guard current == "=" else {
          throw error("expected '=' after key '\(Self.display(key[...]))', found \(describeCurrent())", at: here)
        }
        index += 1
        skipSpaces()
        guard depth + key.count <= Self.maxDepth else { throw tooDeep(at: keyLocation) }
        let value = try parseValue(depth: depth + key.count)
        try insert(value, at: key, into: table)
        skipSpaces()
        if current == "}" {
          index += 1
          break
        }
        guard current == "," else {
          let hint = atNewline || current == nil ? "; an inline table must be on one line" : ""
          throw error("expected ',' or '}' in inline table, found \(describeCurrent())\(hint)", at: here)
        }
        let comma = here
        index += 1
        skipSpaces()
        if current == "}" { throw error("trailing comma is not allowed in an inline table", at: comma) }
      }
    }
    unclosedConstructs -= 1
    let node = materialize(table)
    // The inline table is finished: drop its scratch tables so memory stays proportional to the input.
    tables.removeSubrange(table...)
    return node
  }
}
