import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Thousands of damaged desired-state trees, made from the repository's own valid ones, go
/// through what `reconcile validate` and `reconcile plan` run — the file name filter and UTF-8
/// check of the directory reader, the loader and validator, the node's observation, the planner
/// and both plan renderers — in this process, from memory. Each must end in a plan or in errors
/// that say where, and none may take long. `DesiredStateFuzzBinaryTests` runs the first few
/// hundred of the same cases (same seed, same numbers) through the built binary, from disk,
/// where a trap is a signal rather than the end of this test runner.
///
/// `RECONCILE_FUZZ_SEED` changes the seed, `RECONCILE_FUZZ_CASES` the number of cases and
/// `RECONCILE_FUZZ_CASE=N` replays one. A failing case is kept under `.build/fuzz-failures/`
/// (or `$RECONCILE_FUZZ_FAILURES`); if this process dies on one, `in-process-running.txt` there
/// names it, and replaying it runs it through the binary too, which keeps its files.
@Suite struct DesiredStateFuzzTests {
  /// The seed CI runs; any other is as good, and a failure names the one it used.
  static let defaultSeed: UInt64 = 20_261_122
  static let defaultCases = 3_000
  /// Generous: a case takes milliseconds, the largest alias bomb within bounds about a second.
  static let secondsPerCase = 10.0

  @Test func damagedDesiredStatesAreErrorsThatSayWhereNeverCrashesOrHangs() throws {
    let environment = ProcessInfo.processInfo.environment
    let seed = FuzzCorpus.seed(from: environment, default: Self.defaultSeed)
    let numbers = FuzzCorpus.caseNumbers(from: environment, count: Self.defaultCases)
    let corpus = try FuzzCorpus.repository(root: Repository.root)
    let store = FuzzCaseDirectory.fromEnvironment(packageRoot: Repository.root)
    try FileManager.default.createDirectory(at: store.failures, withIntermediateDirectories: true)
    let running = store.failures.appendingPathComponent("in-process-running.txt")
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-fuzz-root-\(UUID().uuidString)").path
    var failures: [String] = []
    var perKind: [FuzzMutation: Int] = [:]
    var outcomes = (plans: 0, errors: 0)
    for number in numbers {
      let fuzzCase = corpus.makeCase(seed: seed, number: number)
      perKind[fuzzCase.mutation, default: 0] += 1
      try Data("\(fuzzCase.title)\nRECONCILE_FUZZ_SEED=\(seed) RECONCILE_FUZZ_CASE=\(number)\n".utf8).write(to: running)
      let started = Date()
      var problems: [String] = []
      switch Self.run(fuzzCase, root: root) {
      case .planned:
        outcomes.plans += 1
      case .failed(let command, let output):
        outcomes.errors += 1
        let unplaced = FuzzVerdict.unplacedErrors(output, directory: Self.directory, files: fuzzCase.files.map(\.name))
        problems += unplaced.map { "\(command): error without a place: \($0)" }
      }
      let seconds = Date().timeIntervalSince(started)
      if seconds > Self.secondsPerCase { problems.append(String(format: "took %.1f s (bound %.0f s)", seconds, Self.secondsPerCase)) }
      if !problems.isEmpty {
        let directory = store.failures.appendingPathComponent(".writing-\(fuzzCase.directoryName)")
        try FuzzCaseDirectory.write(fuzzCase, to: directory)
        let kept = store.keep(fuzzCase, from: directory, suite: "in-process", problems: problems)
        failures.append("\(fuzzCase.title): \(problems.joined(separator: "; ")) — input kept in \(kept)")
      }
    }
    try? FileManager.default.removeItem(at: running)
    try? FileManager.default.removeItem(atPath: root)
    #expect(failures.isEmpty, "\(failures.count) of \(numbers.count) cases failed (seed \(seed)):\n\(failures.prefix(20).joined(separator: "\n"))")
    // Every kind had its turn, and the cases reached both ends: some still plan, most are errors.
    if numbers.count >= FuzzMutation.allCases.count * 10 {
      #expect(Set(perKind.keys) == Set(FuzzMutation.allCases), "\(perKind)")
      #expect(outcomes.plans > 0 && outcomes.errors > 0, "\(outcomes)")
    }
  }

  /// The name the in-process cases give their directory in paths and messages.
  static let directory = "fuzz-case"

  enum Outcome {
    case planned
    /// What the command would print to standard error.
    case failed(command: String, output: String)
  }

  /// What `validate` then `plan` do with the case: the directory reader's choice of files and
  /// decoding, the loader, and on a valid state the observation of an empty root, the planner
  /// and the renderers. `plan` reads the desired state as `validate` does, so an invalid state
  /// fails both with the same errors and is run once.
  static func run(_ fuzzCase: FuzzCase, root: String) -> Outcome {
    let chosen = fuzzCase.desiredArgument == .singleFile
      ? fuzzCase.files.filter { $0.name == fuzzCase.target }
      : fuzzCase.files.filter { DesiredDirectory.reads($0.name) }
    do {
      guard !chosen.isEmpty else {
        // The reader's own error names the directory.
        return .failed(command: "validate", output: "error: desired state '\(directory)' has no *.yaml, *.yml or *.toml files")
      }
      let files = try chosen.map { file throws(DesiredDirectory.ReadError) in
        try DesiredDirectory.decode(Data(file.bytes), path: directory + "/" + file.name)
      }
      let loaded = try DesiredStateLoader.load(files)
      do {
        let session = Session(desired: directory, root: root, node: fuzzCase.node)
        let observed = try session.observe(loaded.state)
        let plan = try PlacedPlanError.placing(loaded.sourceMap) {
          try session.plan(loaded.state, observed, digest: Session.digest(of: files), at: Date(timeIntervalSince1970: 1_800_000_000))
        }
        _ = PlanRenderer.human(plan)
        _ = try PlanRenderer.json(plan)
        return .planned
      } catch {
        return .failed(command: "plan", output: Self.report(error))
      }
    } catch {
      return .failed(command: "validate", output: Self.report(error))
    }
  }

  /// Standard error as `ErrorReporting` writes it.
  static func report(_ error: any Error) -> String {
    if let error = error as? ReportedError { return error.reportLines.joined(separator: "\n") }
    return "error: \(error)"
  }
}
