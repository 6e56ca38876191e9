import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// HTTPTransfer against servers that ask for patience (`Retry-After`) or misbehave on purpose:
/// endless bodies, huge headers, a drip, silence, lying `Content-Length`, and redirects that
/// must not carry credentials to another host. Every server is the real test server.
extension TransferTests {
  // MARK: Retry-After

  @Test(arguments: [(503, "7"), (429, "120"), (503, "0")])
  func retryAfterInSecondsIsReported(status: Int, value: String) throws {
    try server.behave(path: path, mode: .status, status: status, retryAfter: value)
    let error = try #require(failure(request()))
    #expect(error.kind == .http(status) && error.isRetryable)
    #expect(error.retryAfter == Double(value))
  }

  @Test func retryAfterAsAnHTTPDateIsTheSecondsUntilThen() throws {
    try server.behave(path: path, mode: .status, status: 429, retryAfter: "date:30")
    let error = try #require(failure(request()))
    let seconds = try #require(error.retryAfter)
    // The date has whole seconds: 29 to 30 s from when the server answered.
    #expect(seconds > 20 && seconds <= 30, "\(seconds)")
  }

  @Test func retryAfterOnOtherStatusesMeansNothing() throws {
    try server.behave(path: path, mode: .status, status: 500, retryAfter: "60")
    let error = try #require(failure(request()))
    #expect(error.kind == .http(500) && error.retryAfter == nil)
  }

  // MARK: Bodies longer than declared

  @Test func anEndlessBodyStopsAtTheDeclaredSize() throws {
    try server.behave(path: path, mode: .endless)
    let error = try #require(failure(request()))
    #expect(error.kind == .tooLarge && !error.isRetryable)
    #expect(error.message == "the source sent more than the declared \(data.count) bytes")
    #expect(partialBytes().count <= data.count, "never a byte past the declared size")
  }

  @Test func aContentLengthAboveTheDeclaredSizeIsRefusedBeforeAnyByte() throws {
    try server.behave(path: path, mode: .lie, length: data.count + (1 << 20))
    let error = try #require(failure(request()))
    #expect(error.kind == .tooLarge && !error.isRetryable)
    #expect(error.message == "the source announces \(data.count + (1 << 20)) bytes, more than the declared \(data.count)")
    #expect(partialBytes().isEmpty)
  }

  // MARK: Lying Content-Length

  @Test func aContentLengthBelowWhatIsSentEndsTheFileShortWithAnotherDigest() throws {
    try server.behave(path: path, mode: .lie, length: data.count - 65536, limit: data.count)
    let result = try HTTPTransfer().fetch(request())
    #expect(result.bytes == Int64(data.count - 65536))
    #expect(result.digest != expected, "the caller's SHA-256 check refuses it")
  }

  @Test func aContentLengthAboveWhatIsSentIsATruncation() throws {
    try server.behave(path: path, mode: .lie, length: data.count, limit: data.count - 65536)
    let error = try #require(failure(request()))
    #expect(error.kind == .network && error.isRetryable)
    #expect(error.message == "truncated after \(data.count - 65536) of \(data.count) bytes")
  }

  // MARK: Huge headers

  @Test(arguments: [(1 << 20, false), (256 << 10, true)])
  func hugeHeadersAreRefused(bytes: Int, oneLine: Bool) throws {
    try server.behave(path: path, mode: .hugeHeaders, headerBytes: bytes, oneLine: oneLine)
    let error = try #require(failure(request()))
    #expect(error.kind == .tooLarge && !error.isRetryable, "\(error)")
    #expect(error.message == "the response headers are larger than reconcile accepts (256 KiB in all, 100 KiB a line)", "\(error)")
    #expect(partialBytes().isEmpty)
  }

  @Test func headersOfANormalSizeAreFine() throws {
    try server.behave(path: path, mode: .hugeHeaders, headerBytes: 16 << 10)
    #expect(try HTTPTransfer().fetch(request()).digest == expected)
  }

  // MARK: Slow and silent servers

  @Test func aDripIsAbandonedAsTooSlow() throws {
    try server.behave(path: path, mode: .throttle, rate: 1)
    var request = request()
    request.stallTimeout = 2
    let error = try #require(failure(request))
    #expect(error.kind == .stalled && error.isRetryable)
    #expect(error.message.hasPrefix("too slow: "), "\(error)")
    #expect(error.message.hasSuffix(" s, under 1 KiB/s"), "\(error)")
  }

  @Test func aServerThatNeverAnswersIsAbandoned() throws {
    try server.behave(path: path, mode: .silent)
    var request = request()
    request.stallTimeout = 2
    let error = try #require(failure(request))
    #expect(error.kind == .stalled && error.isRetryable)
    #expect(error.description == "\(server.url(path)): timed out after 2 s without data")
  }

  @Test func aThrottledTransferIsNotTooSlow() throws {
    // 1 KiB at 256 B/s through the caller's throttle, with a 1 s stall timeout: 4 s of pauses
    // that are the caller's, not the source's.
    let bucket = BandwidthLimiter(bytesPerSecond: 256)
    var request = request()
    request.stallTimeout = 1
    request.throttle = { bucket.consume($0) }
    try server.behave(path: path, mode: .lie, length: 1024)
    let result = try HTTPTransfer().fetch(request)
    #expect(result.bytes == 1024)
  }

  // MARK: Credentials and redirects

  /// Where a redirect from `127.0.0.1:PORT/from/model.bin` goes, and whether the credentials
  /// go with it.
  enum Hop: String, CaseIterable, Sendable {
    case otherPort, otherHostName, samePlace
  }

  @Test(arguments: Hop.allCases)
  func credentialsStayWithTheirHost(_ hop: Hop) throws {
    let other = try TestHTTPServer(serving: served)
    defer { other.stop() }
    let target: String
    switch hop {
    case .otherPort: target = other.url(path)
    case .otherHostName: target = "http://localhost:\(server.port)\(path)"
    case .samePlace: target = path
    }
    for credentials in ["header", "userinfo"] {
      try server.reset()
      try other.reset()
      try server.behave(path: "/from/model.bin", mode: .redirect, location: target)
      var request = request("/from/model.bin")
      if credentials == "header" {
        request.headers = ["Authorization": "Bearer hf_secret"]
      } else {
        request.url = "http://user:secret@127.0.0.1:\(server.port)/from/model.bin"
      }
      try? FileManager.default.removeItem(atPath: partial)
      let result = try HTTPTransfer().fetch(request)
      #expect(result.digest == expected)
      let first = try server.requests().filter { $0.path == "/from/model.bin" }
      let second = try (hop == .otherPort ? other : server).requests().filter { $0.path == path }
      #expect(first.count == 1 && first.allSatisfy(\.authorizationPresent), "\(credentials): the first host gets them")
      #expect(second.count == 1, "\(credentials): \(second)")
      #expect(second.allSatisfy { $0.authorizationPresent == (hop == .samePlace) }, "\(hop) \(credentials): \(second)")
    }
  }
}

/// `Retry-After` values: delay-seconds and the three HTTP-date forms.
@Suite struct RetryAfterTests {
  static let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT

  @Test(arguments: [
    ("120", 120.0),
    (" 0 ", 0.0),
    ("99999999999999999999999", 1e23),
    ("Sun, 06 Nov 1994 08:50:37 GMT", 60.0),
    ("Sunday, 06-Nov-94 08:49:47 GMT", 10.0),
    ("Sun Nov  6 08:49:42 1994", 5.0),
    ("Sun, 06 Nov 1994 08:00:00 GMT", 0.0),  // in the past: at once
  ] as [(String, Double?)])
  func readsBothForms(_ value: String, _ expected: Double?) {
    #expect(RetryAfter.seconds(value, now: Self.now) == expected)
  }

  @Test(arguments: ["", "soon", "-5", "1.5", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 CET"])
  func anythingElseIsIgnored(_ value: String) {
    #expect(RetryAfter.seconds(value, now: Self.now) == nil)
  }
}
