import Logging

/// Sends the server libraries' warnings and errors to reconcile's own log lines (text or JSON);
/// their info and debug chatter is dropped.
struct ForwardingLogHandler: LogHandler {
  let label: String
  let log: @Sendable (String, String, String, [String: String]) -> Void
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .warning

  static func logger(label: String, log: @escaping @Sendable (String, String, String, [String: String]) -> Void) -> Logger {
    Logger(label: label) { label in ForwardingLogHandler(label: label, log: log) }
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var fields = Dictionary(uniqueKeysWithValues: metadata.map { ($0.key, "\($0.value)") })
    for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
    if let error = event.error { fields["error"] = "\(error)" }
    fields["logger"] = label
    log(event.level >= .error ? "error" : "warning", "server", event.message.description, fields)
  }
}
