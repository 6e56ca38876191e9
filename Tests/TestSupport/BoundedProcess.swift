import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a program with its address space capped (`prlimit --as`) and a wall-clock limit, and
/// says how it ended: an exit status, or the signal that killed it.
public enum BoundedProcess {
  /// How one run ended.
  public struct Outcome: Sendable {
    /// The exit status, when the program exited.
    public var status: Int32?
    /// The signal that ended it, when one did (a trap is SIGILL or SIGTRAP, an exhausted stack SIGSEGV).
    public var signal: Int32?
    /// Whether it was killed for running past the time limit.
    public var timedOut: Bool
    /// Wall-clock seconds.
    public var seconds: Double
    public var stdout: String
    public var stderr: String
  }

  /// Runs `executable` with `arguments` in `directory`, the address space limited to
  /// `memoryBytes` (through `prlimit`, from util-linux) and killed after `seconds`.
  public static func run(
    _ executable: String, _ arguments: [String], environment: [String: String], in directory: URL,
    memoryBytes: Int, seconds: Double
  ) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
    process.arguments = ["--as=\(memoryBytes)", "--core=0", "--", executable] + arguments
    process.currentDirectoryURL = directory
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let started = Date()
    try process.run()
    let pid = process.processIdentifier
    // The child is killed outright at the limit: a hang may be a loop that ignores SIGTERM.
    let timer = DispatchSource.makeTimerSource(queue: .global())
    nonisolated(unsafe) var killed = false
    let lock = NSLock()
    timer.schedule(deadline: .now() + seconds)
    timer.setEventHandler {
      lock.withLock {
        killed = true
        kill(pid, SIGKILL)
      }
    }
    timer.resume()
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    group.enter()
    DispatchQueue.global().async {
      outData = out.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    timer.cancel()
    let timedOut = lock.withLock { killed }
    let bySignal = process.terminationReason == .uncaughtSignal
    return Outcome(
      status: bySignal ? nil : process.terminationStatus, signal: bySignal ? process.terminationStatus : nil,
      timedOut: timedOut, seconds: Date().timeIntervalSince(started),
      stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
  }
}
