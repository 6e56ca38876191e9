/// Just enough YAML and TOML lexing for the mutations: where each `key: value` or `key = value`
/// value is, and how to write a string in either syntax.
enum FuzzText {
  /// A value in the text and the key it belongs to.
  struct ValueSpan {
    var key: String
    /// The value's bytes; empty (at the line end) for a YAML key whose value is the block below.
    var range: Range<Int>
    /// Where the key starts.
    var keyStart: Int
  }

  static func isKeyByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
      UInt8(ascii: "_"), UInt8(ascii: "-"):
      true
    default: false
    }
  }

  /// Every `key: value` (YAML, block or flow) and `key = value` (TOML) in `bytes`.
  static func valueSpans(_ bytes: [UInt8]) -> [ValueSpan] {
    var spans: [ValueSpan] = []
    var closers: [Int32]?
    var index = 0
    let space = UInt8(ascii: " ")
    while index < bytes.count {
      let previous = index == 0 ? UInt8(ascii: "\n") : bytes[index - 1]
      guard isKeyByte(bytes[index]), isBeforeKey(previous) else {
        index += 1
        continue
      }
      var end = index
      while end < bytes.count, isKeyByte(bytes[end]) { end += 1 }
      var separator = end
      while separator < bytes.count, bytes[separator] == space { separator += 1 }
      guard separator < bytes.count else { break }
      let isYAML = bytes[separator] == UInt8(ascii: ":")
        && (separator + 1 == bytes.count || bytes[separator + 1] == space || bytes[separator + 1] == 0x0A || bytes[separator + 1] == 0x0D)
      let isTOML = bytes[separator] == UInt8(ascii: "=")
      guard isYAML || isTOML else {
        index = end
        continue
      }
      var start = separator + 1
      while start < bytes.count, bytes[start] == space { start += 1 }
      if start < bytes.count, bytes[start] == UInt8(ascii: "[") || bytes[start] == UInt8(ascii: "{"), closers == nil {
        closers = closingBrackets(bytes)
      }
      let valueEnd = self.valueEnd(bytes, from: start, closers: closers)
      let key = String(decoding: bytes[index..<end], as: UTF8.self)
      spans.append(ValueSpan(key: key, range: start..<valueEnd, keyStart: index))
      // Keys inside a flow value (`nodes = [ { name = … } ]`) are values too.
      index = end
    }
    return spans
  }

  /// Where the value starting at `start` ends: its closing quote or bracket, or the next `,`,
  /// `}`, `]`, comment or line end.
  static func valueEnd(_ bytes: [UInt8], from start: Int, closers: [Int32]? = nil) -> Int {
    guard start < bytes.count else { return start }
    switch bytes[start] {
    case UInt8(ascii: "\""), UInt8(ascii: "'"):
      let quote = bytes[start]
      var index = start + 1
      while index < bytes.count, bytes[index] != quote, bytes[index] != 0x0A {
        if quote == UInt8(ascii: "\""), bytes[index] == UInt8(ascii: "\\") { index += 1 }
        index += 1
      }
      return min(index + 1, bytes.count)
    case UInt8(ascii: "["), UInt8(ascii: "{"):
      let closer = Int((closers ?? closingBrackets(bytes))[start])
      return closer < 0 ? bytes.count : closer + 1
    default:
      var index = start
      while index < bytes.count, !endsPlainValue(bytes[index]) {
        if bytes[index] == UInt8(ascii: "#"), index > start, bytes[index - 1] == UInt8(ascii: " ") { break }
        index += 1
      }
      while index > start, bytes[index - 1] == UInt8(ascii: " ") { index -= 1 }
      return index
    }
  }

  /// For each `[` and `{`, the index of the bracket that closes it (quotes are not looked at),
  /// found in one pass: a value scanned for its end from every key inside a deep nest would
  /// otherwise take quadratic time.
  static func closingBrackets(_ bytes: [UInt8]) -> [Int32] {
    var closers = [Int32](repeating: -1, count: bytes.count)
    var open: [Int] = []
    for index in bytes.indices {
      switch bytes[index] {
      case UInt8(ascii: "["), UInt8(ascii: "{"): open.append(index)
      case UInt8(ascii: "]"), UInt8(ascii: "}"): if let start = open.popLast() { closers[start] = Int32(index) }
      default: break
      }
    }
    return closers
  }

  /// Bytes a key may follow: a line start, a space or tab, `{` or `,`.
  static func isBeforeKey(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: " "), 0x0A, 0x0D, 0x09, UInt8(ascii: "{"), UInt8(ascii: ","): true
    default: false
    }
  }

  /// Bytes that end an unquoted value.
  static func endsPlainValue(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x0A, 0x0D: true
    default: false
    }
  }

  /// The line holding byte `index`, without its line end.
  static func line(around index: Int, in bytes: [UInt8]) -> Range<Int> {
    var start = min(index, bytes.count)
    while start > 0, bytes[start - 1] != 0x0A { start -= 1 }
    var end = min(index, bytes.count)
    while end < bytes.count, bytes[end] != 0x0A { end += 1 }
    return start..<end
  }

  /// `text` as a double-quoted YAML string or a TOML basic string, escaping what must be.
  static func quoted(_ text: String, toml: Bool) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\\": result += "\\\\"
      case "\"": result += "\\\""
      case "\n": result += "\\n"
      case "\t": result += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        let hex = String(scalar.value, radix: 16)
        result += toml ? "\\u" + String(repeating: "0", count: 4 - hex.count) + hex : "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }

  /// Replaces `range` of `bytes` with `text`.
  static func replace(_ bytes: inout [UInt8], _ range: Range<Int>, with text: String) {
    bytes.replaceSubrange(range, with: Array(text.utf8))
  }
}
