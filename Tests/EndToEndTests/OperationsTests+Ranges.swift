import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// An apply killed outright (SIGKILL, no cleanup) while its ranges finish out of order.
extension OperationsTests {
  /// One model with a 64 MiB file, fetched in eight 8 MiB ranges (the default eight connections):
  /// the first range is served at 512 KiB/s, the others at once.
  static func crawlingFirstRange(_ fixture: ApplyFixture) throws -> ServedFile {
    let weights = try fixture.makeFile("alpha/weights.bin", size: 64 << 20)
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .throttle, rate: 512 << 10, rangeFrom: 0)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    return weights
  }

  /// Starts an apply, kills it once its sidecar lists every range but the first as done, and
  /// returns what that sidecar keeps: what the next apply starts from.
  static func killAfterTheLaterRanges(_ fixture: ApplyFixture, size: Int64) throws -> ByteSpans.Kept {
    let apply = try fixture.start("apply", ["--auto-approve"])
    let first = size / 8
    let ready = waitUntil(timeout: 60) { sidecarKept(fixture, size: size)?.spans == [first..<size] }
    try #require(ready && apply.isRunning, "the later ranges should be done while the first one crawls")
    apply.kill()
    let kept = try #require(sidecarKept(fixture, size: size))
    #expect(kept.spans == [first..<size], "the seven later ranges, merged")
    #expect(kept.prefix < first, "the first range had not finished: \(kept.prefix)")
    // Every byte the sidecar keeps is on disk.
    let part = try #require(fixture.temporaryFiles().first { $0.hasSuffix(".part") })
    let onDisk = try #require(FileManager.default.contents(atPath: fixture.root.temporary + "/" + part))
    let served = try #require(FileManager.default.contents(atPath: fixture.mirror + "/alpha/weights.bin"))
    for span in [0..<kept.prefix] + kept.spans {
      let bounds = Int(span.lowerBound)..<Int(span.upperBound)
      #expect(onDisk.count >= bounds.upperBound && onDisk[bounds] == served[bounds], "\(span)")
    }
    return kept
  }

  /// What the sidecar of the one partial download keeps, read as a resume reads it.
  static func sidecarKept(_ fixture: ApplyFixture, size: Int64) -> ByteSpans.Kept? {
    for name in fixture.temporaryFiles() where name.hasSuffix(".part") {
      let path = fixture.root.temporary + "/" + name
      guard let metadata = PartialMetadata.load(for: path), let length = Stat(path)?.size else { continue }
      return metadata.kept(fileSize: length, expected: size)
    }
    return nil
  }

  /// The byte ranges the source was asked for, after checking that every GET asked for one
  /// under `If-Range`.
  static func fetchedRanges(_ fixture: ApplyFixture) throws -> [Range<Int64>] {
    let gets = try fixture.requests(endingIn: "/weights.bin").filter { $0.method == "GET" }
    #expect(gets.allSatisfy { $0.byteRange != nil && $0.ifRange != nil }, "every GET a conditional range: \(gets)")
    return gets.compactMap(\.byteRange)
  }

  @Test func aKilledRangedDownloadKeepsTheRangesThatFinishedAfterAHole() throws {
    let fixture = try ApplyFixture()
    let weights = try Self.crawlingFirstRange(fixture)
    let size = Int64(weights.size)
    let kept = try Self.killAfterTheLaterRanges(fixture, size: size)

    try fixture.server.reset()
    let again = try fixture.apply()
    #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    let ranges = try Self.fetchedRanges(fixture)
    #expect(ByteSpans.merge(ranges) == [kept.prefix..<(size / 8)], "only the rest of the first range: \(ranges)")
    #expect(ranges.reduce(0) { $0 + Int64($1.count) } == size / 8 - kept.prefix, "no byte twice: \(ranges)")
    let (digest, length) = try FileHasher.digest(ofFileAt: fixture.blob(weights))
    #expect(digest == weights.digest && length == size)
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
  }

  @Test func aKilledRangedDownloadOfContentThatChangedStartsOver() throws {
    let fixture = try ApplyFixture()
    let weights = try Self.crawlingFirstRange(fixture)
    let size = Int64(weights.size)
    _ = try Self.killAfterTheLaterRanges(fixture, size: size)
    // The same bytes with a new modification time: the server's ETag changes, so what was kept
    // may be of other content.
    try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: weights.location)

    try fixture.server.reset()
    let again = try fixture.apply()
    #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    let ranges = try Self.fetchedRanges(fixture)
    #expect(ByteSpans.merge(ranges) == [0..<size], "the whole file again: \(ranges)")
    #expect(ranges.reduce(0) { $0 + Int64($1.count) } == size, "no byte twice: \(ranges)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    #expect(fixture.temporaryFiles().isEmpty, "\(fixture.temporaryFiles())")
  }
}
