/// Mutations of structure: nesting far past any bound, YAML alias bombs, repeated keys and
/// tables, and values of the wrong type.
enum FuzzStructures {
  /// Depths around the readers' bounds (YAML 128, TOML 100) and far past them.
  static let depths = [64, 99, 100, 101, 127, 128, 129, 130, 500, 5_000, 50_000, 200_000]

  static func nest(_ bytes: inout [UInt8], toml: Bool, random: inout FuzzRandom) -> String {
    let depth = random.pick(depths)
    let spans = FuzzText.valueSpans(bytes).filter { !$0.range.isEmpty }
    let shape = random.below(toml ? 7 : 6)
    let value: String
    switch shape {
    case 0: value = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    case 1: value = String(repeating: toml ? "{ a = " : "{a: ", count: depth) + "1" + String(repeating: " }", count: depth)
    case 2: value = String(repeating: "[", count: depth)
    case 3: value = String(repeating: toml ? "[{ a = " : "[{a: ", count: depth / 2) + "1" + String(repeating: "}]", count: depth / 2)
    case 4:
      // Block structure: `- - - - x` nests sequences on one line; mappings need a line each.
      if toml {
        bytes += Array(("\n" + Array(repeating: "a", count: depth).joined(separator: ".") + " = 1\n").utf8)
        return "dotted key of \(depth) segments"
      }
      let lines = min(depth, 1_000)
      var block = "\ndeep:\n"
      for level in 1..<lines { block += String(repeating: " ", count: level) + "a:\n" }
      bytes += Array((block + String(repeating: " ", count: lines) + "x\n").utf8)
      return "block mappings \(lines) deep"
    case 5:
      if toml {
        bytes += Array(("\n[" + Array(repeating: "t", count: depth).joined(separator: ".") + "]\nx = 1\n").utf8)
        return "table header of \(depth) segments"
      }
      value = String(repeating: "- ", count: depth) + "x"
      bytes += Array(("\ndeep:\n  " + value + "\n").utf8)
      return "block sequences \(depth) deep"
    default:
      bytes += Array(("\n[[" + Array(repeating: "t", count: depth).joined(separator: ".") + "]]\nx = 1\n").utf8)
      return "array-of-tables header of \(depth) segments"
    }
    guard !spans.isEmpty else {
      bytes += Array("\n\(toml ? "deep = " : "deep: ")\(value)\n".utf8)
      return "appended nesting \(depth) deep (shape \(shape))"
    }
    let span = random.pick(spans)
    FuzzText.replace(&bytes, span.range, with: value)
    return "\(span.key) nested \(depth) deep (shape \(shape))"
  }

  /// A "billion laughs": `levels` anchors, each a list of `fanOut` aliases of the one before.
  static func bomb(levels: Int, fanOut: Int, prefix: String = "a") -> String {
    var anchors = ["\(prefix)0: &\(prefix)0 [" + Array(repeating: "lol", count: fanOut).joined(separator: ", ") + "]"]
    for level in 1..<levels {
      anchors.append("\(prefix)\(level): &\(prefix)\(level) [" + Array(repeating: "*\(prefix)\(level - 1)", count: fanOut).joined(separator: ", ") + "]")
    }
    return "{" + anchors.joined(separator: ", ")
  }

  /// Anchor levels and fan-outs: small bombs, bombs far past the 2,000,000-value bound (stopped
  /// before anything is expanded), and now and then one just under or over it, which is
  /// expanded in full and costs seconds.
  static func bombShape(random: inout FuzzRandom) -> (levels: Int, fanOut: Int) {
    switch random.below(24) {
    case 0: return random.pick([(19, 2), (20, 2), (12, 3), (13, 3), (10, 4), (6, 10), (7, 8)])
    case 1...11: return (3 + random.below(4), 2 + random.below(3))
    default: return (9 + random.below(6), 6 + random.below(5))
    }
  }

  static func aliasBomb(_ bytes: inout [UInt8], random: inout FuzzRandom) -> String {
    if random.oneIn(6) {
      // A chain: each anchor holds the one before, so aliases nest values as deep as it is long.
      let length = random.pick([50, 129, 1_000, 60_000])
      bytes += Array("\nchain:\n  c0: &c0 [x]\n".utf8)
      bytes.reserveCapacity(bytes.count + length * 32)
      for link in 1..<length {
        let name = Array(String(link).utf8), previous = Array(String(link - 1).utf8)
        bytes += Array("  c".utf8) + name + Array(": &c".utf8) + name + Array(" [*c".utf8) + previous + Array("]\n".utf8)
      }
      return "alias chain of \(length)"
    }
    let (levels, fanOut) = bombShape(random: &random)
    let last = "*a\(levels - 1)"
    let forms = [
      bomb(levels: levels, fanOut: fanOut) + "}",
      bomb(levels: levels, fanOut: fanOut) + ", \(last) : x}",
      bomb(levels: levels, fanOut: fanOut) + ", ? [\(last), \(last)] : x}",
      bomb(levels: levels, fanOut: fanOut) + ", \(last) : x, \(last) : y}",
      bomb(levels: levels, fanOut: fanOut) + ", <<: \(last)}",
      "&self [*self]",
      bomb(levels: levels, fanOut: fanOut) + ", b: &b {k: \(last)}, c: [*b, *b, *b, *b, *b, *b, *b, *b]}",
    ]
    let form = random.below(forms.count)
    let spans = FuzzText.valueSpans(bytes).filter { !$0.range.isEmpty }
    guard !spans.isEmpty, !random.oneIn(5) else {
      bytes += Array("\nbomb: \(forms[form])\n".utf8)
      return "top-level bomb form \(form), \(levels) levels of \(fanOut)"
    }
    let span = random.pick(spans)
    FuzzText.replace(&bytes, span.range, with: forms[form])
    return "\(span.key) is bomb form \(form), \(levels) levels of \(fanOut)"
  }

  static func duplicate(_ bytes: inout [UInt8], toml: Bool, random: inout FuzzRandom) -> String {
    let spans = FuzzText.valueSpans(bytes)
    let headers = FuzzValues.occurrences(of: Array("\n[".utf8), in: bytes)
    if toml, !headers.isEmpty, random.oneIn(3) {
      // A whole `[table]` or `[[array]]` section, header and keys, repeated.
      let start = random.pick(headers) + 1
      let next = headers.first { $0 + 1 > start } ?? bytes.count
      let section = Array(bytes[start..<next])
      bytes.insert(contentsOf: [0x0A] + section, at: next)
      return "section at byte \(start) repeated"
    }
    guard !spans.isEmpty else { return "no keys to repeat" }
    let span = random.pick(spans)
    if !toml, random.oneIn(3), let close = bytes[span.range.upperBound...].firstIndex(of: UInt8(ascii: "}")),
      !bytes[span.range.upperBound..<close].contains(0x0A)
    {
      // A repeat inside a flow mapping: `{ a: 1, a: 2 }`.
      let value = String(decoding: bytes[span.range], as: UTF8.self)
      bytes.insert(contentsOf: Array(", \(span.key): \(value)".utf8), at: close)
      return "\(span.key) repeated in its flow mapping"
    }
    // The key's whole line again right below it: a repeated key, list item or model.
    let lineRange = FuzzText.line(around: span.keyStart, in: bytes)
    bytes.insert(contentsOf: [0x0A] + Array(bytes[lineRange]), at: lineRange.upperBound)
    return "line of \(span.key) repeated"
  }

  /// Values of every other type, in YAML and in TOML.
  static let yamlConfusions = [
    "[a, b]", "[]", "{}", "{a: 1}", "~", "null", "true", "1.5", "2024-01-01", "!!binary aGk=", "!custom x", "&x y",
    "|\n  text", "\"\"", "-1", "0x10", "0o7", ".nan", "*undefined", "!!map {}", "!!str", "? x", "- a", "[[]]", "{[]: x}",
  ]
  static let tomlConfusions = [
    "[]", "{}", "[1, \"a\"]", "{ a = 1 }", "true", "1979-05-27T07:32:00Z", "07:32:00", "1979-05-27", "1.5", "inf",
    "nan", "\"\"", "[[]]", "[{}]", "{ a = [] }", "'''\nx'''",
  ]

  static func confuseTypes(_ bytes: inout [UInt8], toml: Bool, random: inout FuzzRandom) -> String {
    if random.oneIn(4) {
      // Structural: a list where a map is expected, and the other way round.
      let swaps = toml
        ? [("[[models]]", "[models]"), ("[[pools]]", "[pools]"), ("[[tenants]]", "[tenants]"), ("[policy]", "[[policy]]")]
        : [("  - name:", "  name:"), ("models:\n", "models:\n  x: 1\n"), ("policy:\n", "policy:\n  - 1\n"), ("nodes:\n", "nodes: {}\n")]
      let (from, to) = random.pick(swaps)
      let found = FuzzValues.occurrences(of: Array(from.utf8), in: bytes)
      if let at = found.first {
        bytes.replaceSubrange(at..<(at + from.utf8.count), with: Array(to.utf8))
        return "\(from.debugDescription) became \(to.debugDescription)"
      }
    }
    let spans = FuzzText.valueSpans(bytes)
    guard !spans.isEmpty else { return "no values to confuse" }
    let span = random.pick(spans)
    let value = random.pick(toml ? tomlConfusions : yamlConfusions)
    FuzzText.replace(&bytes, span.range, with: value)
    return "\(span.key) became \(value.debugDescription)"
  }
}
