import Foundation

/// Who runs this process and how, for the audit log.
enum Invocation {
  /// The command line, `reconcile apply --auto-approve …`.
  static var command: String { (["reconcile"] + CommandLine.arguments.dropFirst()).joined(separator: " ") }

  /// The user behind sudo, else the user, else the uid.
  static var user: String {
    let environment = ProcessInfo.processInfo.environment
    return environment["SUDO_USER"] ?? environment["USER"] ?? "uid \(getuid())"
  }
}
