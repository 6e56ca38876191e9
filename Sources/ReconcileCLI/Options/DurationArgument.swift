import ArgumentParser
import ReconcileCore

/// A duration given on the command line, such as `90s`, `5m`, `24h`, `7d` or `1h30m` (a plain
/// number is seconds), kept with its text so that help shows a default as it was written.
struct DurationArgument: ExpressibleByArgument, CustomStringConvertible, Sendable {
  /// The text as written.
  var text: String
  /// The duration in seconds.
  var seconds: Int64

  /// A duration of `seconds`, written as `text`.
  init(text: String, seconds: Int64) {
    self.text = text
    self.seconds = seconds
  }

  /// Parses `argument` as `Units.seconds` does, or nil when it is no duration.
  init?(argument: String) {
    guard case .success(let seconds) = Units.seconds(argument) else { return nil }
    self.init(text: argument, seconds: seconds)
  }

  /// The text as written.
  var description: String { text }

  /// The default as written, `24h` rather than its seconds.
  var defaultValueDescription: String { text }
}
