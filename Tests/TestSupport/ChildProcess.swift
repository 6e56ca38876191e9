import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a program to its end and collects what it printed: both pipes are drained while it
/// runs (a large output cannot block it), standard input is closed or given, and with a time
/// limit a program still running at the deadline is killed outright (SIGKILL: a hang may be a
/// loop that ignores SIGTERM) and reported as timed out. Every test that runs a program goes
/// through here: the built binary, the peers (`promtool`, `check-jsonschema`, python) and the
/// fuzz suite's memory-capped runs.
public enum ChildProcess {
  /// How one run ended and what it printed.
  public struct Outcome: Sendable {
    public var stdout: String
    public var stderr: String
    /// The exit status, or the number of the signal that ended it (`Process.terminationStatus`).
    public var terminationStatus: Int32
    /// Whether a signal ended it (a trap is SIGILL or SIGTRAP, an exhausted stack SIGSEGV).
    public var bySignal: Bool
    /// Whether it was killed for running past the time limit.
    public var timedOut: Bool
    /// Wall-clock seconds.
    public var seconds: Double
  }

  /// Runs `executable` with `arguments` in `directory` (this process's when nil), with
  /// `environment` (this process's when nil), `stdin` as its input (closed when nil) and, with
  /// a `timeout`, killed after that many seconds.
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, in directory: URL? = nil,
    stdin: Data? = nil, timeout: Double? = nil
  ) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = stdin == nil ? nil : Pipe()
    process.standardInput = input ?? FileHandle.nullDevice
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    let started = Date()
    try process.run()
    let stdout = Collector(out), stderr = Collector(err)
    if let input, let stdin {
      input.fileHandleForWriting.write(stdin)
      try? input.fileHandleForWriting.close()
    }
    var timedOut = false
    if let timeout, exited.wait(timeout: .now() + timeout) == .timedOut {
      timedOut = true
      _ = kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
    // A program's own children may keep its pipes open after it exits: what is there by then.
    return Outcome(
      stdout: stdout.text(timeout: 30), stderr: stderr.text(timeout: 30), terminationStatus: process.terminationStatus,
      bySignal: process.terminationReason == .uncaughtSignal, timedOut: timedOut, seconds: Date().timeIntervalSince(started))
  }

  /// Reads a pipe to its end on a thread of its own (not a pooled one: many tests blocked in
  /// reads at once must not starve the pool the others run on).
  public final class Collector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    public init(_ pipe: Pipe) {
      let handle = pipe.fileHandleForReading
      let thread = Thread { [self] in
        let bytes = handle.readDataToEndOfFile()
        lock.withLock { data = bytes }
        done.signal()
      }
      thread.stackSize = 256 << 10
      thread.start()
    }

    /// What was read, once the writer closed the pipe (or after `timeout` seconds, what is there).
    public func text(timeout: Double) -> String {
      if done.wait(timeout: .now() + timeout) == .success { done.signal() }
      return lock.withLock { String(decoding: data, as: UTF8.self) }
    }
  }
}
