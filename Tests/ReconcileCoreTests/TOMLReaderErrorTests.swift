import Testing
@testable import ReconcileCore

/// The diagnostics reading `text` produces, one `description` each (notes on following lines).
func tomlErrors(_ text: String) -> [String] {
  do {
    _ = try TOMLReader.read(text, file: "t.toml")
    return []
  } catch {
    return error.diagnostics.map(\.description)
  }
}

@Suite struct TOMLReaderErrorTests {
  @Test(arguments: [
    // Strings
    ("a = \"abc", "1:5: error: unterminated string: expected '\"' before the end of the line"),
    ("a = 'abc\nb = 1", "1:5: error: unterminated string: expected \"'\" before the end of the line"),
    ("a = \"\"\"abc\n\n", "1:5: error: unterminated multi-line string: expected \"\"\""),
    ("a = '''abc''", "1:5: error: unterminated multi-line string: expected '''"),
    (#"a = "x\qy""#, #"1:7: error: invalid escape '\q'; expected \b, \t, \n, \f, \r, \", \\, \uXXXX or \UXXXXXXXX"#),
    ("a = \"\"\"\n x \\ y\"\"\"", #"2:4: error: invalid escape '\ '; expected \b, \t, \n, \f, \r, \", \\, \uXXXX or \UXXXXXXXX"#),
    (#"a = "\u12G4""#, #"1:6: error: invalid escape: \uXXXX needs exactly 4 hexadecimal digits"#),
    (#"a = "\UD800DC00""#, #"1:6: error: invalid escape: U+D800DC00 is not a unicode scalar value"#),
    (#"a = "\uD800""#, #"1:6: error: invalid escape: U+D800 is not a unicode scalar value"#),
    ("a = \"x\u{7}\"", "1:7: error: control character U+0007 is not allowed in a string; use an escape like \\t or \\u0007"),
    ("a = 'x\u{7F}'", "1:7: error: control character U+007F is not allowed in a literal string"),
    ("a = '''\n\u{1}'''", "2:1: error: control character U+0001 is not allowed in a string"),
    ("a = 1 # bell\u{7}", "1:13: error: control character U+0007 is not allowed in a comment"),
    ("a = 1\u{7}", "1:6: error: expected end of line after value, found control character U+0007"),
    ("a = 1\rb = 2", "1:6: error: expected end of line after value, found control character U+000D"),
    // Numbers, dates and other bare values
    ("a = 012", "1:5: error: invalid number '012': leading zeros are not allowed"),
    ("a = 1__0", "1:5: error: invalid number '1__0': '_' must be between digits"),
    ("a = 1_", "1:5: error: invalid number '1_': '_' must be between digits"),
    ("a = 0x", "1:5: error: invalid number '0x': expected hexadecimal digits"),
    ("a = 0o8", "1:5: error: invalid number '0o8': '8' is not an octal digit"),
    ("a = +0x1", "1:5: error: invalid number '+0x1': hexadecimal, octal and binary integers cannot have a sign"),
    ("a = 1.", "1:5: error: invalid number '1.': expected digits after '.'"),
    ("a = .5", "1:5: error: invalid number '.5': expected a digit"),
    ("a = 1e", "1:5: error: invalid number '1e': expected digits in the exponent"),
    ("a = 1.2.3", "1:5: error: invalid number '1.2.3': unexpected '.'"),
    ("a = 0X10", "1:5: error: invalid number '0X10': unexpected 'X'"),
    ("a = 1979-13-01", "1:5: error: invalid date '1979-13-01': month must be between 01 and 12"),
    ("a = 2023-02-29", "1:5: error: invalid date '2023-02-29': day must be between 01 and 28"),
    ("a = 1979-05-27T07:32", "1:5: error: invalid date-time '1979-05-27T07:32': expected HH:MM:SS"),
    ("a = 1979-05-27T07:32:00+7", "1:5: error: invalid date-time '1979-05-27T07:32:00+7': expected a time zone offset like +01:00"),
    ("a = 24:00:00", "1:5: error: invalid time '24:00:00': hour must be between 00 and 23"),
    ("a = 07:32:00Z", "1:5: error: invalid time '07:32:00Z': unexpected 'Z' after the time"),
    ("a = hello", "1:5: error: invalid value 'hello'; strings must be in quotes"),
    ("a = True", "1:5: error: invalid value 'True'; booleans are 'true' or 'false' in lower case"),
    // Statements
    ("a 1", "1:3: error: expected '=' after key 'a', found '1'"),
    ("a.\"b c\"\nx = 1", "1:8: error: expected '=' after key 'a.\"b c\"', found end of line"),
    ("a =", "1:4: error: expected a value, found end of file"),
    ("a = # none", "1:5: error: expected a value, found '#'"),
    ("= 1", "1:1: error: expected a key, found '='"),
    ("a. = 1", "1:4: error: expected a key after '.', found '='"),
    ("\"\"\"k\"\"\" = 1", "1:1: error: expected a key, found a multi-line string; keys must be on one line"),
    ("a = 1 2", "1:7: error: expected end of line after value, found '2'"),
    ("a = \"x\" y", "1:9: error: expected end of line after value, found 'y'"),
    ("[a", "1:3: error: expected ']' to close the table header, found end of file"),
    ("[]", "1:2: error: expected a table name, found ']'"),
    ("[[a] ]", "1:4: error: expected ']]' to close the array of tables header, found ']'"),
    ("[a] x = 1", "1:5: error: expected end of line after table header, found 'x'"),
    ("a = [1, 2", "1:5: error: unterminated array: expected ']'"),
    ("a = [1 2]", "1:8: error: expected ',' or ']' after an array element, found '2'"),
    ("a = [1,,]", "1:8: error: expected a value, found ','"),
    ("a = {b = 1,}", "1:11: error: trailing comma is not allowed in an inline table"),
    ("a = {b = 1\n}", "1:11: error: expected ',' or '}' in inline table, found end of line; an inline table must be on one line"),
    ("a = {b 1}", "1:8: error: expected '=' after key 'b', found '1'"),
  ])
  func syntaxErrors(document: String, expected: String) {
    #expect(tomlErrors(document) == ["t.toml:" + expected])
  }

  @Test(arguments: [
    ("a = 1\na = 2", "2:1: error: duplicate key 'a'", "1:1"),
    ("a.b = 1\na . b = 2", "2:5: error: duplicate key 'a.b'", "1:3"),
    ("t = { x = 1, x = 2 }", "1:14: error: duplicate key 'x'", "1:7"),
    ("[a]\nb = 1\n[a]", "3:2: error: duplicate table 'a'", "1:2"),
    ("[a]\nb.c = 1\n[a.b]", "3:2: error: duplicate table 'a.b'", "2:1"),
    ("a.b = 1\n[a]", "2:2: error: duplicate table 'a'", "1:1"),
    ("[a.b]\nx = 1\n[a]\nb.y = 2", "4:1: error: cannot extend table 'b' with a dotted key; it has its own [header]", "1:2"),
    ("a = []\n[[a]]", "2:3: error: cannot append to static array 'a' with [[…]]", "1:1"),
    ("a = [{}]\n[a.b]", "2:2: error: key 'a' is already defined as a list", "1:1"),
    ("a = {}\n[a]", "2:2: error: cannot extend inline table 'a'", "1:1"),
    ("a = {b = 1}\na.c = 2", "2:1: error: cannot extend inline table 'a'", "1:1"),
    ("a = {b = 1}\n[a.c]", "2:2: error: cannot extend inline table 'a'", "1:1"),
    ("a = {b = 1}\n[[a.c]]", "2:3: error: cannot extend inline table 'a'", "1:1"),
    ("t = { a = { b = 1 }, a.c = 2 }", "1:22: error: cannot extend inline table 'a'", "1:7"),
    ("[[a]]\n[a]", "2:2: error: key 'a' is already defined as an array of tables", "1:3"),
    ("[a]\n[[a]]", "2:3: error: key 'a' is already defined as a table", "1:2"),
    ("[[a]]\nb.c = 1\n[[a.b]]", "3:3: error: key 'a.b' is already defined as a table", "2:1"),
    ("a = 1\n[a.b]", "2:2: error: key 'a' is already defined as an integer", "1:1"),
    ("a = 'x'\na.b = 1", "2:1: error: key 'a' is already defined as a string", "1:1"),
    ("[[a]]\n[x]\na.b = 1\n[[a]]\na = 1", "", ""),
  ])
  func conflicts(document: String, expected: String, firstDefinition: String) {
    let errors = tomlErrors(document)
    guard !expected.isEmpty else {
      #expect(errors == [])
      return
    }
    #expect(errors == ["t.toml:\(expected)\nt.toml:\(firstDefinition): note: first defined here"])
  }

  @Test func errorsOnSeparateLinesAreAllReported() {
    let errors = tomlErrors("""
      a = 1 x
      b = "unterminated
      c = 1
      c = 2
      d = 0x
      [c]
      e = [1, 2
      f = 3
      """)
    #expect(errors == [
      "t.toml:1:7: error: expected end of line after value, found 'x'",
      "t.toml:2:5: error: unterminated string: expected '\"' before the end of the line",
      "t.toml:4:1: error: duplicate key 'c'\nt.toml:3:1: note: first defined here",
      "t.toml:5:5: error: invalid number '0x': expected hexadecimal digits",
      "t.toml:6:2: error: key 'c' is already defined as an integer\nt.toml:3:1: note: first defined here",
      "t.toml:8:1: error: expected ',' or ']' after an array element, found 'f'",
    ])
  }

  @Test func keysBelowABrokenHeaderDoNotLandInThePreviousTable() {
    #expect(tomlErrors("[a]\nx = 1\n[b\nx = 2\n[a]\ny = 1") == [
      "t.toml:3:3: error: expected ']' to close the table header, found end of line",
      "t.toml:5:2: error: duplicate table 'a'\nt.toml:1:2: note: first defined here",
    ])
  }

  @Test func anErrorInsideAMultiLineValueStopsReading() {
    #expect(tomlErrors("a = [\n  1,\n  x,\n]\nb = @\n") == ["t.toml:3:3: error: invalid value 'x'; strings must be in quotes"])
    #expect(tomlErrors("a = \"\"\"\\q\n\"\"\"\nb = @\n").count == 1)
    #expect(tomlErrors("a = 1 b = [\n1,\n]\n").count == 1)
  }

  @Test(arguments: [
    "a = " + String(repeating: "[", count: 100_000),
    "a = " + String(repeating: "{b=", count: 100_000),
    String(repeating: "a.", count: 100_000) + "b = 1",
    "[" + String(repeating: "a.", count: 100_000) + "b]",
    (0..<500).map { "[[" + String(repeating: "a.", count: $0) + "a]]\n" }.joined(),
  ])
  func deepNestingIsAnErrorNotACrash(document: String) {
    let errors = tomlErrors(document)
    #expect(errors.count == 1)
    #expect(errors.first?.contains("nesting is too deep") == true)
  }

  @Test func nestingUpToTheLimitIsAccepted() throws {
    let document = try readTOML("a = " + String(repeating: "[", count: 99) + String(repeating: "]", count: 99))
    #expect(document.node(at: "a")?.typeDescription == "a list")
    #expect(tomlErrors("a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) == [
      "t.toml:1:104: error: nesting is too deep; at most 100 levels of tables and arrays are allowed",
    ])
    #expect(tomlErrors(String(repeating: "[", count: 100_000)) == ["t.toml:1:3: error: expected a table name, found '['"])
  }

  /// Every prefix and every one-scalar deletion of a document touching every construct either
  /// parses or fails with located diagnostics; nothing crashes or hangs.
  @Test func damagedDocumentsNeverCrash() throws {
    let source = Array(
      #"""
      # c
      a = "b\t\u00E9" # x
      "k y".z = 'lit'
      m = """
      x\
        y"""
      n = '''
      raw'''
      i = [0x1F, 0o7, 0b1, -1_0, +1.5e-3, inf, nan, true, 1979-05-27T07:32:00Z, 1979-05-27 07:32:00, 07:32:00]
      t = { p = 1, q.r = [ { s = "" } ] }
      [tab.le]
      x = [
        1, # one
      ]
      [[arr]]
      y = 2
      """#.unicodeScalars)
    var damaged = (0...source.count).map { Array(source[..<$0]) }
    damaged += source.indices.map { position in
      var copy = source
      copy.remove(at: position)
      return copy
    }
    for scalars in damaged {
      var view = String.UnicodeScalarView()
      view.append(contentsOf: scalars)
      do {
        _ = try TOMLReader.read(String(view), file: "t.toml")
      } catch {
        #expect(!error.diagnostics.isEmpty)
        #expect(error.diagnostics.allSatisfy { $0.location != nil && $0.severity == .error })
      }
    }
  }
}
