import Foundation
import Testing
import TestSupport

/// The first few hundred of the in-process fuzz cases (`ReconcileCoreTests`'
/// `DesiredStateFuzzTests`, same seed, same case numbers), through the built binary: `reconcile
/// validate` and `reconcile plan` on each damaged tree, with the address space capped at 2 GiB
/// and 10 s per run. Each must exit 0 or 1 — never by a signal, which is what a trap, a stack
/// overflow or an allocation failure is — and exit 1 with errors that say where.
///
/// Each case runs on its own: a directory is one desired state, and several damaged files in
/// one would hide each other (one syntax error stops the plan of them all). Two cases run at a
/// time, one per core.
@Suite struct DesiredStateFuzzBinaryTests {
  static let defaultCases = 260
  static let memoryBytes = 2 << 30
  static let secondsPerRun = 10.0

  @Test func damagedDesiredStatesNeverKillTheBinary() throws {
    let environment = ProcessInfo.processInfo.environment
    let seed = FuzzCorpus.seed(from: environment, default: 20_261_122)
    let numbers: [Int]
    if let one = environment["RECONCILE_FUZZ_CASE"].flatMap({ Int($0) }) {
      numbers = [one]
    } else {
      numbers = Array(0..<(environment["RECONCILE_FUZZ_BINARY_CASES"].flatMap { Int($0) } ?? Self.defaultCases))
    }
    let corpus = try FuzzCorpus.repository(root: Binary.packageRoot)
    let store = FuzzCaseDirectory.fromEnvironment(packageRoot: Binary.packageRoot)
    let executable = Binary.path
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      Issue.record("no reconcile binary at \(executable): run 'swift build' (make test does) first")
      return
    }
    let scratch = try TemporaryDirectory()
    // A Hub that refuses at once: a plan resolving a mutated `hf://` branch must not wait on DNS.
    let runEnvironment = [
      "PATH": environment["PATH"] ?? "/usr/bin:/bin", "HOME": scratch.path, "HF_ENDPOINT": "http://127.0.0.1:9",
    ]
    let results = FuzzResults()
    let scratchURL = scratch.url
    DispatchQueue.concurrentPerform(iterations: 2) { worker in
      for number in numbers where number % 2 == worker {
        let fuzzCase = corpus.makeCase(seed: seed, number: number)
        let directory = scratchURL.appendingPathComponent(fuzzCase.directoryName)
        do {
          try FuzzCaseDirectory.write(fuzzCase, to: directory)
          let (problems, outputs) = try Self.problems(
            of: fuzzCase, in: directory, executable: executable, environment: runEnvironment, scratch: scratchURL)
          if problems.isEmpty {
            try? FileManager.default.removeItem(at: directory)
            results.add(nil)
          } else {
            let kept = store.keep(fuzzCase, from: directory, suite: "binary", problems: problems, outputs: outputs)
            results.add("\(fuzzCase.title): \(problems.joined(separator: "; ")) — input kept in \(kept)")
          }
        } catch {
          results.add("\(fuzzCase.title): could not run: \(error)")
        }
      }
    }
    let failures = results.failures
    #expect(results.count == numbers.count)
    #expect(failures.isEmpty, "\(failures.count) of \(numbers.count) cases failed (seed \(seed)):\n\(failures.prefix(20).joined(separator: "\n"))")
  }

  /// What is wrong with how `validate` and `plan` ended on the case in `directory`, and each
  /// command's standard error (`validate.stderr`, `plan.stderr`).
  static func problems(
    of fuzzCase: FuzzCase, in directory: URL, executable: String, environment: [String: String], scratch: URL
  ) throws -> ([String], [String: String]) {
    let desired = fuzzCase.desiredPath(in: directory.path)
    let root = scratch.appendingPathComponent("root-\(fuzzCase.number)").path
    let runs = [
      ("validate", ["validate", desired]),
      ("plan", ["plan", "--desired", desired, "--root", root, "--node", fuzzCase.node]),
    ]
    var problems: [String] = []
    var outputs: [String: String] = [:]
    for (name, arguments) in runs {
      let outcome = try BoundedProcess.run(
        executable, arguments, environment: environment, in: scratch, memoryBytes: memoryBytes, seconds: secondsPerRun)
      outputs[name + ".stderr"] = outcome.stderr
      // The runtime's crash report says what trapped in one line; the rest is a backtrace.
      let crash = outcome.stderr.split(separator: "\n").first { $0.contains("Program crashed") || $0.contains("Fatal error") }
      let summary = crash.map(String.init) ?? String(outcome.stderr.prefix(300))
      if outcome.timedOut {
        problems.append("\(name): killed after \(Int(secondsPerRun)) s")
      } else if let signal = outcome.signal {
        problems.append("\(name): killed by signal \(signal): \(summary)")
      } else if let status = outcome.status, status != 0 && status != 1 {
        problems.append("\(name): exit status \(status): \(summary)")
      } else if outcome.status == 1 {
        let unplaced = FuzzVerdict.unplacedErrors(outcome.stderr, directory: directory.path, files: fuzzCase.files.map(\.name))
        problems += unplaced.map { "\(name): error without a place: \($0)" }
      }
    }
    return (problems, outputs)
  }
}

/// Failures collected from the workers.
final class FuzzResults: @unchecked Sendable {
  private let lock = NSLock()
  private var done = 0
  private var failed: [String] = []

  func add(_ failure: String?) {
    lock.withLock {
      done += 1
      if let failure { failed.append(failure) }
    }
  }

  var count: Int { lock.withLock { done } }
  var failures: [String] { lock.withLock { failed.sorted() } }
}
