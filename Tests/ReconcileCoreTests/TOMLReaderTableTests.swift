import Foundation
import Testing
import TestSupport
@testable import ReconcileCore

@Suite struct TOMLReaderTableTests {
  @Test func locationsOfKeysValuesAndTables() throws {
    let document = try readTOML("""
      # models on this node
      name = "wan"
      [models.wan]
        "quoted key" = 'x'
        a.b.c = [1, { d = 2 }]
      [[models.wan.files]]
      path = "x"

      [[ models.wan.files ]]
      path = "y"
      """)
    #expect(position(document.location) == "1:1")
    #expect(position(document.entry(at: "name")?.keyLocation) == "2:1")
    #expect(position(document.scalar(at: "name")?.location) == "2:8")
    // `models` is created implicitly by the header's first segment; `wan` by the header.
    #expect(position(document.entry(at: "models")?.keyLocation) == "3:2")
    #expect(position(document.node(at: "models")?.location) == "3:2")
    #expect(position(document.entry(at: "models.wan")?.keyLocation) == "3:9")
    #expect(position(document.node(at: "models.wan")?.location) == "3:2")
    #expect(position(document.entry(at: "models.wan.quoted key")?.keyLocation) == "4:3")
    #expect(position(document.scalar(at: "models.wan.quoted key")?.location) == "4:18")
    #expect(position(document.entry(at: "models.wan.a")?.keyLocation) == "5:3")
    #expect(position(document.node(at: "models.wan.a")?.location) == "5:3")
    #expect(position(document.entry(at: "models.wan.a.b")?.keyLocation) == "5:5")
    #expect(position(document.node(at: "models.wan.a.b")?.location) == "5:5")
    #expect(position(document.entry(at: "models.wan.a.b.c")?.keyLocation) == "5:7")
    #expect(position(document.node(at: "models.wan.a.b.c")?.location) == "5:11")
    #expect(position(document.scalar(at: "models.wan.a.b.c.0")?.location) == "5:12")
    #expect(position(document.node(at: "models.wan.a.b.c.1")?.location) == "5:15")
    #expect(position(document.entry(at: "models.wan.a.b.c.1.d")?.keyLocation) == "5:17")
    #expect(position(document.scalar(at: "models.wan.a.b.c.1.d")?.location) == "5:21")
    #expect(position(document.entry(at: "models.wan.files")?.keyLocation) == "6:14")
    #expect(position(document.node(at: "models.wan.files")?.location) == "6:3")
    #expect(position(document.node(at: "models.wan.files.0")?.location) == "6:3")
    #expect(position(document.node(at: "models.wan.files.1")?.location) == "9:4")
    #expect(position(document.scalar(at: "models.wan.files.1.path")?.location) == "10:8")
    #expect(document.scalar(at: "models.wan.files.1.path")?.text == "y")
  }

  @Test func entriesKeepDocumentOrder() throws {
    let document = try readTOML("""
      b = 1
      a = 2
      [x.y]
      [w]
      [x]
      z = 3
      [x.c]
      """)
    #expect(document.keys() == ["b", "a", "x", "w"])
    #expect(document.keys(at: "x") == ["y", "z", "c"])
    // An implicit table defined later by its own header takes the header's location.
    #expect(position(document.node(at: "x")?.location) == "5:2")
    #expect(position(document.entry(at: "x")?.keyLocation) == "3:2")
  }

  @Test func tablesDefinedByDottedKeysCanHoldSubTables() throws {
    let document = try readTOML("""
      [fruit]
      apple.color = "red"
      apple.taste.sweet = true
      [fruit.apple.texture]
      smooth = true
      """)
    #expect(document.keys(at: "fruit.apple") == ["color", "taste", "texture"])
    #expect(document.scalar(at: "fruit.apple.texture.smooth")?.kind == .boolean)
  }

  @Test func arraysOfTablesWithSubTables() throws {
    let document = try readTOML("""
      [[fruits]]
      name = "apple"
      [fruits.physical]
      color = "red"
      [[fruits.varieties]]
      name = "red delicious"
      [[fruits.varieties]]
      name = "granny smith"
      [[fruits]]
      name = "banana"
      [[fruits.varieties]]
      name = "plantain"
      """)
    #expect(document.scalar(at: "fruits.0.physical.color")?.text == "red")
    #expect(document.scalar(at: "fruits.0.varieties.1.name")?.text == "granny smith")
    #expect(document.scalar(at: "fruits.1.varieties.0.name")?.text == "plantain")
    #expect(document.node(at: "fruits.1.varieties.1") == nil)
    #expect(document.node(at: "fruits.0")?.typeDescription == "a mapping")
  }

  // MARK: Cross-check with Python's tomllib

  static let crossCheckDocuments = [
    #"""
    # Values of every kind
    title = "TOML \"example\" \u00E9 \U0001F600"
    literal = 'C:\Users\x'
    empty = ""
    ints = [1_000, +17, -0, 0xDEAD_beef, 0o755, 0b1101, 9_223_372_036_854_775_807, -9223372036854775808]
    big = 99999999999999999999
    floats = [3.14, -0.01, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991, 0.0, -0.0, 1e1_0]
    specials = [inf, +inf, -inf, nan, +nan]
    bools = [true, false]
    dates = [1979-05-27T07:32:00Z, 1979-05-27T00:32:00-07:00, 1979-05-27T00:32:00.999999+05:30, 1979-05-27 07:32:00.5Z]
    local = [1979-05-27T07:32:00, 1979-05-27t00:32:00.25, 1979-05-27, 07:32:00, 00:32:00.999999]
    """#,
    #"""
    multi = """
    Roses are red
    Violets are "blue"\
        , really.\
       \t"""
    quotes = """"Tis "" so.""""
    raw = '''
    The first newline is trimmed.
       Other whitespace \n stays.
    '''
    raw_quotes = ''''one' and 'two'.''''
    crlf = "a\r\nb"
    """#,
    #"""
    bare_key-1 = 1
    1234 = 2
    "127.0.0.1" = 3
    "ʎǝʞ" = 4
    'quoted "value"' = 5
    "" = 6
    fruit . color = 7
    site."google.com" = true
    3.14159 = "pi"
    point = { x = 1, y = { z = [1, 2] }, type.name = "pug", type.size = 'S' }
    empty_inline = {}
    nested = [ [ 1, 2 ], ["a", 'b'], [], [ { x = 1 }, { y = [ ] } ] ]
    long = [
      1, # one
      # between
      "two",
    ]
    """#,
    #"""
    top = 0
    [fruit]
    apple.color = "red"
    apple.taste.sweet = true
    [fruit.apple.texture]
    smooth = true
    [[fruits]]
    name = "apple"
    [fruits.physical]
    color = "red"
    [[fruits.varieties]]
    name = "red delicious"
    [[fruits.varieties]]
    name = "granny smith"
    [[fruits]]
    name = "banana"
    [[fruits.varieties]]
    name = "plantain"
    [x.y.z]
    [x]
    y.w = 1
    [ a . "b c" . 'd' ]   # comment after header
    e = 1
    [[ a . list ]]
    [a.list.sub]
    f = 2
    """#,
  ]

  @Test(arguments: crossCheckDocuments)
  func matchesPythonTomllib(document: String) throws {
    let ours = PlainValue(try readTOML(document))
    let python = try PlainValue.fromPythonTomllib(document)
    #expect(ours == python)
  }
}

/// A TOML value reduced to strings, lists and ordered tables, so our tree and tomllib's can be compared.
enum PlainValue: Equatable, CustomStringConvertible {
  case leaf(String)
  case list([PlainValue])
  case table([Member])

  /// One key of a table.
  struct Member: Equatable {
    var key: String
    var value: PlainValue
  }

  /// Our tree with each scalar tagged by kind; floats by bit pattern, date-times in Python's isoformat.
  init(_ node: DocumentNode) {
    switch node {
    case .scalar(let scalar):
      switch scalar.kind {
      case .integer: self = .leaf("int:" + scalar.text)
      case .float: self = .leaf("float:" + Self.floatKey(scalar.text))
      case .boolean: self = .leaf("bool:" + scalar.text)
      case .string: self = .leaf("str:" + scalar.text)
      case .datetime: self = .leaf("datetime:" + Self.isoFormat(scalar.text))
      case .null: self = .leaf("null")
      }
    case .sequence(let elements, _):
      self = .list(elements.map(PlainValue.init))
    case .mapping(let mapping):
      self = .table(mapping.entries.map { Member(key: $0.key, value: PlainValue($0.value)) })
    }
  }

  var description: String {
    switch self {
    case .leaf(let text): text.debugDescription
    case .list(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
    case .table(let members): "{" + members.map { "\($0.key.debugDescription): \($0.value)" }.joined(separator: ", ") + "}"
    }
  }

  static func floatKey(_ text: String) -> String {
    guard let value = Double(text) else { return "unparsable \(text)" }
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    return String(value.bitPattern, radix: 16)
  }

  /// A TOML date-time literal as Python's `isoformat()` prints it.
  static func isoFormat(_ literal: String) -> String {
    var characters = Array(literal)
    if characters.count > 10, characters[4] == "-" { characters[10] = "T" }
    if characters.last == "Z" || characters.last == "z" { characters.removeLast(); characters += "+00:00" }
    if let dot = characters.firstIndex(of: ".") {
      let end = characters[(dot + 1)...].firstIndex { !$0.isNumber } ?? characters.endIndex
      let micro = String((String(characters[(dot + 1)..<end]) + "000000").prefix(6))
      characters.replaceSubrange(dot..<end, with: micro == "000000" ? [] : Array("." + micro))
    }
    return String(characters)
  }

  static let pythonScript = """
    import datetime, json, math, struct, sys, tomllib
    def plain(v):
        if isinstance(v, dict): return ["table", [[k, plain(x)] for k, x in v.items()]]
        if isinstance(v, list): return ["list", [plain(x) for x in v]]
        if isinstance(v, bool): return "bool:" + ("true" if v else "false")
        if isinstance(v, int): return "int:" + str(v)
        if isinstance(v, float):
            if math.isnan(v): return "float:nan"
            if math.isinf(v): return "float:" + ("inf" if v > 0 else "-inf")
            return "float:" + format(struct.unpack("<Q", struct.pack("<d", v))[0], "x")
        if isinstance(v, (datetime.date, datetime.time)): return "datetime:" + v.isoformat()
        return "str:" + v
    print(json.dumps(plain(tomllib.loads(sys.stdin.read()))))
    """

  /// What `python3`'s `tomllib` reads from `document`.
  static func fromPythonTomllib(_ document: String) throws -> PlainValue {
    let run = try ChildProcess.run("/usr/bin/env", ["python3", "-c", pythonScript], stdin: Data(document.utf8))
    #expect(run.terminationStatus == 0, "python3 tomllib rejected the document")
    return try #require(PlainValue(json: try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))))
  }

  /// Decodes the tagged JSON the Python script prints.
  init?(json: Any) {
    if let text = json as? String {
      self = .leaf(text)
      return
    }
    guard let pair = json as? [Any], pair.count == 2, let tag = pair[0] as? String, let items = pair[1] as? [Any] else {
      return nil
    }
    switch tag {
    case "list":
      let elements = items.compactMap(PlainValue.init(json:))
      guard elements.count == items.count else { return nil }
      self = .list(elements)
    case "table":
      let members = items.compactMap { item -> Member? in
        guard let pair = item as? [Any], pair.count == 2, let key = pair[0] as? String,
              let value = PlainValue(json: pair[1]) else { return nil }
        return Member(key: key, value: value)
      }
      guard members.count == items.count else { return nil }
      self = .table(members)
    default:
      return nil
    }
  }
}
