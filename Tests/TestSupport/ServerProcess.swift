import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A test server's child process. The servers exit when their standard input closes, so closing
/// it stops them; a server still running after `grace` seconds is terminated.
final class ServerProcess: @unchecked Sendable {
  let process: Process
  private let input = Pipe()
  private let grace: Double
  private let lock = NSLock()
  private var stopped = false

  /// Runs `python3` with `arguments`; standard output and error go where given.
  init(python arguments: [String], output: Any?, error: Any? = nil, grace: Double) throws {
    process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    process.standardInput = input
    process.standardOutput = output
    if let error { process.standardError = error }
    self.grace = grace
    try process.run()
  }

  /// Runs a server script that prints its ports on its first line, and returns that line.
  static func launch(python arguments: [String], grace: Double = 3) throws -> (ServerProcess, String) {
    let output = Pipe()
    let server = try ServerProcess(python: arguments, output: output, grace: grace)
    // End of file before a newline means the script failed to start.
    var line = Data()
    while true {
      let byte = output.fileHandleForReading.readData(ofLength: 1)
      if byte.isEmpty || byte == Data("\n".utf8) { break }
      line.append(byte)
    }
    return (server, String(decoding: line, as: UTF8.self))
  }

  var isRunning: Bool { process.isRunning }

  /// Stops the server once and waits for it to exit.
  func stop() {
    let first = lock.withLock {
      defer { stopped = true }
      return !stopped
    }
    guard first else { return }
    try? input.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(grace)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
    }
  }
}
