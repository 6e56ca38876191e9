import Foundation
import ReconcileRuntime

/// Log lines on standard error. Plain text by default (no color, no bars when standard error is
/// not a terminal: journald); with `--log-format json`, one object per line with `ts` (RFC 3339,
/// UTC), `level`, `node`, `run`, `event` and the event's fields — progress, warnings, the
/// summary and errors alike.
enum Log {
  private static let state = Locked(LogState())

  /// Sets the format for the rest of the process.
  static func configure(format: LogFormat) { state.update { $0.format = format } }
  /// Sets the node name lines carry.
  static func set(node: String) { state.update { $0.node = node } }
  /// Sets the run id lines carry.
  static func set(run: String?) { state.update { $0.run = run } }

  /// Whether lines are JSON.
  static var isJSON: Bool { state.update { $0.format == .json } }

  /// One line: in JSON, `event`, `message` and `fields`; in text, `message` alone (warnings and
  /// errors prefixed as such).
  static func line(level: String, event: String, message: String, fields: [String: Any] = [:]) {
    var object = fields
    object["message"] = message
    write(level: level, event: event, object: object) {
      switch level {
      case "error": message.hasPrefix("error:") || message.contains(": error:") ? message : "error: \(message)"
      case "warning": "warning: \(message)"
      default: message
      }
    }
  }

  /// A JSON object made from an `Encodable` event (which carries its own `event` key); nothing
  /// in text mode.
  static func json(level: String, encoding value: some Encodable) {
    guard isJSON, let data = try? encoder.encode(value), var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return }
    let event = object.removeValue(forKey: "event") as? String ?? "event"
    write(level: level, event: event, object: object) { "" }
  }

  /// The last line of a command stopped by a signal.
  static func final(_ event: String, message: String, signal: String) {
    line(level: "warning", event: event, message: message, fields: ["signal": signal])
  }

  /// Error lines, as `ErrorReporting` prints them.
  static func errors(_ lines: [String]) {
    for line in lines { Self.line(level: "error", event: "error", message: line) }
  }

  private static func write(level: String, event: String, object: [String: Any], text: () -> String) {
    let (format, node, run) = state.update { ($0.format, $0.node, $0.run) }
    var output: String
    switch format {
    case .text:
      output = text()
      guard !output.isEmpty else { return }
    case .json:
      var object = object
      object["ts"] = timestamp()
      object["level"] = level
      object["event"] = event
      if let node { object["node"] = node }
      if let run { object["run"] = run }
      guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
      output = String(decoding: data, as: UTF8.self)
    }
    output += "\n"
    state.update { _ in FileHandle.standardError.write(Data(output.utf8)) }
  }

  /// Now in RFC 3339, UTC, with milliseconds.
  static func timestamp(_ date: Date = Date()) -> String {
    state.update { _ in rfc3339.string(from: date) }
  }

  nonisolated(unsafe) private static let rfc3339: ISO8601DateFormatter = {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter
  }()

  private static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return encoder
  }()
}

/// The logger's settings, shared by every thread.
private struct LogState {
  var format = LogFormat.text
  var node: String?
  var run: String?
}
