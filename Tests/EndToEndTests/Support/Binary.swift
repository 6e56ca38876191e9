import Foundation
import Testing
import TestSupport

/// The built `reconcile` executable, run as a user would run it.
enum Binary {
  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `$RECONCILE_BINARY`, else the debug build in `.build/`.
  static var path: String {
    if let path = ProcessInfo.processInfo.environment["RECONCILE_BINARY"] { return path }
    let candidates = [".build/debug/reconcile", ".build/release/reconcile"].map { packageRoot.appendingPathComponent($0).path }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
  }

  /// What one run printed and how it ended.
  struct Result {
    var stdout: String
    var stderr: String
    var status: Int32
  }

  /// Runs `reconcile` with `arguments` in `directory` (the package root by default), with the
  /// environment reduced to PATH, HOME and `environment`, and standard input closed.
  static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Result {
    let executable = path
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw Failure(description: "no reconcile binary at \(executable): run 'swift build' (make test does) first")
    }
    var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "RECONCILE_CONFIG": "/nonexistent-default"]
    env.merge(environment) { _, new in new }
    if environment["RECONCILE_CONFIG"] == nil { env["RECONCILE_CONFIG"] = nil }
    let run = try ChildProcess.run(executable, arguments, environment: env, in: directory ?? packageRoot)
    return Result(stdout: run.stdout, stderr: run.stderr, status: run.terminationStatus)
  }

  /// Runs another program found on PATH (`promtool`, `check-jsonschema`, `systemd-analyze`) with
  /// this process's environment (check-jsonschema may live behind pyenv's shims, which need it),
  /// `stdin` as its input, in `directory` when given.
  static func external(_ name: String, _ arguments: [String], stdin: Data = Data(), in directory: URL? = nil) throws -> Result {
    let run = try ChildProcess.run("/usr/bin/env", [name] + arguments, in: directory, stdin: stdin)
    let result = Result(stdout: run.stdout, stderr: run.stderr, status: run.terminationStatus)
    if result.status == 127, result.stderr.contains("No such file or directory") {
      throw Failure(description: "\(name) is not on PATH: run 'make test-deps' (Scripts/install-deps.sh --test) first")
    }
    return result
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }
}

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
  let url: URL

  init() throws {
    url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("reconcile-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  var path: String { url.path }

  /// Writes `text` to `name` inside the directory, creating folders, and returns the full path.
  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    let file = url.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: file, atomically: true, encoding: .utf8)
    return file.path
  }
}
