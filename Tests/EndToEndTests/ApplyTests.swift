import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// `apply` on the built binary against a real HTTP server on loopback: files on disk, output,
/// exit codes and the server's request log. Failures, interruptions, concurrency and the
/// commands around apply are in the `ApplyTests+…` files.
@Suite struct ApplyTests {
  /// One model with three files of random bytes, served from `mirror/alpha/`.
  static func alpha(_ fixture: ApplyFixture) throws -> [String: ServedFile] {
    let files = [
      "weights.safetensors": try fixture.makeFile("alpha/weights.safetensors", size: 3 << 20),
      "config.json": try fixture.makeFile("alpha/config.json", size: 4096),
      "tokenizer/vocab.bin": try fixture.makeFile("alpha/tokenizer/vocab.bin", size: 1 << 20),
    ]
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": files])])
    return files
  }

  @Test func freshApplyLinksEveryViewToItsReadOnlyBlob() throws {
    let fixture = try ApplyFixture()
    let files = try Self.alpha(fixture)
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("  + download  alpha@1:fp16  3 files"), "\(result.stdout)")
    #expect(result.stdout.contains("Apply complete: 3 files downloaded"), "\(result.stdout)")
    for (path, file) in files {
      fixture.expectLinked(fixture.view("alpha", "fp16", path), to: file)
      #expect(result.stderr.contains("download alpha@1:fp16 file \(path): done"), "\(result.stderr)")
    }
    #expect(fixture.blobNames() == files.values.map(\.digest.hex).sorted())
    #expect(fixture.temporaryFiles().isEmpty)

    let status = try fixture.reconcile("status")
    #expect(status.status == 0, "\(status.stderr)")
    let row = status.stdout.split(separator: "\n").first { $0.hasPrefix("alpha ") }
    #expect(row?.hasSuffix(" ok") == true, "\(status.stdout)")
    #expect(row?.contains(" 3/3 ") == true, "\(status.stdout)")
  }

  @Test func jsonLogHasOneObjectPerEvent() throws {
    let fixture = try ApplyFixture()
    let files = try Self.alpha(fixture)
    let result = try fixture.apply(["--log-format", "json"])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    let events = try result.stderr.split(separator: "\n").map { line in
      try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
    }
    let done = events.filter { $0["event"] as? String == "done" && $0["action"] as? String == "download" }
    #expect(Set(done.compactMap { $0["path"] as? String }) == Set(files.keys))
    #expect(done.allSatisfy { $0["variant"] as? String == "alpha@1:fp16" && ($0["source"] as? String)?.hasPrefix(fixture.server.baseURL) == true })
  }

  @Test func secondApplyChangesNothingAndSendsNoRequest() throws {
    let fixture = try ApplyFixture()
    let files = try Self.alpha(fixture)
    let first = try fixture.apply()
    #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
    #expect(try fixture.requests().count == 3)
    let inodes = files.keys.map { Stat(fixture.view("alpha", "fp16", $0)) }

    try fixture.server.reset()
    let second = try fixture.apply()
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout.hasPrefix("No changes."), "\(second.stdout)")
    #expect(second.stderr.isEmpty, "\(second.stderr)")
    #expect(try fixture.requests().isEmpty, "a converged node must not touch the network")
    #expect(files.keys.map { Stat(fixture.view("alpha", "fp16", $0)) } == inodes, "nothing on disk may change")

    let plan = try fixture.reconcile("plan", ["--detailed-exitcode"])
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
    #expect(plan.stdout.contains("\nNo changes.\n"), "\(plan.stdout)")
  }

  @Test func aFileSharedByVariantsAndModelsIsFetchedOnceAndStoredOnce() throws {
    let fixture = try ApplyFixture()
    let tokenizer = try fixture.makeFile("alpha/tokenizer.bin", size: 2 << 20)
    try fixture.copy(tokenizer, to: "beta/tokenizer.bin")
    let fp16 = try fixture.makeFile("alpha/fp16.bin", size: 1 << 20)
    let fp8 = try fixture.makeFile("alpha/fp8.bin", size: 512 << 10)
    let beta = try fixture.makeFile("beta/beta.bin", size: 256 << 10)
    try fixture.writeDesired([
      ModelSpec(
        name: "alpha", sources: [fixture.source("alpha")],
        variants: ["fp16": ["fp16.bin": fp16, "tokenizer.bin": tokenizer], "fp8": ["fp8.bin": fp8, "tokenizer.bin": tokenizer]]),
      ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["main": ["beta.bin": beta, "tok/tokenizer.bin": tokenizer]]),
    ])
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")

    let gets = try fixture.requests().filter { $0.method == "GET" }
    #expect(gets.filter { $0.path.hasSuffix("/tokenizer.bin") }.count == 1, "\(gets.map(\.path))")
    #expect(gets.count == 4, "\(gets.map(\.path))")
    let views = [
      fixture.view("alpha", "fp16", "tokenizer.bin"), fixture.view("alpha", "fp8", "tokenizer.bin"),
      fixture.view("beta", "main", "tok/tokenizer.bin"),
    ]
    for view in views { fixture.expectLinked(view, to: tokenizer) }
    #expect(Stat(fixture.blob(tokenizer))?.links == 4, "the blob and its three views")
    #expect(fixture.blobNames().count == 4)
  }

  @Test func fileSourcesAbsoluteAndRelativeToTheDesiredDirectory() throws {
    let fixture = try ApplyFixture()
    let nfs = fixture.directory.path + "/nfs/alpha"
    let absolute = try fixture.makeFile(nfs + "/weights.bin", size: 2 << 20)
    let relative = try fixture.makeFile(fixture.desired + "/local/beta/weights.bin", size: 1 << 20)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: ["file://\(nfs)/"], variants: ["fp16": ["weights.bin": absolute]]),
      ModelSpec(name: "beta", sources: ["file://./local/beta/"], variants: ["main": ["weights.bin": relative]]),
    ])
    // The working directory is the fixture's, not the desired directory: ./ must not mean it.
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: absolute)
    fixture.expectLinked(fixture.view("beta", "main", "weights.bin"), to: relative)
    #expect(result.stderr.contains("from file://\(nfs)/weights.bin"), "\(result.stderr)")
    #expect(result.stderr.contains("from file://\(fixture.desired)/local/beta/weights.bin"), "\(result.stderr)")
    #expect(try fixture.requests().isEmpty)
    #expect(fixture.temporaryFiles().isEmpty)
  }

  @Test func withoutAutoApproveOrATerminalNothingIsApplied() throws {
    let fixture = try ApplyFixture()
    let files = try Self.alpha(fixture)
    let result = try fixture.reconcile("apply")
    #expect(result.status == 1)
    #expect(result.stderr.contains("standard input is not a terminal"), "\(result.stderr)")
    #expect(result.stderr.contains("--auto-approve"), "\(result.stderr)")
    #expect(try fixture.requests().isEmpty)
    #expect(fixture.blobNames().isEmpty)
    for path in files.keys { #expect(Stat(fixture.view("alpha", "fp16", path)) == nil) }
  }
}
