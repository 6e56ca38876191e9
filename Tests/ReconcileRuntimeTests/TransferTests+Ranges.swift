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

  @Test func aCancelledRangedDownloadKeepsWhatItWroteAndResumes() throws {
    try server.behave(path: path, mode: .throttle, rate: 4 << 20)
    let cancellation = CancellationFlag()
    var first = request(connections: 4)
    first.cancellation = cancellation
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.8) { cancellation.cancel(reason: "test") }
    #expect(throws: TransferError.self) { try HTTPTransfer(directIO: false).fetch(first) }
    let kept = try #require(keptAfterStop())
    #expect(kept.bytes < Int64(data.count), "cancelled before the end")
    try expectOnDisk(kept)

    try server.reset()
    let result = try HTTPTransfer(directIO: false).fetch(request(connections: 4))
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: partial) == Data(data))
    try expectFetched(exactly: ByteSpans.missing(kept.spans, in: kept.prefix..<Int64(data.count)))
  }

  /// The first range crawls while the others finish; the cancelled download keeps them, and the
  /// resume asks for nothing but the rest of the first range.
  @Test func rangesThatFinishedAfterAHoleAreKept() throws {
    try server.behave(path: path, mode: .throttle, rate: 2 << 20, rangeFrom: 0)
    let cancellation = CancellationFlag()
    var first = request(connections: 4)
    first.cancellation = cancellation
    let quarter = Int64(data.count / 4)
    let watcher = Thread { [partial] in
      // Cancelled once the sidecar lists the three later ranges as done.
      let deadline = Date().addingTimeInterval(60)
      while Date() < deadline {
        if let metadata = PartialMetadata.load(for: partial), ByteSpans.ranges(metadata.done ?? []).contains(quarter..<Int64(4 * quarter)) { break }
        Thread.sleep(forTimeInterval: 0.01)
      }
      cancellation.cancel(reason: "test")
    }
    watcher.start()
    #expect(throws: TransferError.self) { try HTTPTransfer(directIO: false).fetch(first) }
    let kept = try #require(keptAfterStop())
    #expect(kept.spans == [quarter..<Int64(data.count)], "the three later ranges, merged")
    #expect(kept.prefix > 0 && kept.prefix < quarter, "the first range had started, not finished: \(kept.prefix)")
    try expectOnDisk(kept)

    try server.reset()
    let result = try HTTPTransfer(directIO: false).fetch(request(connections: 4))
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: partial) == Data(data))
    #expect(!result.restarted)
    try expectFetched(exactly: [kept.prefix..<quarter])
  }

  /// A sidecar as a killed run leaves it (the holes hold zeros): only the holes are fetched, the
  /// spans are read back from disk, and the digest covers every byte.
  /// Sidecar spans that all keep `[20, 30)` and `[35, 40)` MiB of the 40 MiB file.
  static let recordedSpans: [[[Int64]]] = [
    // Sorted spans.
    [[20 << 20, 30 << 20], [35 << 20, 40 << 20]],
    // Unsorted, overlapping, touching, and values no run writes: negative, reversed, past the end.
    [[35 << 20, 1 << 62], [22 << 20, 30 << 20], [20 << 20, 25 << 20], [-9, -1], [39 << 20, 3]],
  ]

  @Test(arguments: recordedSpans)
  func aResumeFetchesOnlyTheHolesTheSidecarLeaves(done: [[Int64]]) throws {
    let prefix: Int64 = 5 << 20
    let spans: [Range<Int64>] = [(20 << 20)..<(30 << 20), (35 << 20)..<Int64(data.count)]
    var onDisk = [UInt8](repeating: 0, count: data.count)
    for span in [0..<prefix] + spans { onDisk.replaceSubrange(Int(span.lowerBound)..<Int(span.upperBound), with: data[Int(span.lowerBound)..<Int(span.upperBound)]) }
    try Data(onDisk).write(to: URL(fileURLWithPath: partial))
    let probe = try #require(RangeProbe.run(request(connections: 4), expected: Int64(data.count), userAgent: "test"))
    var metadata = PartialMetadata(url: server.url(path), etag: probe.etag, lastModified: nil)
    metadata.validPrefix = prefix
    metadata.done = done
    try metadata.save(for: partial)
    try server.reset()

    let result = try HTTPTransfer(directIO: false).fetch(request(connections: 4))
    #expect(result.digest == SHA256Hasher.digest(data))
    #expect(FileManager.default.contents(atPath: partial) == Data(data))
    #expect(result.resumedFrom == 20 << 20 && !result.restarted, "the prefix and the spans were kept")
    #expect(!FileManager.default.fileExists(atPath: PartialMetadata.path(for: partial)), "the sidecar goes with the finished file")
    try expectFetched(exactly: [prefix..<(20 << 20), (30 << 20)..<(35 << 20)])
    let ranges = try server.requests().filter { $0.method == "GET" }.compactMap(\.byteRange)
    #expect(ranges.count == 4, "20 MiB missing over four connections: the big hole is cut in three: \(ranges)")
  }

  /// The source's content changed since the ranges were written: nothing is spliced.
  @Test func newContentDropsTheKeptSpans() throws {
    try server.behave(path: path, mode: .throttle, rate: 2 << 20, rangeFrom: 0)
    let cancellation = CancellationFlag()
    var first = request(connections: 4)
    first.cancellation = cancellation
    let watcher = Thread { [partial] in
      let deadline = Date().addingTimeInterval(60)
      while Date() < deadline, (PartialMetadata.load(for: partial)?.done ?? []).isEmpty { Thread.sleep(forTimeInterval: 0.01) }
      cancellation.cancel(reason: "test")
    }
    watcher.start()
    #expect(throws: TransferError.self) { try HTTPTransfer(directIO: false).fetch(first) }
    let kept = try #require(keptAfterStop())
    try #require(!kept.spans.isEmpty, "a later range finished before the cancellation")

    let fresh = randomBytes(16 << 20) + randomBytes(16 << 20) + randomBytes(8 << 20)
    try Data(fresh).write(to: directory.url.appendingPathComponent("served/big/model.bin"))
    try server.reset()
    let result = try HTTPTransfer(directIO: false).fetch(request(connections: 4))
    #expect(result.digest == SHA256Hasher.digest(fresh))
    #expect(result.restarted)
    #expect(FileManager.default.contents(atPath: partial) == Data(fresh))
    try expectFetched(exactly: [0..<Int64(fresh.count)])
  }

  /// What the sidecar says is kept after a stopped download.
  func keptAfterStop() -> ByteSpans.Kept? {
    let size = Int64((try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0)
    return PartialMetadata.load(for: partial)?.kept(fileSize: size, expected: Int64(data.count))
  }

  /// Every kept byte is on disk as the source has it.
  func expectOnDisk(_ kept: ByteSpans.Kept, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let onDisk = [UInt8](FileManager.default.contents(atPath: partial) ?? Data())
    for span in [0..<kept.prefix] + kept.spans {
      let bounds = Int(span.lowerBound)..<Int(span.upperBound)
      #expect(onDisk.count >= bounds.upperBound && onDisk[bounds] == data[bounds], "\(span)", sourceLocation: sourceLocation)
    }
  }

  /// The ranges asked for since the last reset are `spans` exactly: no byte twice, none else,
  /// every one conditional on the same content.
  func expectFetched(exactly spans: [Range<Int64>], sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let gets = try server.requests().filter { $0.method == "GET" }
    let ranges = gets.compactMap(\.byteRange)
    #expect(ranges.count == gets.count, "every GET asks for a range: \(gets)", sourceLocation: sourceLocation)
    #expect(ByteSpans.merge(ranges) == ByteSpans.merge(spans), "\(ranges)", sourceLocation: sourceLocation)
    #expect(ranges.reduce(0) { $0 + $1.count } == spans.reduce(0) { $0 + $1.count }, "\(ranges)", sourceLocation: sourceLocation)
    #expect(gets.allSatisfy { $0.ifRange != nil }, sourceLocation: sourceLocation)
  }

  static func bounds(_ header: String) -> (Int64, Int64) {
    let parts = header.replacingOccurrences(of: "bytes=", with: "").split(separator: "-")
    return (Int64(parts.first ?? "") ?? -1, Int64(parts.dropFirst().first ?? "") ?? -1)
  }
}
