extension TOMLReader.Parser {
  /// Reads a one-line basic string `"…"` at the cursor and returns its unescaped content.
  mutating func parseBasicString() throws(TOMLReader.SyntaxError) -> String {
    let open = here
    index += 1
    // Runs without escapes are copied in one piece; most strings are a single run.
    var content = ""
    var runStart = index
    while true {
      guard let scalar = current, !atNewline else {
        throw error("unterminated string: expected '\"' before the end of the line", at: open)
      }
      switch scalar {
      case "\"":
        content += text(runStart..<index)
        index += 1
        return content
      case "\\":
        content += text(runStart..<index)
        content.unicodeScalars.append(try parseEscape())
        runStart = index
      default:
        guard !Self.isControl(scalar) else {
          throw error("\(Self.describe(scalar)) is not allowed in a string; use an escape like \\t or \\u0007", at: here)
        }
        index += 1
      }
    }
  }

  /// Reads a one-line literal string `'…'` at the cursor; its content is taken as written.
  mutating func parseLiteralString() throws(TOMLReader.SyntaxError) -> String {
    let open = here
    index += 1
    let start = index
    while true {
      guard let scalar = current, !atNewline else {
        throw error("unterminated string: expected \"'\" before the end of the line", at: open)
      }
      if scalar == "'" { break }
      guard !Self.isControl(scalar) else {
        throw error("\(Self.describe(scalar)) is not allowed in a literal string", at: here)
      }
      index += 1
    }
    let content = text(start..<index)
    index += 1
    return content
  }

  /// Reads a multi-line string `"""…"""` or `'''…'''` at the cursor. A line end right after the
  /// opening quotes is dropped; in basic strings a `\` at the end of a line joins it to the next
  /// non-blank text. Line ends are read as `\n`.
  mutating func parseMultilineString(quote: Unicode.Scalar) throws(TOMLReader.SyntaxError) -> String {
    let open = here
    let isBasic = quote == "\""
    index += 3
    unclosedConstructs += 1
    _ = consumeNewline()
    var content = ""
    var runStart = index
    while true {
      guard let scalar = current else {
        throw error("unterminated multi-line string: expected \(String(repeating: String(quote), count: 3))", at: open)
      }
      if scalar == quote, peek(1) == quote, peek(2) == quote {
        // Up to two quotes right before the closing three belong to the content.
        var run = 3
        while run < 5, peek(run) == quote { run += 1 }
        content += text(runStart..<(index + run - 3))
        index += run
        unclosedConstructs -= 1
        return content
      }
      if scalar == "\n" {
        _ = consumeNewline()
      } else if scalar == "\r", peek(1) == "\n" {
        // CRLF is read as LF, like tomllib does.
        content += text(runStart..<index)
        content += "\n"
        _ = consumeNewline()
        runStart = index
      } else if isBasic, scalar == "\\" {
        content += text(runStart..<index)
        if !skipLineEndingBackslash() { content.unicodeScalars.append(try parseEscape()) }
        runStart = index
      } else if Self.isControl(scalar) {
        let advice = isBasic ? "; use an escape like \\t or \\u0007" : ""
        throw error("\(Self.describe(scalar)) is not allowed in a string\(advice)", at: here)
      } else {
        index += 1
      }
    }
  }

  /// If the `\` at the cursor ends its line (trailing spaces allowed), skips it and all spaces
  /// and line ends after it and returns true; otherwise leaves the cursor and returns false.
  mutating func skipLineEndingBackslash() -> Bool {
    var lookahead = index + 1
    while lookahead < scalars.count, scalars[lookahead] == " " || scalars[lookahead] == "\t" { lookahead += 1 }
    let endsLine = lookahead < scalars.count
      && (scalars[lookahead] == "\n"
        || (scalars[lookahead] == "\r" && lookahead + 1 < scalars.count && scalars[lookahead + 1] == "\n"))
    guard endsLine else { return false }
    index = lookahead
    while true {
      skipSpaces()
      if !consumeNewline() { return true }
    }
  }

  /// Reads the escape sequence at the cursor (at its `\`) and returns the scalar it stands for.
  mutating func parseEscape() throws(TOMLReader.SyntaxError) -> Unicode.Scalar {
    let start = here
    index += 1
    let escaped: Unicode.Scalar
    switch current {
    case "b": escaped = "\u{08}"
    case "t": escaped = "\t"
    case "n": escaped = "\n"
    case "f": escaped = "\u{0C}"
    case "r": escaped = "\r"
    case "\"": escaped = "\""
    case "\\": escaped = "\\"
    case "u": return try parseUnicodeEscape(digits: 4, at: start)
    case "U": return try parseUnicodeEscape(digits: 8, at: start)
    default:
      let sequence: String
      if let scalar = current, !atNewline, !Self.isControl(scalar) {
        sequence = "'\\\(scalar)'"
      } else {
        sequence = "'\\' followed by \(describeCurrent())"
      }
      throw error(
        "invalid escape \(sequence); expected \\b, \\t, \\n, \\f, \\r, \\\", \\\\, \\uXXXX or \\UXXXXXXXX",
        at: start)
    }
    index += 1
    return escaped
  }

  /// Reads the hex digits of `\uXXXX` or `\UXXXXXXXX`; the cursor is on the `u`.
  mutating func parseUnicodeEscape(digits: Int, at start: SourceLocation) throws(TOMLReader.SyntaxError) -> Unicode.Scalar {
    index += 1
    var value: UInt32 = 0
    for _ in 0..<digits {
      guard let scalar = current, scalar.isASCII,
            let digit = TOMLReader.Radix.hexadecimal.value(of: UInt8(truncatingIfNeeded: scalar.value)) else {
        let form = digits == 4 ? "\\uXXXX" : "\\UXXXXXXXX"
        throw error("invalid escape: \(form) needs exactly \(digits) hexadecimal digits", at: start)
      }
      value = value << 4 | UInt32(digit)
      index += 1
    }
    guard let scalar = Unicode.Scalar(value) else {
      let hex = String(value, radix: 16, uppercase: true)
      throw error("invalid escape: U+\(hex) is not a unicode scalar value", at: start)
    }
    return scalar
  }
}
