import Foundation

/// Where fuzz cases are written to be run, and where a failing one is kept so it reproduces:
/// `<failures>/seed-S-case-N/` with the desired-state files exactly as run and a `CASE.txt`
/// saying what was done and how to replay it.
public struct FuzzCaseDirectory: Sendable {
  /// Failing cases go here: `$RECONCILE_FUZZ_FAILURES`, else `<package>/.build/fuzz-failures`.
  public var failures: URL

  /// Failing cases are kept under `failures`.
  public init(failures: URL) { self.failures = failures }

  /// `$RECONCILE_FUZZ_FAILURES` or `<packageRoot>/.build/fuzz-failures`.
  public static func fromEnvironment(packageRoot: URL) -> FuzzCaseDirectory {
    if let path = ProcessInfo.processInfo.environment["RECONCILE_FUZZ_FAILURES"], !path.isEmpty {
      return FuzzCaseDirectory(failures: URL(fileURLWithPath: path))
    }
    return FuzzCaseDirectory(failures: packageRoot.appendingPathComponent(".build/fuzz-failures"))
  }

  /// The directory a case runs in while it runs: it is left behind if the process running it
  /// dies (a trap in-process), so even then the input is on disk.
  public func inFlight(_ fuzzCase: FuzzCase, suite: String) -> URL {
    failures.appendingPathComponent(".in-flight-\(suite)").appendingPathComponent(fuzzCase.directoryName)
  }

  /// Writes the case's files (as bytes) into `directory`, which is created anew.
  public static func write(_ fuzzCase: FuzzCase, to directory: URL) throws {
    let manager = FileManager.default
    try? manager.removeItem(at: directory)
    try manager.createDirectory(at: directory, withIntermediateDirectories: true)
    for file in fuzzCase.files {
      try Data(file.bytes).write(to: directory.appendingPathComponent(file.name, isDirectory: false))
    }
  }

  /// Keeps the failing case: moves `directory` (written by `write`) to `seed-S-case-N/desired`
  /// beside a `CASE.txt` with `problems` and the commands that replay it, and `outputs` (file
  /// name → text, such as a command's whole standard error). Returns the path.
  @discardableResult
  public func keep(_ fuzzCase: FuzzCase, from directory: URL, suite: String, problems: [String], outputs: [String: String] = [:]) -> String {
    let manager = FileManager.default
    let kept = failures.appendingPathComponent(fuzzCase.directoryName)
    try? manager.removeItem(at: kept)
    try? manager.createDirectory(at: kept, withIntermediateDirectories: true)
    let desired = kept.appendingPathComponent("desired")
    if (try? manager.moveItem(at: directory, to: desired)) == nil {
      try? Self.write(fuzzCase, to: desired)
    }
    let text = """
      \(fuzzCase.title)
      suite: \(suite)
      node: \(fuzzCase.node)
      desired argument: \(fuzzCase.desiredArgument.rawValue)

      \(problems.joined(separator: "\n"))

      Replay this case alone:
        RECONCILE_FUZZ_SEED=\(fuzzCase.seed) RECONCILE_FUZZ_CASE=\(fuzzCase.number) swift test --skip-build --filter DesiredStateFuzz
      or run the binary on the files above:
        reconcile validate \(fuzzCase.desiredPath(in: desired.path))
        reconcile plan --desired \(fuzzCase.desiredPath(in: desired.path)) --root /tmp/fuzz-root --node \(fuzzCase.node)

      """
    try? Data(text.utf8).write(to: kept.appendingPathComponent("CASE.txt"))
    for (name, output) in outputs { try? Data(output.utf8).write(to: kept.appendingPathComponent(name)) }
    return kept.path
  }
}
