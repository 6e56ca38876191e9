import Testing
@testable import ReconcileCore

/// Parses `text` as `t.toml`.
func readTOML(_ text: String) throws -> DocumentNode {
  try TOMLReader.read(text, file: "t.toml")
}

extension DocumentNode {
  /// The node at a dotted path; numeric segments index sequences (`files.0.path`).
  func node(at path: String) -> DocumentNode? {
    var node = self
    for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
      switch node {
      case .mapping(let mapping):
        guard let entry = mapping[String(segment)] else { return nil }
        node = entry.value
      case .sequence(let elements, _):
        guard let position = Int(segment), elements.indices.contains(position) else { return nil }
        node = elements[position]
      case .scalar:
        return nil
      }
    }
    return node
  }

  /// The entry at a dotted path (the last segment names a key of a mapping).
  func entry(at path: String) -> DocumentNode.Entry? {
    let parts = path.split(separator: ".")
    let parent = parts.count == 1 ? self : node(at: parts.dropLast().joined(separator: "."))
    guard case .mapping(let mapping)? = parent, let key = parts.last else { return nil }
    return mapping[String(key)]
  }

  /// The keys of the mapping at `path`, in document order.
  func keys(at path: String? = nil) -> [String] {
    guard case .mapping(let mapping)? = path.map({ node(at: $0) }) ?? self else { return [] }
    return mapping.entries.map(\.key)
  }

  /// The scalar at `path`.
  func scalar(at path: String) -> DocumentNode.Scalar? {
    guard case .scalar(let scalar)? = node(at: path) else { return nil }
    return scalar
  }
}

/// `line:column` of a location, for compact expectations.
func position(_ location: ReconcileCore.SourceLocation?) -> String {
  location.map { "\($0.line):\($0.column)" } ?? "nil"
}

@Suite struct TOMLReaderValueTests {
  @Test(arguments: [
    ("1_000", "1000"), ("+17", "17"), ("-17", "-17"), ("0", "0"), ("-0", "0"), ("+0", "0"),
    ("0xDEAD_beef", "3735928559"), ("0x10", "16"), ("0o755", "493"), ("0b1101_0110", "214"),
    ("0x7FFFFFFFFFFFFFFF", "9223372036854775807"), ("-9223372036854775808", "-9223372036854775808"),
    ("9223372036854775808", "9223372036854775808"), ("-99_999_999_999_999_999_999", "-99999999999999999999"),
    ("0x8000_0000_0000_0000", "0x8000000000000000"), ("0b1_0000000000000000000000000000000000000000000000000000000000000000",
                                                       "0b10000000000000000000000000000000000000000000000000000000000000000"),
  ])
  func integers(literal: String, text: String) throws {
    let scalar = try #require(try readTOML("v = \(literal)").scalar(at: "v"))
    #expect(scalar.text == text)
    #expect(scalar.kind == .integer)
    #expect(position(scalar.location) == "1:5")
  }

  @Test(arguments: [
    ("3.14", "3.14"), ("+1.0", "+1.0"), ("-0.01", "-0.01"), ("5e+22", "5e+22"), ("1e06", "1e06"), ("-2E-2", "-2E-2"),
    ("6.626e-34", "6.626e-34"), ("224_617.445_991", "224617.445991"), ("1e1_0", "1e10"), ("0.0", "0.0"), ("0e0", "0e0"),
    ("inf", "inf"), ("+inf", "+inf"), ("-inf", "-inf"), ("nan", "nan"), ("+nan", "+nan"), ("-nan", "-nan"),
  ])
  func floats(literal: String, text: String) throws {
    let scalar = try #require(try readTOML("v = \(literal)").scalar(at: "v"))
    #expect(scalar.text == text)
    #expect(scalar.kind == .float)
  }

  @Test(arguments: [
    "1979-05-27T07:32:00Z", "1979-05-27T00:32:00-07:00", "1979-05-27T00:32:00.999999+05:30", "1979-05-27 07:32:00Z",
    "1979-05-27t07:32:00z", "1979-05-27T07:32:00", "1979-05-27 00:32:00.5", "1979-05-27", "2024-02-29", "07:32:00",
    "00:32:00.999999", "23:59:59",
  ])
  func dateTimes(literal: String) throws {
    let scalar = try #require(try readTOML("v = \(literal) # when").scalar(at: "v"))
    #expect(scalar.text == literal)
    #expect(scalar.kind == .datetime)
  }

  @Test func booleans() throws {
    let document = try readTOML("yes = true\nno = false")
    #expect(document.scalar(at: "yes") == .init(text: "true", kind: .boolean, location: .init(file: "t.toml", line: 1, column: 7)))
    #expect(document.scalar(at: "no")?.text == "false")
    #expect(document.scalar(at: "no")?.kind == .boolean)
  }

  @Test(arguments: [
    (#""I'm \"quoted\". Name\tJos\u00E9\nLoc\\SF""#, "I'm \"quoted\". Name\tJosé\nLoc\\SF"),
    (#""\b\f\r \U0001F600 \u0000""#, "\u{08}\u{0C}\r 😀 \u{0}"),
    (#""""#, ""), ("''", ""), ("'C:\\Users\\nodejs'", "C:\\Users\\nodejs"), ("'<\\i\\c*\\s*>'", "<\\i\\c*\\s*>"),
    ("\"tab\there é 🙂\"", "tab\there é 🙂"),
    ("\"\"\"\nRoses are red\nViolets are blue\"\"\"", "Roses are red\nViolets are blue"),
    ("\"\"\"\r\none\r\ntwo\"\"\"", "one\ntwo"),
    ("\"\"\"\nThe quick brown \\\n\n\n  fox jumps \\   \n  over.\\\n  \"\"\"", "The quick brown fox jumps over."),
    ("\"\"\"Two quotes: \"\". Done.\"\"\"", "Two quotes: \"\". Done."),
    ("\"\"\"\"This,\" she said.\"\"\"\"", "\"This,\" she said.\""),
    ("\"\"\"a\"\"\"\"\"", "a\"\""),
    ("'''\nThe first newline is\ntrimmed.\n   Other \\whitespace\n   stays.\n'''", "The first newline is\ntrimmed.\n   Other \\whitespace\n   stays.\n"),
    ("''''That,' she said.''''", "'That,' she said.'"),
  ])
  func strings(literal: String, text: String) throws {
    let scalar = try #require(try readTOML("v = \(literal)").scalar(at: "v"))
    #expect(scalar.text == text)
    #expect(scalar.kind == .string)
    #expect(position(scalar.location) == "1:5")
  }

  @Test func keys() throws {
    let document = try readTOML("""
      bare_key-1 = 1
      1234 = 2
      "127.0.0.1" = 3
      "ʎǝʞ" = 4
      'quoted "value"' = 5
      "" = 6
      fruit . color = 7
      site."google.com" = 8
      3.14159 = 9
      "a\\tb" = 10
      """)
    #expect(document.keys() == ["bare_key-1", "1234", "127.0.0.1", "ʎǝʞ", "quoted \"value\"", "", "fruit", "site", "3", "a\tb"])
    #expect(document.scalar(at: "fruit.color")?.text == "7")
    #expect(document.entry(at: "site")?.value.keys() == ["google.com"])
    #expect(document.scalar(at: "3.14159")?.text == "9")
    #expect(position(document.entry(at: "fruit.color")?.keyLocation) == "7:9")
    #expect(position(document.scalar(at: "fruit.color")?.location) == "7:17")
  }

  @Test func arrays() throws {
    let document = try readTOML("""
      empty = [ ]
      nested = [ [ 1, 2 ], ["a", 'b'], [] ]
      mixed = [ 1, "two", 3.0, true, 1979-05-27, { x = 1 } ]
      long = [
        1, # one
        # between
        2,
      ]
      """)
    #expect(document.node(at: "empty") == .sequence([], .init(file: "t.toml", line: 1, column: 9)))
    #expect(document.scalar(at: "nested.1.1")?.text == "b")
    #expect(position(document.node(at: "nested.1")?.location) == "2:22")
    #expect(document.node(at: "mixed")?.typeDescription == "a list")
    #expect(document.scalar(at: "mixed.5.x")?.location.column == 50)
    #expect(document.scalar(at: "long.1") == .init(text: "2", kind: .integer, location: .init(file: "t.toml", line: 7, column: 3)))
    guard case .sequence(let long, _)? = document.node(at: "long") else { Issue.record("long is not a list"); return }
    #expect(long.count == 2)
  }

  @Test func inlineTables() throws {
    let document = try readTOML(#"point = { x = 1, y = { z = "deep" }, type.name = "pug", type.size = 'S' }"#)
    #expect(document.keys(at: "point") == ["x", "y", "type"])
    #expect(document.keys(at: "point.type") == ["name", "size"])
    #expect(position(document.node(at: "point")?.location) == "1:9")
    #expect(position(document.node(at: "point.y")?.location) == "1:22")
    #expect(position(document.entry(at: "point.type.size")?.keyLocation) == "1:62")
    #expect(document.scalar(at: "point.y.z")?.text == "deep")
  }

  @Test func columnsCountUnicodeScalarsAndCRLFEndsLines() throws {
    let document = try readTOML("t = { \"e\u{301}\" = 1, y = 2 }\r\nnext = '🙂' \r\n")
    #expect(position(document.entry(at: "t.y")?.keyLocation) == "1:17")
    #expect(position(document.scalar(at: "next")?.location) == "2:8")
    #expect(document.keys(at: "t") == ["e\u{301}", "y"])
  }

  @Test func byteOrderMarkIsSkipped() throws {
    let document = try readTOML("\u{FEFF}a = 1")
    #expect(position(document.entry(at: "a")?.keyLocation) == "1:1")
  }

  @Test func emptyDocumentIsAnEmptyMappingAtTheStart() throws {
    #expect(try readTOML("") == .mapping(.init(entries: [], location: .init(file: "t.toml", line: 1, column: 1))))
    #expect(try readTOML("# only a comment\n\n  \t\n").keys() == [])
  }
}
