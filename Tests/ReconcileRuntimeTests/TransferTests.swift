import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// HTTPTransfer against a real server on 127.0.0.1 serving real files, and FileTransfer on real files.
@Suite struct TransferTests {
  let directory: ScratchDirectory
  let served: URL
  let server: TestHTTPServer
  /// 8 MiB of random bytes served as `/models/model.bin`.
  let data: [UInt8]
  let path = "/models/model.bin"

  init() throws {
    directory = try ScratchDirectory("transfer")
    served = directory.url.appendingPathComponent("served")
    data = randomBytes(8 << 20)
    try FileManager.default.createDirectory(at: served.appendingPathComponent("models"), withIntermediateDirectories: true)
    try Data(data).write(to: served.appendingPathComponent("models/model.bin"))
    server = try TestHTTPServer(serving: served)
  }

  var expected: Digest { SHA256Hasher.digest(data) }
  var partial: String { directory.path("blob.part") }

  func request(_ path: String? = nil, expectedSize: Int64? = nil) -> TransferRequest {
    TransferRequest(url: server.url(path ?? self.path), destination: partial, expectedSize: expectedSize ?? Int64(data.count))
  }

  /// The transfer's error, or a test failure when it succeeded.
  func failure(_ request: TransferRequest) -> TransferError? { failure(HTTPTransfer(), request) }

  /// The transfer's error, or a test failure when it succeeded.
  func failure(_ transfer: any Transfer, _ request: TransferRequest) -> TransferError? {
    do {
      let result = try transfer.fetch(request)
      Issue.record("expected an error, got \(result)")
      return nil
    } catch {
      return error
    }
  }

  func write(_ data: Data, to path: String) throws { try data.write(to: URL(fileURLWithPath: path)) }

  func partialBytes() -> Data { FileManager.default.contents(atPath: partial) ?? Data() }

  // MARK: HTTP

  @Test(arguments: [true, false])
  func fetchesAFileAndItsDigest(directIO: Bool) throws {
    let reports = Locked<[Int64]>([])
    var request = request()
    request.progress = { written, _ in reports.update { $0.append(written) } }
    let result = try HTTPTransfer(directIO: directIO).fetch(request)
    #expect(result.digest == expected)
    #expect(result.bytes == Int64(data.count) && result.resumedFrom == 0 && !result.restarted && result.status == 200)
    #expect(result.etag?.hasPrefix("\"") == true)
    #expect(partialBytes() == Data(data))
    #expect(!FileManager.default.fileExists(atPath: PartialMetadata.path(for: partial)), "the sidecar goes when the file is complete")
    #expect(reports.value.last == Int64(data.count))
  }

  @Test func resumesAfterATruncatedBodyWithRangeAndIfRange() throws {
    try server.behave(path: path, mode: .truncate, count: 1)
    let cut = try #require(failure(request()))
    #expect(cut.kind == .network && cut.isRetryable)
    #expect(cut.message.contains("truncated after"), "\(cut)")
    let kept = partialBytes().count
    #expect(kept > 0 && kept < data.count)
    let metadata = try #require(PartialMetadata.load(for: partial))

    let result = try HTTPTransfer().fetch(request())
    #expect(result.digest == expected)
    #expect(result.resumedFrom == Int64(kept) && result.status == 206 && !result.restarted)
    #expect(partialBytes() == Data(data))
    let resume = try #require(try server.requests().last)
    #expect(resume.range == "bytes=\(kept)-")
    #expect(resume.ifRange == metadata.etag && metadata.etag != nil)
  }

  @Test func resumesAPartialFileWithoutSidecar() throws {
    try write(Data(data.prefix(3_000_000)), to: partial)
    let result = try HTTPTransfer().fetch(request())
    #expect(result.digest == expected && result.resumedFrom == 3_000_000 && result.status == 206)
    let resume = try #require(try server.requests().last)
    #expect(resume.range == "bytes=3000000-" && resume.ifRange == nil)
  }

  @Test func aResumedFileIsVerifiedInFull() throws {
    var corrupt = Array(data.prefix(3_000_000))
    corrupt[1000] ^= 0xff
    try write(Data(corrupt), to: partial)
    let result = try HTTPTransfer().fetch(request())
    #expect(result.resumedFrom == 3_000_000)
    #expect(result.digest != expected, "the corrupted prefix shows in the digest")
  }

  @Test func serverIgnoringRangeRestartsTheFile() throws {
    try write(Data(data.prefix(3_000_000)), to: partial)
    try server.behave(path: path, mode: .ignoreRange)
    let result = try HTTPTransfer().fetch(request())
    #expect(result.digest == expected && result.restarted && result.resumedFrom == 0 && result.status == 200)
    #expect(partialBytes() == Data(data))
  }

  @Test func changedFileOnTheServerIsFetchedWhole() throws {
    try server.behave(path: path, mode: .truncate, count: 1)
    _ = failure(request())
    let oldTag = try #require(PartialMetadata.load(for: partial)?.etag)
    let replacement = randomBytes(data.count + 100)
    try Data(replacement).write(to: served.appendingPathComponent("models/model.bin"))

    let result = try HTTPTransfer().fetch(request(expectedSize: Int64(replacement.count)))
    #expect(result.digest == SHA256Hasher.digest(replacement))
    #expect(result.restarted && result.status == 200 && result.bytes == Int64(replacement.count))
    #expect(result.etag != oldTag)
    let last = try #require(try server.requests().last)
    #expect(last.ifRange == oldTag && last.range != nil)
  }

  @Test func completePartialFileAnswered416IsDone() throws {
    try write(Data(data), to: partial)
    let result = try HTTPTransfer().fetch(request())
    #expect(result.status == 416 && result.digest == expected && result.bytes == Int64(data.count))
  }

  @Test func followsRedirects() throws {
    try server.behave(path: "/latest/model.bin", mode: .redirect, location: path)
    let result = try HTTPTransfer().fetch(request("/latest/model.bin"))
    #expect(result.digest == expected && result.status == 200)
    #expect(try server.requests().map(\.path) == ["/latest/model.bin", path])
  }

  @Test func redirectLoopIsFinal() throws {
    try server.behave(path: "/loop", mode: .redirect, location: "/loop")
    let error = try #require(failure(request("/loop")))
    #expect(error.kind == .network && !error.isRetryable && error.message == "more than 10 redirects")
  }

  @Test func serverErrorIsRetryableAndTheNextAttemptSucceeds() throws {
    try server.behave(path: path, mode: .fail, count: 1, status: 500)
    let error = try #require(failure(request()))
    #expect(error.kind == .http(500) && error.isRetryable)
    #expect(error.description == "\(server.url(path)): HTTP 500 Internal Server Error")
    #expect(try HTTPTransfer().fetch(request()).digest == expected)
  }

  @Test(arguments: [(429, true), (503, true), (408, true), (401, false), (403, false), (410, false)])
  func statusRetryability(status: Int, retryable: Bool) throws {
    try server.behave(path: path, mode: .status, status: status)
    let error = try #require(failure(request()))
    #expect(error.kind == .http(status) && error.isRetryable == retryable)
  }

  @Test func notFoundIsFinalAndNamesTheURL() throws {
    let error = try #require(failure(request("/models/missing.bin")))
    #expect(error.kind == .http(404) && !error.isRetryable)
    #expect(error.description == "\(server.url("/models/missing.bin")): HTTP 404 Not Found")
  }

  @Test func headersAreSentButNeverReported() throws {
    try server.behave(path: path, mode: .status, status: 401)
    var request = request()
    request.headers = ["Authorization": "Bearer hf_secret_token_value"]
    let error = try #require(failure(request))
    #expect(error.kind == .http(401))
    #expect(!error.description.contains("secret"))
    #expect(try server.requests().last?.authorizationPresent == true)
  }

  @Test func wrongBytesSucceedWithAnotherDigest() throws {
    try server.behave(path: path, mode: .wrongBytes)
    let result = try HTTPTransfer().fetch(request())
    #expect(result.bytes == Int64(data.count))
    #expect(result.digest != expected)
    #expect(result.digest == SHA256Hasher.digest(partialBytes()))
  }

  @Test func stalledServerIsAbandoned() throws {
    try server.behave(path: path, mode: .stall)
    var request = request()
    request.stallTimeout = 2
    let error = try #require(failure(request))
    #expect(error.kind == .stalled && error.isRetryable)
    #expect(error.message == "timed out after 2 s without data")
    #expect(partialBytes().count == 64 * 1024, "what arrived is kept for the next attempt")
  }

  @Test func bodyLongerThanExpectedIsTooLarge() throws {
    let error = try #require(failure(request(expectedSize: Int64(data.count) - 1)))
    #expect(error.kind == .tooLarge && !error.isRetryable)
    #expect(partialBytes().isEmpty)
  }

  @Test func cancellationStopsAThrottledTransfer() throws {
    try server.behave(path: path, mode: .throttle, rate: 256 * 1024)
    let flag = CancellationFlag()
    var request = request()
    request.cancellation = flag
    request.progress = { written, _ in if written > 0 { flag.cancel() } }
    let error = try #require(failure(request))
    #expect(error.kind == .cancelled && !error.isRetryable)
    #expect(partialBytes().count < data.count)
  }

  @Test func refusedConnectionIsARetryableNetworkError() throws {
    let port = server.port
    server.stop()
    var request = request()
    request.url = "http://127.0.0.1:\(port)\(path)"
    let error = try #require(failure(request))
    #expect(error.kind == .network && error.isRetryable)
    #expect(error.message == "connection refused")
  }

  @Test func fullDiskIsReportedAndFinal() throws {
    try FileManager.default.createSymbolicLink(atPath: partial, withDestinationPath: "/dev/full")
    let error = try #require(failure(request()))
    #expect(error.kind == .diskFull && !error.isRetryable)
    #expect(error.message.contains("no space left"))
  }

  @Test func otherSchemesAreUnsupported() {
    let error = failure(TransferRequest(url: "ftp://example.com/x", destination: partial))
    #expect(error?.kind == .unsupported)
  }

  // MARK: file://

  var sourceFile: String { served.appendingPathComponent("models/model.bin").path }

  @Test func copiesAFileURL() throws {
    let result = try FileTransfer().fetch(TransferRequest(url: "file://" + sourceFile, destination: partial))
    #expect(result.digest == expected && result.bytes == Int64(data.count) && result.resumedFrom == 0)
    #expect(partialBytes() == Data(data))
  }

  @Test func resumesAFileURL() throws {
    try write(Data(data.prefix(5_000_000)), to: partial)
    let result = try FileTransfer().fetch(TransferRequest(url: "file://" + sourceFile, destination: partial))
    #expect(result.digest == expected && result.resumedFrom == 5_000_000)
    #expect(partialBytes() == Data(data))
  }

  @Test func changedSourceFileRestartsTheCopy() throws {
    try write(Data(data.prefix(5_000_000)), to: partial)
    try PartialMetadata(url: "file://" + sourceFile, etag: "\"1-1\"", lastModified: nil).save(for: partial)
    let result = try FileTransfer().fetch(TransferRequest(url: "file://" + sourceFile, destination: partial))
    #expect(result.digest == expected && result.restarted && result.resumedFrom == 0)
  }

  @Test func missingFileURLIsNotFound() throws {
    let missing = directory.path("nowhere/model.bin")
    let error = try #require(failure(FileTransfer(), TransferRequest(url: "file://" + missing, destination: partial)))
    #expect(error.kind == .http(404) && !error.isRetryable)
    #expect(error.message == "not found: \(missing)")
  }

  @Test func fileURLLargerThanExpectedIsTooLarge() throws {
    let request = TransferRequest(url: "file://" + sourceFile, destination: partial, expectedSize: 10)
    #expect(failure(FileTransfer(), request)?.kind == .tooLarge)
  }

  @Test(.enabled(if: getuid() != 0, "root reads every file"))
  func unreadableFileURLIsForbidden() throws {
    chmod(sourceFile, 0)
    let error = try #require(failure(FileTransfer(), TransferRequest(url: "file://" + sourceFile, destination: partial)))
    #expect(error.kind == .http(403) && error.message == "permission denied: \(sourceFile)")
  }
}

/// A value shared with callbacks on other threads.
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Value
  init(_ value: Value) { stored = value }
  var value: Value { lock.withLock { stored } }
  func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
