import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Manners toward upstreams, on the built binary: a server's `Retry-After` is waited out (up to
/// `policy.retry.max_backoff`), `policy.bandwidth` holds all downloads of the node together, and
/// `policy.stall_timeout` abandons a server that accepts a request and never answers.
extension ApplyTests {
  /// A policy with fast retries and `extra` lines (each a `policy:` key).
  static func policy(attempts: Int = 3, maxBackoff: String = "0s", _ extra: String...) -> String {
    (["policy:", "  gc_grace: 0s", "  concurrency: 4", "  retry: { attempts: \(attempts), backoff: 0s, max_backoff: \(maxBackoff) }"]
      + extra.map { "  " + $0 }).joined(separator: "\n")
  }

  /// The pause a `retry … waiting N s` line of `stderr` names.
  static func waits(in stderr: String) -> [Double] {
    stderr.split(separator: "\n").compactMap { line -> Double? in
      guard line.contains(": retry "), let range = line.range(of: ", waiting ") else { return nil }
      return Double(line[range.upperBound...].prefix { $0 != " " })
    }
  }

  /// How a server asks for patience once, and what the client must make of it.
  struct Patience: Sendable, CustomTestStringConvertible {
    var status: Int
    /// As the server sends it; `date:N` is an HTTP-date N seconds after the answer.
    var retryAfter: String
    /// The pause the retry line must show, at least and at most.
    var wait: ClosedRange<Double>
    /// What the retry line says about the header.
    var note: String
    var testDescription: String { "\(status) Retry-After: \(retryAfter)" }
  }

  @Test(arguments: [
    Patience(status: 503, retryAfter: "2", wait: 2...2, note: "(Retry-After 2 s)"),
    Patience(status: 429, retryAfter: "date:3", wait: 1.5...3, note: "(Retry-After "),
    Patience(status: 503, retryAfter: "3600", wait: 5...5, note: "(Retry-After 3600 s, capped by policy.retry.max_backoff at 5 s)"),
  ])
  func retryAfterIsWaitedOutUpToMaxBackoff(_ patience: Patience) throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 256 << 10)
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .fail, count: 1, status: patience.status, retryAfter: patience.retryAfter)
    try fixture.writeDesired(
      [ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])],
      policy: Self.policy(maxBackoff: "5s"))
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)

    let waits = Self.waits(in: result.stderr)
    #expect(waits.count == 1, "\(result.stderr)")
    #expect(waits.allSatisfy { patience.wait.contains($0) }, "\(result.stderr)")
    let retry = result.stderr.split(separator: "\n").first { $0.contains(": retry ") }.map(String.init) ?? ""
    #expect(retry.contains(patience.note), "\(result.stderr)")
    // Backoff alone is 0 s: the gap between the two requests is the server's doing.
    let log = try fixture.requests(endingIn: "/weights.bin")
    try #require(log.count == 2, "\(log)")
    let gap = log[1].time - log[0].time
    #expect(gap >= patience.wait.lowerBound - 0.5, "the second request came \(gap) s after the first")
    #expect(gap < 60, "a Retry-After is capped by max_backoff: \(gap) s")
  }

  @Test func nodeBandwidthHoldsAllDownloadsTogether() throws {
    let fixture = try ApplyFixture()
    // Two 6 MiB files at once: 12 MiB through 4 MiB/s takes 3 s together (1.5 s each alone).
    let first = try fixture.makeFile("alpha/first.bin", size: 6 << 20)
    let second = try fixture.makeFile("alpha/second.bin", size: 6 << 20)
    try fixture.writeDesired(
      [ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["first.bin": first, "second.bin": second]])],
      policy: Self.policy("bandwidth: 4MiB/s"))
    let started = Date()
    let result = try fixture.apply()
    let seconds = Date().timeIntervalSince(started)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "first.bin"), to: first)
    fixture.expectLinked(fixture.view("alpha", "fp16", "second.bin"), to: second)
    #expect(seconds >= 2, "12 MiB at 4 MiB/s took \(seconds) s")
    // Both ran at once: the limit is the node's, not each transfer's.
    let log = try fixture.requests()
    #expect(log.count == 2 && abs(log[0].time - log[1].time) < 1, "\(log)")
  }

  @Test func aServerThatNeverAnswersIsAbandonedAfterTheStallTimeout() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 64 << 10)
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .silent)
    try fixture.writeDesired(
      [ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])],
      policy: Self.policy(attempts: 1, "stall_timeout: 2s", "connect_timeout: 5s"))
    let started = Date()
    let result = try fixture.apply()
    let seconds = Date().timeIntervalSince(started)
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    let url = fixture.server.url("/alpha/weights.bin")
    #expect(
      result.stderr.contains("download alpha@1:fp16 file weights.bin: the source failed (http: \(url): timed out after 2 s without data)"),
      "\(result.stderr)")
    #expect(seconds < 25, "abandoned after the policy's 2 s, not the default 30 s: \(seconds) s")
    #expect(fixture.blobNames().isEmpty)
    #expect(Stat(fixture.view("alpha", "fp16", "weights.bin")) == nil)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
  }
}
