import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Servers that misbehave on purpose, on the built binary: each ends with a clear error naming
/// the model, the file and the source, and with nothing in the store or under `models/`.
extension ApplyTests {
  /// A fixture serving `alpha/weights.bin` (1 MiB) under `policy`, misbehaving as `behave` makes it.
  static func hostile(
    policy: String = ApplyTests.policy(), _ behave: (ApplyFixture) throws -> Void
  ) throws -> (ApplyFixture, ServedFile, Binary.Result) {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 1 << 20)
    try fixture.writeDesired(
      [ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])], policy: policy)
    try behave(fixture)
    return (fixture, weights, try fixture.apply())
  }

  /// The failure line for the one source, with its URL and `cause`.
  static func expectFailure(_ result: Binary.Result, _ fixture: ApplyFixture, cause: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let url = fixture.server.url("/alpha/weights.bin")
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
    let line = result.stderr.split(separator: "\n").first { $0.hasPrefix("download alpha@1:fp16 file weights.bin: the source failed (http: \(url)") }
    #expect(line?.contains(cause) == true, "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stdout.contains("Apply failed: 1 of "), "\(result.stdout)", sourceLocation: sourceLocation)
  }

  /// Nothing of the file in the store or under `models/`.
  static func expectNothingInstalled(_ fixture: ApplyFixture, _ weights: ServedFile, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(fixture.blobNames().isEmpty, "\(fixture.blobNames())", sourceLocation: sourceLocation)
    #expect(Stat(fixture.blob(weights)) == nil, sourceLocation: sourceLocation)
    #expect(Stat(fixture.view("alpha", "fp16", "weights.bin")) == nil, sourceLocation: sourceLocation)
  }

  // MARK: Longer than declared

  @Test func anEndlessBodyStopsAtTheDeclaredSizeAndIsDiscarded() throws {
    let (fixture, weights, result) = try Self.hostile { try $0.server.behave(path: "/alpha/weights.bin", mode: .endless) }
    Self.expectFailure(result, fixture, cause: "the source sent more than the declared 1048576 bytes)")
    Self.expectNothingInstalled(fixture, weights)
    #expect(fixture.temporaryFiles().isEmpty, "the .part is discarded: \(fixture.temporaryFiles())")
    #expect(try fixture.requests().count == 1, "a source sending too much is not asked again")
  }

  @Test func aBodyAnnouncedLargerThanDeclaredIsRefusedBeforeAByte() throws {
    let (fixture, weights, result) = try Self.hostile {
      try $0.server.behave(path: "/alpha/weights.bin", mode: .lie, length: 2 << 20)
    }
    Self.expectFailure(result, fixture, cause: "the source announces 2097152 bytes, more than the declared 1048576)")
    Self.expectNothingInstalled(fixture, weights)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
  }

  // MARK: Huge headers

  @Test(arguments: [(1 << 20, false), (256 << 10, true)])
  func hugeResponseHeadersAreAClearError(bytes: Int, oneLine: Bool) throws {
    let (fixture, weights, result) = try Self.hostile {
      try $0.server.behave(path: "/alpha/weights.bin", mode: .hugeHeaders, headerBytes: bytes, oneLine: oneLine)
    }
    Self.expectFailure(result, fixture, cause: "the response headers are larger than reconcile accepts (256 KiB in all, 100 KiB a line))")
    Self.expectNothingInstalled(fixture, weights)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
    #expect(!result.stderr.contains("aaaaaaaa"), "no header value is echoed")
  }

  // MARK: A drip

  @Test func aDripIsAbandonedAfterTheStallTimeout() throws {
    let (fixture, weights, result) = try Self.hostile(policy: Self.policy(attempts: 1, "stall_timeout: 2s")) {
      try $0.server.behave(path: "/alpha/weights.bin", mode: .throttle, rate: 1)
    }
    Self.expectFailure(result, fixture, cause: "too slow: ")
    #expect(result.stderr.contains(" s, under 1 KiB/s)"), "\(result.stderr)")
    Self.expectNothingInstalled(fixture, weights)
    // The few bytes that came are kept for a resume; they are never visible.
    let parts = fixture.temporaryFiles().filter { $0.hasSuffix(".part") }
    #expect(parts.allSatisfy { (Stat(fixture.root.temporary + "/" + $0)?.size ?? 0) < 64 }, "\(parts)")
  }

  // MARK: Content-Length lies

  @Test func contentLengthBelowWhatIsSentFailsTheSHA256Check() throws {
    let (fixture, weights, result) = try Self.hostile {
      try $0.server.behave(path: "/alpha/weights.bin", mode: .lie, length: (1 << 20) - 65536, limit: 1 << 20)
    }
    Self.expectFailure(result, fixture, cause: "served other content (sha256 ")
    #expect(result.stderr.contains("\(983040) bytes; expected \(weights.digest.short)…, 1048576 bytes)"), "\(result.stderr)")
    Self.expectNothingInstalled(fixture, weights)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
  }

  @Test func contentLengthAboveWhatIsSentIsATruncationEveryTime() throws {
    let (fixture, weights, result) = try Self.hostile {
      try $0.server.behave(path: "/alpha/weights.bin", mode: .lie, length: 1 << 20, limit: (1 << 20) - 65536)
    }
    Self.expectFailure(result, fixture, cause: "truncated after 983040 of 1048576 bytes)")
    Self.expectNothingInstalled(fixture, weights)
    #expect(try fixture.requests().count == 3, "a truncation is retried")
    // What arrived may be resumed by the next apply; it is never installed unverified.
    #expect(fixture.temporaryFiles().filter { $0.hasSuffix(".part") }.count <= 1, "\(fixture.temporaryFiles())")
  }

  // MARK: Credentials and redirects

  /// Where the source's redirect goes.
  enum Hop: String, CaseIterable, Sendable {
    /// Another server on 127.0.0.1: another port.
    case otherPort
    /// The same server as `localhost`: another host name.
    case otherHostName
  }

  @Test(arguments: Hop.allCases)
  func basicAuthFromTheURLIsNotSentToAnotherHost(_ hop: Hop) throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 256 << 10)
    try fixture.copy(weights, to: "moved/weights.bin")
    let other = try TestHTTPServer(serving: URL(fileURLWithPath: fixture.mirror))
    defer { other.stop() }
    let target = hop == .otherPort ? other.url("/moved/weights.bin") : "http://localhost:\(fixture.server.port)/moved/weights.bin"
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .redirect, location: target)
    let source = "http://reader:s3cret-pass@127.0.0.1:\(fixture.server.port)/alpha/"
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [source], variants: ["fp16": ["weights.bin": weights]])])

    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    let asked = try fixture.requests(endingIn: "/alpha/weights.bin")
    #expect(asked.count == 1 && asked[0].authorizationPresent, "the source's own host gets the credentials: \(asked)")
    let redirected = try (hop == .otherPort ? other.requests() : fixture.server.requests()).filter { $0.path == "/moved/weights.bin" }
    #expect(redirected.count == 1, "\(redirected)")
    #expect(redirected.allSatisfy { !$0.authorizationPresent }, "no Authorization to \(redirected.first?.host ?? "?")")
    if hop == .otherHostName { #expect(redirected.first?.host == "localhost:\(fixture.server.port)") }
    // The password is in neither the plan nor a progress line, nor in the history.
    #expect(!result.stderr.contains("s3cret") && !result.stdout.contains("s3cret"), "\(result.stdout)\(result.stderr)")
    #expect(result.stderr.contains("from http://127.0.0.1:\(fixture.server.port)/alpha/weights.bin"), "\(result.stderr)")
    let history = try fixture.reconcile("history")
    #expect(history.status == 0 && !history.stdout.contains("s3cret"), "\(history.stdout)")
  }
}
