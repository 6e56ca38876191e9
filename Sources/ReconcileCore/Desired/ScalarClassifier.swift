/// Tells what a plain (unquoted) YAML scalar is, following the YAML 1.2 core schema:
/// `yes`, `no`, `on` and `off` are strings, not booleans.
enum ScalarClassifier {
  static func kind(of text: String) -> DocumentNode.Scalar.Kind {
    // Most scalars are names, paths and digests: one look at the first byte settles them.
    guard let first = text.utf8.first else { return .null }
    switch first {
    case UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"),
      UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"):
      break
    case 48...57:
      // None of the words below starts with a digit.
      return number(text)
    default:
      return .string
    }
    switch text {
    case "~", "null", "Null", "NULL": return .null
    case "true", "True", "TRUE", "false", "False", "FALSE": return .boolean
    case ".inf", ".Inf", ".INF", "+.inf", "-.inf", ".nan", ".NaN", ".NAN": return .float
    default: break
    }
    guard first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == UInt8(ascii: ".") else {
      return .string
    }
    return number(text)
  }

  /// An integer, a float, a date or else a string: `text` starts with a digit, a sign or a dot.
  static func number(_ text: String) -> DocumentNode.Scalar.Kind {
    let bytes = Array(text.utf8)
    if isInteger(bytes) { return .integer }
    if isFloat(bytes) { return .float }
    if isDate(bytes) { return .datetime }
    return .string
  }

  static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

  static func isInteger(_ bytes: [UInt8]) -> Bool {
    var body = bytes[...]
    if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { body = body.dropFirst() }
    guard !body.isEmpty else { return false }
    if body.count > 2, body.first == UInt8(ascii: "0") {
      let marker = body[body.startIndex + 1]
      let digits = body.dropFirst(2)
      switch marker {
      case UInt8(ascii: "x"): return digits.allSatisfy { isDigit($0) || (97...102).contains($0) || (65...70).contains($0) || $0 == 95 }
      case UInt8(ascii: "o"): return digits.allSatisfy { (48...55).contains($0) || $0 == 95 }
      case UInt8(ascii: "b"): return digits.allSatisfy { $0 == 48 || $0 == 49 || $0 == 95 }
      default: break
      }
    }
    return isDigit(body[body.startIndex]) && body.allSatisfy { isDigit($0) || $0 == 95 }
  }

  static func isFloat(_ bytes: [UInt8]) -> Bool {
    var body = bytes[...]
    if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { body = body.dropFirst() }
    var digits = 0, dots = 0, exponent = false
    var index = body.startIndex
    while index < body.endIndex {
      let byte = body[index]
      if isDigit(byte) || byte == 95 {
        digits += isDigit(byte) ? 1 : 0
      } else if byte == UInt8(ascii: "."), !exponent {
        dots += 1
      } else if (byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")), !exponent, digits > 0 {
        exponent = true
        let next = body.index(after: index)
        if next < body.endIndex, body[next] == UInt8(ascii: "+") || body[next] == UInt8(ascii: "-") { index = next }
        let after = body.index(after: index)
        guard after < body.endIndex, body[after...].allSatisfy(isDigit) else { return false }
      } else {
        return false
      }
      index = body.index(after: index)
    }
    return digits > 0 && dots <= 1 && (dots == 1 || exponent)
  }

  /// `2026-11-22`, optionally followed by a time.
  static func isDate(_ bytes: [UInt8]) -> Bool {
    guard bytes.count >= 10 else { return false }
    let shape = Array(bytes.prefix(10))
    for (index, byte) in shape.enumerated() {
      if index == 4 || index == 7 {
        if byte != UInt8(ascii: "-") { return false }
      } else if !isDigit(byte) {
        return false
      }
    }
    return bytes.count == 10 || bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " ")
  }
}
