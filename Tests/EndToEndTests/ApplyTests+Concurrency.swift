import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Two applies on one root: the lock makes the second wait, or give up naming the holder.
extension ApplyTests {
  /// A model whose one large file the server sends slowly, so that an apply of it lasts seconds.
  static func slowModel(_ fixture: ApplyFixture, size: Int, rate: Int) throws -> ServedFile {
    let weights = try fixture.makeFile("alpha/weights.bin", size: size)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .throttle, rate: rate)
    return weights
  }

  /// What `<root>/.reconcile/lock` says about its holder.
  static func lockHolder(_ fixture: ApplyFixture) -> String {
    (try? String(contentsOfFile: fixture.root.state + "/lock", encoding: .utf8)) ?? ""
  }

  @Test func secondApplyGivesUpAfterLockTimeoutNamingTheHolder() throws {
    let fixture = try ApplyFixture()
    let weights = try Self.slowModel(fixture, size: 8 << 20, rate: 2 << 20)
    let first = try fixture.start("apply", ["--auto-approve"])
    let holds = waitUntil(timeout: 60) { Self.lockHolder(fixture).hasPrefix("pid \(first.pid) ") || !first.isRunning }
    try #require(holds && first.isRunning, "the first apply should hold the lock while it downloads")

    let second = try fixture.reconcile("apply", ["--auto-approve", "--lock-timeout", "1"], timeout: 60)
    #expect(second.status == 1, "\(second.stdout)\(second.stderr)")
    #expect(second.stderr.contains("another apply holds \(fixture.root.state)/lock (pid \(first.pid) on "), "\(second.stderr)")
    #expect(second.stderr.contains("--lock-timeout"), "\(second.stderr)")
    #expect(first.isRunning, "the throttled first apply should outlast the second's wait")

    let done = try first.wait(timeout: 120)
    #expect(done.status == 0, "\(done.stdout)\(done.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    #expect(try fixture.requests(endingIn: "/weights.bin").count == 1)
    #expect(Self.lockHolder(fixture).isEmpty, "a released lock names no holder")
  }

  @Test func concurrentAppliesBothSucceedOnOneConsistentRoot() throws {
    let fixture = try ApplyFixture()
    let weights = try Self.slowModel(fixture, size: 8 << 20, rate: 4 << 20)
    let config = try fixture.makeFile("alpha/config.json", size: 2048)
    let tokenizer = try fixture.makeFile("alpha/tokenizer.bin", size: 1 << 20)
    let files = ["weights.bin": weights, "config.json": config, "tokenizer.bin": tokenizer]
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": files, "fp8": ["tokenizer.bin": tokenizer]])])

    // Started together: whichever takes the lock first applies, the other waits and finds nothing left to do.
    let runs = [try fixture.start("apply", ["--auto-approve", "--lock-timeout", "120"]), try fixture.start("apply", ["--auto-approve", "--lock-timeout", "120"])]
    let results = try runs.map { try $0.wait(timeout: 180) }
    for result in results { #expect(result.status == 0, "\(result.stdout)\(result.stderr)") }
    #expect(results.filter { $0.stdout.contains("Apply complete: ") }.count == 1, "\(results.map(\.stdout))")
    #expect(results.filter { $0.stdout.hasPrefix("No changes.") }.count == 1, "\(results.map(\.stdout))")

    let gets = try fixture.requests().filter { $0.method == "GET" }
    #expect(gets.map(\.path).sorted() == ["/alpha/config.json", "/alpha/tokenizer.bin", "/alpha/weights.bin"], "each file fetched once")
    #expect(fixture.blobNames() == files.values.map(\.digest.hex).sorted(), "one blob per digest")
    for (path, file) in files { fixture.expectLinked(fixture.view("alpha", "fp16", path), to: file) }
    fixture.expectLinked(fixture.view("alpha", "fp8", "tokenizer.bin"), to: tokenizer)
    #expect(fixture.temporaryFiles().isEmpty, "no stray partial file: \(fixture.temporaryFiles())")
    let plan = try fixture.reconcile("plan", ["--detailed-exitcode"])
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
  }
}
