import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// Sources that lie, fail or go away, and an apply killed half-way.
extension ApplyTests {
  @Test func wrongBytesAreNeverVisibleAndAnotherSourceRepairs() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("bad/weights.bin", size: 2 << 20)
    let config = try fixture.makeFile("bad/config.json", size: 1000)
    try fixture.copy(weights, to: "good/weights.bin")
    try fixture.copy(config, to: "good/config.json")
    let files = ["weights.bin": weights, "config.json": config]
    try fixture.server.behave(path: "/bad/weights.bin", mode: .wrongBytes)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("bad")], variants: ["fp16": files])])

    let failed = try fixture.apply()
    #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
    let url = fixture.server.url("/bad/weights.bin")
    let cause = failed.stderr.split(separator: "\n").first { $0.contains(url) }.map(String.init) ?? ""
    #expect(cause.contains("alpha@1:fp16"), "\(failed.stderr)")
    #expect(cause.contains("weights.bin"), "\(failed.stderr)")
    #expect(cause.contains("other content"), "\(failed.stderr)")
    #expect(cause.contains("sha256 "), "\(failed.stderr)")
    #expect(cause.contains(weights.digest.short), "the expected digest is named: \(failed.stderr)")
    #expect(failed.stdout.contains("Apply failed: 1 of "), "\(failed.stdout)")
    #expect(Stat(fixture.view("alpha", "fp16", "weights.bin")) == nil, "wrong bytes must never appear under models/")
    #expect(Stat(fixture.blob(weights)) == nil, "wrong bytes must never enter the store")
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
    // What succeeded stays.
    fixture.expectLinked(fixture.view("alpha", "fp16", "config.json"), to: config)

    try fixture.server.reset()
    try fixture.server.behave(path: "/bad/weights.bin", mode: .wrongBytes)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("bad"), fixture.source("good")], variants: ["fp16": files])])
    let repaired = try fixture.apply()
    #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    #expect(try fixture.requests().map(\.path) == ["/bad/weights.bin", "/good/weights.bin"])
    #expect(fixture.temporaryFiles().isEmpty)
    #expect(fixture.blobNames() == [weights.digest.hex, config.digest.hex].sorted())
  }

  /// How the first of two sources fails, and how often it must have been asked.
  struct Outage: Sendable, CustomTestStringConvertible {
    var mode: TestHTTPServer.Behaviour
    var status: Int
    var count: Int?
    /// `policy.retry.attempts` (3) for an error worth retrying, once for one that is not.
    var tries: Int
    var testDescription: String { "\(mode.rawValue) \(status)" }
  }

  @Test(arguments: [
    Outage(mode: .status, status: 404, count: nil, tries: 1),
    Outage(mode: .fail, status: 500, count: 10, tries: 3),
  ])
  func failsOverToTheNextSource(_ outage: Outage) throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("first/weights.bin", size: 1 << 20)
    try fixture.copy(weights, to: "second/weights.bin")
    try fixture.server.behave(path: "/first/weights.bin", mode: outage.mode, count: outage.count, status: outage.status)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: [fixture.source("first"), fixture.source("second")], variants: ["fp16": ["weights.bin": weights]])
    ])
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    let log = try fixture.requests()
    #expect(log.filter { $0.path == "/first/weights.bin" }.count == outage.tries, "\(log.map(\.path))")
    #expect(log.filter { $0.path == "/second/weights.bin" }.count == 1, "\(log.map(\.path))")
    #expect(result.stderr.contains("from \(fixture.server.url("/second/weights.bin"))"), "\(result.stderr)")
    if outage.tries > 1 {
      #expect(result.stderr.contains("retry \(fixture.server.url("/first/weights.bin")) after attempt 1"), "\(result.stderr)")
    }
  }

  @Test func everySourceFailingNamesEachCause() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("first/weights.bin", size: 64 << 10)
    try fixture.copy(weights, to: "second/weights.bin")
    try fixture.server.behave(path: "/first/weights.bin", mode: .status, status: 403)
    try fixture.server.behave(path: "/second/weights.bin", mode: .status, status: 503)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: [fixture.source("first"), fixture.source("second")], variants: ["fp16": ["weights.bin": weights]])
    ])
    let result = try fixture.apply()
    #expect(result.status == 1)
    #expect(result.stderr.contains("download alpha@1:fp16 file weights.bin: all 2 sources failed"), "\(result.stderr)")
    #expect(result.stderr.contains("\(fixture.server.url("/first/weights.bin")): HTTP 403 Forbidden"), "\(result.stderr)")
    #expect(result.stderr.contains("\(fixture.server.url("/second/weights.bin")): HTTP 503 Service Unavailable"), "\(result.stderr)")
    #expect(try fixture.requests().filter { $0.path == "/second/weights.bin" }.count == 3)
    #expect(fixture.blobNames().isEmpty)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")

    let history = try fixture.reconcile("history")
    let lines = history.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first?.contains("  failed in ") == true, "\(history.stdout)")
    for (path, cause) in [("/first/weights.bin", "HTTP 403 Forbidden"), ("/second/weights.bin", "HTTP 503 Service Unavailable")] {
      #expect(lines.contains { $0.hasPrefix("    failed   download alpha@1:fp16 file weights.bin") && $0.contains("from \(fixture.server.url(path))") && $0.contains(cause) }, "\(history.stdout)")
    }
  }

  @Test func truncatedBodyIsResumedOnTheNextAttempt() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 2 << 20)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .truncate, count: 1)
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stderr.contains("truncated after"), "\(result.stderr)")
    #expect(try fixture.requests().map(\.range) == [nil, "bytes=\(weights.size / 2)-"])
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
  }

  /// After the kill, the source honours `Range`, or answers every request with the whole file.
  @Test(arguments: [false, true])
  func applyKilledMidDownloadResumesWithRange(sourceIgnoresRange: Bool) throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 32 << 20)
    // One stream: this is the single-connection resume (ranged ones are in OperationsTests).
    try fixture.writeDesired(
      [ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])],
      policy: ApplyFixture.fastPolicy + "\n  connections_per_file: 1")
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .throttle, rate: 4 << 20)

    let first = try fixture.start("apply", ["--auto-approve"])
    let partials = { fixture.temporaryFiles().filter { $0.hasSuffix(".part") } }
    let grew = waitUntil(timeout: 60) {
      let size = partials().compactMap { Stat(fixture.root.temporary + "/" + $0)?.size }.max() ?? 0
      return size >= 4 << 20 || !first.isRunning
    }
    try #require(grew && first.isRunning, "the throttled download should still run once 4 MiB are on disk")
    first.kill()
    let killed = try first.wait(timeout: 30)
    #expect(killed.status == SIGKILL)
    #expect(first.process.terminationReason == .uncaughtSignal)

    let left = partials()
    try #require(left.count == 1, "\(fixture.temporaryFiles())")
    let kept = try #require(Stat(fixture.root.temporary + "/" + left[0])).size
    #expect(kept > 0 && kept < Int64(weights.size))
    #expect(Stat(fixture.view("alpha", "fp16", "weights.bin")) == nil, "a partial file must never be visible")
    #expect(Stat(fixture.blob(weights)) == nil)

    try fixture.server.reset()
    if sourceIgnoresRange { try fixture.server.behave(path: "/alpha/weights.bin", mode: .ignoreRange) }
    let second = try fixture.apply()
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    let log = try fixture.requests(endingIn: "/weights.bin")
    #expect(log.map(\.range) == ["bytes=\(kept)-"], "\(log)")
    #expect(log.first?.ifRange != nil, "a resume must be conditional on the same content")
    let (digest, size) = try FileHasher.digest(ofFileAt: fixture.blob(weights))
    #expect(digest == weights.digest)
    #expect(size == Int64(weights.size))
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
  }
}
