/// Parses the sizes and durations desired-state files use.
public enum Units {
  /// The binary size units, largest first.
  static let sizeUnits: [(String, Int64)] = [
    ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1),
  ]

  /// Why a size or duration did not parse.
  public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
    case negative(String)
    case overflow(String, limit: String?)
    case unknownUnit(String, suggestion: String?)
    case malformed(String, expected: String)

    /// What was wrong, for a message such as `must not be negative, got '-5'`.
    public var description: String {
      switch self {
      case .negative(let text): "must not be negative, got '\(text)'"
      case .overflow(let text, let limit): "'\(text)' is too large" + (limit.map { " (at most \($0))" } ?? "")
      case .unknownUnit(let unit, let suggestion):
        "unknown unit '\(unit)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "; use B, KiB, MiB, GiB or TiB")
      case .malformed(let text, let expected): "expected \(expected), got '\(text)'"
      }
    }
  }

  /// Parses `9968229352`, `80GiB`, `1.5 TiB`: a non-negative number and an optional binary unit.
  public static func bytes(_ text: String) -> Result<Int64, Failure> {
    // Most sizes are written as plain bytes, as tools print them: read those digit by digit.
    if let plain = plainDigits(text) { return .success(plain) }
    let trimmed = text.trimmingSpaces
    if trimmed.hasPrefix("-") { return .failure(.negative(text)) }
    let number = trimmed.prefix { $0.isNumber || $0 == "." || $0 == "_" }.filter { $0 != "_" }
    let unit = trimmed.dropFirst(trimmed.prefix { $0.isNumber || $0 == "." || $0 == "_" }.count).trimmingSpaces
    guard !number.isEmpty else { return .failure(.malformed(text, expected: "a size such as 80GiB")) }
    var multiplier: Int64 = 1
    if !unit.isEmpty {
      guard let match = sizeUnits.first(where: { $0.0 == unit }) else {
        let known = sizeUnits.map(\.0)
        let suggestion = known.first { $0.lowercased() == unit.lowercased() }
          ?? known.first { $0.prefix(1).lowercased() == unit.prefix(1).lowercased() }
        return .failure(.unknownUnit(String(unit), suggestion: suggestion))
      }
      multiplier = match.1
    }
    if number.contains(".") {
      guard let value = Double(number), value.isFinite else {
        return .failure(.malformed(text, expected: "a size such as 80GiB"))
      }
      let bytes = value * Double(multiplier)
      // A fraction of a byte is a typo, not a rounding to make silently.
      guard multiplier > 1 || value == value.rounded(.down) else {
        return .failure(.malformed(text, expected: "a whole number of bytes or a size such as 1.5GiB"))
      }
      guard bytes < 9.2e18 else { return .failure(.overflow(text, limit: "8 EiB")) }
      return .success(Int64(bytes))
    }
    guard let value = Int64(number) else {
      return number.allSatisfy(\.isNumber) ? .failure(.overflow(text, limit: "8 EiB")) : .failure(.malformed(text, expected: "a size such as 80GiB"))
    }
    let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
    return overflow ? .failure(.overflow(text, limit: "8 EiB")) : .success(product)
  }

  /// `text` as a number when it is 1 to 18 ASCII digits (too few to overflow), else nil.
  static func plainDigits(_ text: String) -> Int64? {
    let utf8 = text.utf8
    guard !utf8.isEmpty, utf8.count <= 18 else { return nil }
    var value: Int64 = 0
    for byte in utf8 {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      value = value * 10 + Int64(byte - UInt8(ascii: "0"))
    }
    return value
  }

  /// Parses `90s`, `5m`, `24h`, `7d`, `1h30m` or a plain number of seconds.
  public static func seconds(_ text: String) -> Result<Int64, Failure> {
    let trimmed = text.trimmingSpaces
    if trimmed.hasPrefix("-") { return .failure(.negative(text)) }
    if let plain = Int64(trimmed) { return .success(plain) }
    if !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }) { return .failure(.overflow(text, limit: nil)) }
    let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
    var total: Int64 = 0
    var digits = ""
    for character in trimmed where character != " " {
      if character.isASCII, character.isNumber {
        digits.append(character)
      } else if let unit = units[character], !digits.isEmpty {
        guard let value = Int64(digits) else { return .failure(.overflow(text, limit: nil)) }
        let (product, overflow1) = value.multipliedReportingOverflow(by: unit)
        let (sum, overflow2) = total.addingReportingOverflow(product)
        if overflow1 || overflow2 { return .failure(.overflow(text, limit: nil)) }
        total = sum
        digits = ""
      } else {
        return .failure(.malformed(text, expected: "a duration such as 90s, 5m, 24h or 7d"))
      }
    }
    guard digits.isEmpty, !trimmed.isEmpty else {
      return .failure(.malformed(text, expected: "a duration such as 90s, 5m, 24h or 7d"))
    }
    return .success(total)
  }
}

extension StringProtocol {
  var trimmingSpaces: Substring {
    let text = Substring(self)
    guard let start = text.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
    guard let end = text.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
    return text[start...end]
  }
}
