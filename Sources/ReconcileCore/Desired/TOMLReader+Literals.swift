extension TOMLReader {
  /// Why a number, date or time literal is malformed: the end of the error message.
  struct LiteralError: Error {
    var reason: String
  }

  /// TOML integers and floats: validation and the text kept in `DocumentNode.Scalar`.
  enum NumberLiteral {
    /// Validates an integer or float literal (ASCII bytes). Integers come back as decimal text
    /// (`0x10` → `16`, `1_000` → `1000`), or as written without `_` if they do not fit `Int64`;
    /// floats as written without `_`.
    static func parse(_ bytes: [UInt8]) throws(LiteralError) -> (text: String, kind: DocumentNode.Scalar.Kind) {
      var body = bytes[...]
      let sign = body.first.flatMap { $0 == ASCII.plus || $0 == ASCII.minus ? $0 : nil }
      if sign != nil { body = body.dropFirst() }
      if body.elementsEqual("inf".utf8) || body.elementsEqual("nan".utf8) {
        return (String(decoding: bytes, as: UTF8.self), .float)
      }
      if body.count >= 2, body.first == ASCII.zero, let radix = Radix(prefix: body[body.startIndex + 1]) {
        guard sign == nil else {
          throw LiteralError(reason: "hexadecimal, octal and binary integers cannot have a sign")
        }
        let digits = try digitsWithoutUnderscores(body.dropFirst(2), radix: radix)
        return (prefixedIntegerText(digits, radix: radix, literal: bytes), .integer)
      }
      return try decimal(bytes, unsigned: body)
    }

    /// Validates a decimal integer or a float; `body` is `literal` without its sign.
    static func decimal(
      _ literal: [UInt8], unsigned body: ArraySlice<UInt8>
    ) throws(LiteralError) -> (text: String, kind: DocumentNode.Scalar.Kind) {
      let isExponent: (UInt8) -> Bool = { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
      let integerEnd = body.firstIndex { $0 == ASCII.dot || isExponent($0) } ?? body.endIndex
      guard integerEnd > body.startIndex else { throw LiteralError(reason: "expected a digit") }
      let integerDigits = try digitsWithoutUnderscores(body[..<integerEnd], radix: .decimal)
      if integerDigits.count > 1, integerDigits.first == ASCII.zero {
        throw LiteralError(reason: "leading zeros are not allowed")
      }
      var rest = body[integerEnd...]
      var isFloat = false
      if rest.first == ASCII.dot {
        rest = rest.dropFirst()
        let fractionEnd = rest.firstIndex(where: isExponent) ?? rest.endIndex
        guard fractionEnd > rest.startIndex else { throw LiteralError(reason: "expected digits after '.'") }
        _ = try digitsWithoutUnderscores(rest[..<fractionEnd], radix: .decimal)
        rest = rest[fractionEnd...]
        isFloat = true
      }
      if !rest.isEmpty {
        rest = rest.dropFirst()
        if rest.first == ASCII.plus || rest.first == ASCII.minus { rest = rest.dropFirst() }
        guard !rest.isEmpty else { throw LiteralError(reason: "expected digits in the exponent") }
        _ = try digitsWithoutUnderscores(rest, radix: .decimal)
        isFloat = true
      }
      let text = String(decoding: literal.filter { $0 != ASCII.underscore }, as: UTF8.self)
      if isFloat { return (text, .float) }
      return (Int64(text).map(String.init) ?? text, .integer)
    }

    /// The digits of `part` with each `_` checked to sit between two digits and removed.
    static func digitsWithoutUnderscores(_ part: ArraySlice<UInt8>, radix: Radix) throws(LiteralError) -> [UInt8] {
      guard !part.isEmpty else { throw LiteralError(reason: "expected \(radix.name) digits") }
      var digits: [UInt8] = []
      digits.reserveCapacity(part.count)
      var previousIsDigit = false
      for position in part.indices {
        let byte = part[position]
        if byte == ASCII.underscore {
          guard previousIsDigit, position + 1 < part.endIndex else {
            throw LiteralError(reason: "'_' must be between digits")
          }
          previousIsDigit = false
          continue
        }
        guard radix.value(of: byte) != nil else {
          let character = Character(Unicode.Scalar(byte))
          throw LiteralError(reason: radix == .decimal
            ? "unexpected '\(character)'" : "'\(character)' is not \(radix == .octal ? "an" : "a") \(radix.name) digit")
        }
        digits.append(byte)
        previousIsDigit = true
      }
      return digits
    }

    /// The decimal text of validated `0x`/`0o`/`0b` digits, or the literal without `_` if it exceeds `Int64`.
    static func prefixedIntegerText(_ digits: [UInt8], radix: Radix, literal: [UInt8]) -> String {
      var value: UInt64 = 0
      for digit in digits {
        let (shifted, overflow) = value.multipliedReportingOverflow(by: UInt64(radix.base))
        let (sum, carry) = shifted.addingReportingOverflow(UInt64(radix.value(of: digit) ?? 0))
        guard !overflow, !carry else { return String(decoding: literal.filter { $0 != ASCII.underscore }, as: UTF8.self) }
        value = sum
      }
      guard value <= UInt64(Int64.max) else {
        return String(decoding: literal.filter { $0 != ASCII.underscore }, as: UTF8.self)
      }
      return String(value)
    }
  }

  /// The bases of TOML integers.
  enum Radix {
    case binary, octal, decimal, hexadecimal

    /// The base for the letter after `0` in `0x`, `0o`, `0b`; nil for any other letter.
    init?(prefix: UInt8) {
      switch prefix {
      case UInt8(ascii: "x"): self = .hexadecimal
      case UInt8(ascii: "o"): self = .octal
      case UInt8(ascii: "b"): self = .binary
      default: return nil
      }
    }

    var base: Int {
      switch self {
      case .binary: 2
      case .octal: 8
      case .decimal: 10
      case .hexadecimal: 16
      }
    }

    var name: String {
      switch self {
      case .binary: "binary"
      case .octal: "octal"
      case .decimal: "decimal"
      case .hexadecimal: "hexadecimal"
      }
    }

    /// The value of the ASCII digit `byte` in this base, nil if it is not one.
    func value(of byte: UInt8) -> Int? {
      let value: Int
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
      default: return nil
      }
      return value < base ? value : nil
    }
  }

  /// TOML offset and local date-times, local dates and local times: validation only, the text is kept.
  enum DateTimeLiteral {
    /// Which of the date and time forms a literal has, for messages.
    enum Form: String {
      case date, time, dateTime = "date-time"
    }

    /// The form a literal starts like (`dddd-` or `dd:`), nil for numbers.
    static func form(of bytes: [UInt8]) -> Form? {
      if bytes.count >= 5, bytes[0..<4].allSatisfy(ASCII.isDigit), bytes[4] == ASCII.minus {
        return bytes.count > 10 ? .dateTime : .date
      }
      if bytes.count >= 3, ASCII.isDigit(bytes[0]), ASCII.isDigit(bytes[1]), bytes[2] == ASCII.colon {
        return .time
      }
      return nil
    }

    /// Checks the literal's fields and ranges (including the days of each month).
    static func validate(_ bytes: [UInt8], form: Form) throws(LiteralError) {
      if form == .time {
        try validateTime(bytes[...], allowsOffset: false)
        return
      }
      try validateDate(bytes.prefix(10))
      guard bytes.count > 10 else { return }
      guard [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[10]) else {
        throw LiteralError(reason: "expected 'T' between the date and the time")
      }
      try validateTime(bytes[11...], allowsOffset: true)
    }

    /// Checks `YYYY-MM-DD`.
    static func validateDate(_ date: ArraySlice<UInt8>) throws(LiteralError) {
      let date = Array(date)
      guard date.count == 10, date[4] == ASCII.minus, date[7] == ASCII.minus,
            let year = number(date, 0, 4), let month = number(date, 5, 2), let day = number(date, 8, 2) else {
        throw LiteralError(reason: "expected YYYY-MM-DD")
      }
      guard (1...12).contains(month) else { throw LiteralError(reason: "month must be between 01 and 12") }
      let isLeapYear = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
      let days = [31, isLeapYear ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
      guard (1...days).contains(day) else { throw LiteralError(reason: "day must be between 01 and \(days)") }
    }

    /// Checks `HH:MM:SS`, optional fractional seconds and, if allowed, `Z` or `±HH:MM`.
    static func validateTime(_ time: ArraySlice<UInt8>, allowsOffset: Bool) throws(LiteralError) {
      let time = Array(time)
      guard time.count >= 8, time[2] == ASCII.colon, time[5] == ASCII.colon,
            let hour = number(time, 0, 2), let minute = number(time, 3, 2), let second = number(time, 6, 2) else {
        throw LiteralError(reason: "expected HH:MM:SS")
      }
      guard hour <= 23 else { throw LiteralError(reason: "hour must be between 00 and 23") }
      guard minute <= 59 else { throw LiteralError(reason: "minute must be between 00 and 59") }
      guard second <= 59 else { throw LiteralError(reason: "second must be between 00 and 59") }
      var position = 8
      if position < time.count, time[position] == ASCII.dot {
        position += 1
        let fractionStart = position
        while position < time.count, ASCII.isDigit(time[position]) { position += 1 }
        guard position > fractionStart else { throw LiteralError(reason: "expected digits after '.'") }
      }
      guard position < time.count else { return }
      let next = time[position]
      if allowsOffset, next == UInt8(ascii: "Z") || next == UInt8(ascii: "z") {
        position += 1
      } else if allowsOffset, next == ASCII.plus || next == ASCII.minus {
        guard time.count - position >= 6, time[position + 3] == ASCII.colon,
              let offsetHour = number(time, position + 1, 2), let offsetMinute = number(time, position + 4, 2),
              offsetHour <= 23, offsetMinute <= 59 else {
          throw LiteralError(reason: "expected a time zone offset like +01:00")
        }
        position += 6
      }
      guard position == time.count else {
        throw LiteralError(reason: "unexpected '\(Character(Unicode.Scalar(time[position])))' after the time")
      }
    }

    /// The decimal value of `count` ASCII digits at `start`, nil if any is not a digit.
    static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
      var value = 0
      for byte in bytes[start..<(start + count)] {
        guard ASCII.isDigit(byte) else { return nil }
        value = value * 10 + Int(byte - ASCII.zero)
      }
      return value
    }
  }

  /// ASCII bytes the literal checks compare against.
  enum ASCII {
    static let plus = UInt8(ascii: "+")
    static let minus = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let colon = UInt8(ascii: ":")
    static let zero = UInt8(ascii: "0")
    static let underscore = UInt8(ascii: "_")

    /// Whether `byte` is `0`–`9`.
    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
  }
}
