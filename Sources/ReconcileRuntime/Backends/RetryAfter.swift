import Foundation

/// Reads an HTTP `Retry-After` value: delay-seconds (`120`) or an HTTP-date in any of the three
/// forms HTTP allows (`Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT`,
/// `Sun Nov  6 08:49:37 1994`).
enum RetryAfter {
  /// Seconds from `now` the value asks to wait: never negative (a date past is 0); nil when
  /// the value is neither form.
  static func seconds(_ value: String, now: Date) -> Double? {
    let text = value.trimmingCharacters(in: .whitespaces)
    // Any number of digits: a huge one is a long wait (capped by the caller), not an error.
    if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) { return Double(text) }
    guard let date = date(text) else { return nil }
    return max(0, date.timeIntervalSince(now))
  }

  static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  /// An HTTP-date, always in GMT.
  static func date(_ text: String) -> Date? {
    let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
    let day: Int?, month: Int?, year: Int?, time: String
    switch tokens.count {
    case 6 where tokens[5] == "GMT":  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
      (day, month, year, time) = (Int(tokens[1]), months.firstIndex(of: tokens[2]), Int(tokens[3]), tokens[4])
    case 4 where tokens[3] == "GMT":  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
      let parts = tokens[1].split(separator: "-").map(String.init)
      guard parts.count == 3, parts[2].count == 2, let short = Int(parts[2]) else { return nil }
      (day, month, year, time) = (Int(parts[0]), months.firstIndex(of: parts[1]), short < 70 ? 2000 + short : 1900 + short, tokens[2])
    case 5:  // asctime: Sun Nov  6 08:49:37 1994
      (day, month, year, time) = (Int(tokens[2]), months.firstIndex(of: tokens[1]), Int(tokens[4]), tokens[3])
    default:
      return nil
    }
    let clock = time.split(separator: ":").compactMap { Int($0) }
    guard let day, let month, let year, clock.count == 3, (1...31).contains(day), (1...9999).contains(year),
      (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2])
    else { return nil }
    var calendar = Calendar(identifier: .gregorian)
    guard let gmt = TimeZone(identifier: "GMT") else { return nil }
    calendar.timeZone = gmt
    let components = DateComponents(year: year, month: month + 1, day: day, hour: clock[0], minute: clock[1], second: clock[2])
    return calendar.date(from: components)
  }
}
