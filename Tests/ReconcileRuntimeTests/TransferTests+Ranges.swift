import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// A big file over several connections at once, against the real test server.
@Suite struct RangedTransferTests {
  let directory: ScratchDirectory
  let server: TestHTTPServer
  let data: [UInt8]
  let path = "/big/model.bin"

  init() throws {
    directory = try ScratchDirectory("ranges")
    let served = directory.url.appendingPathComponent("served")
    data = randomBytes(16 << 20) + randomBytes(16 << 20) + randomBytes(8 << 20)
    try FileManager.default.createDirectory(at: served.appendingPathComponent("big"), withIntermediateDirectories: true)
    try Data(data).write(to: served.appendingPathComponent("big/model.bin"))
    server = try TestHTTPServer(serving: served)
  }

  var partial: String { directory.path("big.part") }

  func request(connections: Int) -> TransferRequest {
    var request = TransferRequest(url: server.url(path), destination: partial, expectedSize: Int64(data.count))
    request.connections = connections
    return request
  }

  @Test func theRangesMakeTheWholeFileAndItsDigest() throws {
    let result = try HTTPTransfer(directIO: false).fetch(request(connections: 6))
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(result.bytes == Int64(data.count))
    #expect(FileManager.default.contents(atPath: partial) == Data(data))
    let log = try server.requests()
    #expect(log.filter { $0.method == "HEAD" }.count == 1, "\(log)")
    let ranges = log.filter { $0.method == "GET" }.compactMap(\.range).sorted()
    #expect(ranges.count == 6, "six connections, one range each: \(ranges)")
    // The ranges tile the file without gaps or overlaps.
    var next: Int64 = 0
    for range in log.filter({ $0.method == "GET" }).compactMap(\.range).map(Self.bounds).sorted(by: { $0.0 < $1.0 }) {
      #expect(range.0 == next)
      next = range.1 + 1
    }
    #expect(next == Int64(data.count))
  }

  @Test func aServerWithoutRangesGetsOneStream() throws {
    try server.behave(path: path, mode: .ignoreRange)
    let result = try HTTPTransfer(directIO: false).fetch(request(connections: 6))
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: partial) == Data(data))
  }

  @Test func aCancelledRangedDownloadKeepsItsContiguousPrefixAndResumes() throws {
    try server.behave(path: path, mode: .throttle, rate: 4 << 20)
    let cancellation = CancellationFlag()
    var first = request(connections: 4)
    first.cancellation = cancellation
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.8) { cancellation.cancel(reason: "test") }
    #expect(throws: TransferError.self) { try HTTPTransfer(directIO: false).fetch(first) }
    let kept = Int((try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0)
    #expect(kept < data.count, "cancelled before the end")
    // What is kept is a prefix of the file: no hole, nothing from a later range.
    let prefix = FileManager.default.contents(atPath: partial) ?? Data()
    #expect(prefix == Data(data.prefix(prefix.count)))

    try server.reset()
    let result = try HTTPTransfer(directIO: false).fetch(request(connections: 4))
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: partial) == Data(data))
    if kept > 0 {
      let ranges = try server.requests().filter { $0.method == "GET" }.compactMap(\.range).map(Self.bounds)
      #expect(ranges.map(\.0).min() == Int64(kept), "the resume asks only for what is missing: \(ranges)")
    }
  }

  @Test func splitCoversTheRestInEvenRanges() {
    #expect(RangedDownload.split(from: 0, to: 100 << 20, connections: 4).map { $0.1 - $0.0 + 1 } == Array(repeating: 25 << 20, count: 4))
    #expect(RangedDownload.split(from: 10, to: 11, connections: 8).count == 1, "no range under the minimum but the only one")
    #expect(RangedDownload.split(from: 5, to: 5, connections: 8).isEmpty)
    let odd = RangedDownload.split(from: 3, to: (64 << 20) + 7, connections: 16)
    #expect(odd.first?.0 == 3 && odd.last?.1 == (64 << 20) + 6)
    #expect(zip(odd, odd.dropFirst()).allSatisfy { $0.1 + 1 == $1.0 })
  }

  static func bounds(_ header: String) -> (Int64, Int64) {
    let parts = header.replacingOccurrences(of: "bytes=", with: "").split(separator: "-")
    return (Int64(parts.first ?? "") ?? -1, Int64(parts.dropFirst().first ?? "") ?? -1)
  }
}
