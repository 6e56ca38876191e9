import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// What the fuzz suites found, each as its reduced input through the binary, bounded to 10 s and
/// 2 GiB: a crash here is a signal, not the end of the test runner.
@Suite struct FuzzRegressionTests {
  /// Runs `reconcile validate DIR` bounded; `status` is nil when a signal ended it.
  static func validate(_ directory: TemporaryDirectory, _ target: String? = nil) throws -> BoundedProcess.Outcome {
    try BoundedProcess.run(
      Binary.path, ["validate", target ?? directory.path], environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path],
      in: directory.url, memoryBytes: 2 << 30, seconds: 10)
  }

  /// 50,000 anchors, each a list holding an alias of the one before: 1 MB of YAML that nests
  /// 50,000 levels deep through its aliases. Yams' recursion overflowed the stack (SIGSEGV).
  @Test func aChainOfFiftyThousandAnchorsIsAnErrorNotAStackOverflow() throws {
    let directory = try TemporaryDirectory()
    let links = (1..<50_000).map { "a\($0): &a\($0) [*a\($0 - 1)]" }
    try directory.write("models.yaml", (["a0: &a0 [x]"] + links).joined(separator: "\n") + "\n")
    let outcome = try Self.validate(directory)
    #expect(outcome.status == 1 && !outcome.timedOut, "\(outcome.signal.map { "signal \($0)" } ?? "") \(outcome.stderr.prefix(500))")
    #expect(outcome.stderr.hasPrefix(directory.path + "/models.yaml:128:14: error: values are nested more than 128 levels deep, counting what alias '*a126' repeats"), "\(outcome.stderr.prefix(500))")
  }

  /// A desired-state "file" that never ends: a symbolic link to /dev/zero was read until memory
  /// ran out, and a FIFO blocked forever. Only regular files are read.
  @Test(arguments: ["/dev/zero", "fifo"])
  func aFileThatIsNotARegularFileIsAnErrorNamingIt(_ kind: String) throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/models.yaml"
    if kind == "fifo" {
      #expect(mkfifo(path, 0o600) == 0)
    } else {
      try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: kind)
    }
    let outcome = try Self.validate(directory)
    #expect(outcome.status == 1 && !outcome.timedOut, "\(outcome.signal.map { "signal \($0)" } ?? "") \(outcome.stderr.prefix(500))")
    #expect(outcome.stderr == "error: cannot read '\(path)': not a regular file (a directory, device, pipe or socket); desired-state files are plain files\n")
  }

  /// A file larger than any desired state is refused before it is read, with its size.
  @Test func aFileLargerThanTheBoundIsAnErrorWithItsSize() throws {
    let directory = try TemporaryDirectory()
    let path = try directory.write("models.yaml", "models: []\n")
    #expect(truncate(path, 65 << 20) == 0)
    let outcome = try Self.validate(directory)
    #expect(outcome.status == 1)
    #expect(outcome.stderr == "\(path): error: the file has \(65 << 20) bytes, more than the 64 MiB a desired-state file may have; split it into several files\n")
  }
}
