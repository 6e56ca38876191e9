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
    let run = try ChildProcess.run(
      "/usr/bin/prlimit", ["--as=\(memoryBytes)", "--core=0", "--", executable] + arguments, environment: environment, in: directory,
      timeout: seconds)
    return Outcome(
      status: run.bySignal ? nil : run.terminationStatus, signal: run.bySignal ? run.terminationStatus : nil, timedOut: run.timedOut,
      seconds: run.seconds, stdout: run.stdout, stderr: run.stderr)
  }
}
