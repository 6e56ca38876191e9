import Foundation
import Testing

@testable import ReconcileRuntime

/// The pure parts of a ranged resume: which spans are kept, which are missing, how the missing
/// ones are cut, and what a sidecar (old, damaged or hostile) decodes to.
@Suite struct ByteSpansTests {
  static let mib: Int64 = 1 << 20

  /// A prefix, spans and a file size, and what a resume keeps of them.
  static let keeps: [(Int64, [Range<Int64>], Int64, ByteSpans.Kept)] = [
    // Sorted and merged, overlapping and touching alike.
    (0, [30..<40, 10..<20, 15..<25, 40..<45], 100, ByteSpans.Kept(prefix: 0, spans: [10..<25, 30..<45])),
    // A span reaching the prefix is folded into it, and so is the next one it then reaches.
    (10, [5..<12, 12..<30, 50..<60], 100, ByteSpans.Kept(prefix: 30, spans: [50..<60])),
    // Clamped to the file: negative starts, ends past the size, a prefix past the size.
    (-7, [-5..<3, 90..<Int64.max, Int64.min..<(-1)], 100, ByteSpans.Kept(prefix: 3, spans: [90..<100])),
    (500, [10..<20], 100, ByteSpans.Kept(prefix: 100, spans: [])),
    (Int64.max, [], Int64.max, ByteSpans.Kept(prefix: Int64.max, spans: [])),
    // Empty spans, an empty file, a negative size.
    (0, [7..<7, 20..<30], 0, ByteSpans.Kept(prefix: 0, spans: [])),
    (4, [1..<9], -3, ByteSpans.Kept(prefix: 0, spans: [])),
  ]

  @Test(arguments: keeps)
  func keptSpansAreClampedSortedAndMerged(prefix: Int64, spans: [Range<Int64>], size: Int64, kept: ByteSpans.Kept) {
    #expect(ByteSpans.kept(prefix: prefix, spans: spans, size: size) == kept)
  }

  @Test func beyondTheLimitTheShortestSpansGo() {
    let spans = (0..<300).map { index -> Range<Int64> in
      let start = Int64(index) * 100 + 10
      return start..<(start + 1 + Int64(index % 7))
    }
    let kept = ByteSpans.kept(prefix: 0, spans: spans, size: 1 << 20)
    #expect(kept.spans.count == ByteSpans.maximumCount)
    #expect(zip(kept.spans, kept.spans.dropFirst()).allSatisfy { $0.upperBound < $1.lowerBound }, "sorted, disjoint, not touching")
    let shortestKept = kept.spans.map { $0.upperBound - $0.lowerBound }.min() ?? 0
    let dropped = Set(spans).subtracting(kept.spans)
    #expect(dropped.allSatisfy { $0.upperBound - $0.lowerBound <= shortestKept })
    #expect(ByteSpans.kept(prefix: 0, spans: [10..<20, 30..<40], size: 100, limit: -1).spans.isEmpty)
  }

  /// Spans present, the bounds, and the holes left.
  static let complements: [([Range<Int64>], Range<Int64>, [Range<Int64>])] = [
    ([], 0..<100, [0..<100]),
    ([10..<20, 40..<50], 0..<100, [0..<10, 20..<40, 50..<100]),
    ([0..<100], 0..<100, []),
    // Spans outside the bounds, overlapping and unsorted ones.
    ([150..<200, 60..<70, 5..<8, 55..<65], 10..<100, [10..<55, 70..<100]),
    ([0..<30], 20..<40, [30..<40]),
    ([30..<60], 20..<40, [20..<30]),
    ([Int64.min..<Int64.max], 20..<40, []),
  ]

  @Test(arguments: complements)
  func missingIsTheComplement(present: [Range<Int64>], bounds: Range<Int64>, holes: [Range<Int64>]) {
    #expect(ByteSpans.missing(present, in: bounds) == holes)
  }

  @Test func splitOfOneHoleIsTheEvenSplitOfBefore() {
    let mib = Self.mib
    #expect(ByteSpans.split([0..<(100 * mib)], connections: 4).map(\.count) == Array(repeating: Int(25 * mib), count: 4))
    #expect(ByteSpans.split([10..<11], connections: 8) == [10..<11], "no range under the minimum but the only one")
    #expect(ByteSpans.split([5..<5], connections: 8).isEmpty)
    #expect(ByteSpans.split([], connections: 8).isEmpty)
    let odd = ByteSpans.split([3..<(64 * mib + 7)], connections: 16)
    #expect(odd.count == 16 && odd.first?.lowerBound == 3 && odd.last?.upperBound == 64 * mib + 7)
    #expect(zip(odd, odd.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
  }

  /// Holes, connections, and the ranges they are cut into.
  static let splits: [([Range<Int64>], Int, [Range<Int64>])] = [
    // Two equal holes over four connections: each cut in two.
    ([0..<(16 << 20), (32 << 20)..<(48 << 20)], 4, [0..<(8 << 20), (8 << 20)..<(16 << 20), (32 << 20)..<(40 << 20), (40 << 20)..<(48 << 20)]),
    // A big hole is cut, a small one stays whole.
    ([0..<(1 << 20), (20 << 19)..<(80 << 19)], 4, [0..<(1 << 20), (20 << 19)..<(35 << 19), (35 << 19)..<(50 << 19), (50 << 19)..<(65 << 19), (65 << 19)..<(80 << 19)]),
    // More holes than connections: one range each.
    ([0..<10, 20..<30, 40..<50], 2, [0..<10, 20..<30, 40..<50]),
    // Connections below one count as one; negative starts are no holes.
    ([0..<(12 << 20), -5..<3], 0, [0..<(12 << 20)]),
  ]

  @Test(arguments: splits)
  func splitCutsEveryHole(holes: [Range<Int64>], connections: Int, ranges: [Range<Int64>]) {
    #expect(ByteSpans.split(holes, connections: connections) == ranges)
  }

  @Test func splitTilesTheHolesExactly() {
    let holes: [Range<Int64>] = [3..<(5 << 20), (9 << 20)..<(9 << 20) + 1, (20 << 20)..<(100 << 20) + 17]
    for connections in [1, 2, 3, 8, 64] {
      let ranges = ByteSpans.split(holes, connections: connections)
      #expect(ByteSpans.merge(ranges) == holes, "\(connections) connections")
      #expect(ranges.reduce(0) { $0 + $1.count } == holes.reduce(0) { $0 + $1.count })
      #expect(ranges.allSatisfy { !$0.isEmpty })
    }
    // Hostile sizes do not overflow.
    #expect(ByteSpans.split([0..<Int64.max, 0..<Int64.max], connections: 64).count >= 2)
  }

  @Test func anOldSidecarWithoutSpansStillDecodes() throws {
    let old = #"{"etag":"\"1-2\"","url":"http://h/x","validPrefix":8388608}"#
    let metadata = try JSONDecoder().decode(PartialMetadata.self, from: Data(old.utf8))
    #expect(metadata.etag == "\"1-2\"" && metadata.validPrefix == 8 << 20 && metadata.done == nil)
    #expect(metadata.kept(fileSize: 64 << 20, expected: 64 << 20) == ByteSpans.Kept(prefix: 8 << 20, spans: []))
    let single = try JSONDecoder().decode(PartialMetadata.self, from: Data(#"{"url":"http://h/x"}"#.utf8))
    #expect(single.kept(fileSize: 10, expected: 10) == nil, "one stream: no prefix, the whole file is the prefix")
  }

  /// Sidecars, and what a resume keeps of a 100-byte file by them.
  static let hostile: [(String, ByteSpans.Kept)] = [
    // Spans past the size, negative, overlapping, reversed, malformed pairs.
    (#"{"url":"u","validPrefix":4,"done":[[90,1000],[-5,2],[20,30],[25,40],[60,50],[7],[1,2,3]]}"#, ByteSpans.Kept(prefix: 4, spans: [20..<40, 90..<100])),
    // Numbers too big for 64 bits, or not integers: the field is dropped, the rest kept.
    (#"{"url":"u","validPrefix":4,"done":[[10,99999999999999999999999]]}"#, ByteSpans.Kept(prefix: 4, spans: [])),
    (#"{"url":"u","validPrefix":4,"done":[[10.5,20]]}"#, ByteSpans.Kept(prefix: 4, spans: [])),
    (#"{"url":"u","validPrefix":4,"done":"all"}"#, ByteSpans.Kept(prefix: 4, spans: [])),
    // No prefix yet (the first range had written nothing) while later ranges finished.
    (#"{"url":"u","validPrefix":0,"done":[[50,60]]}"#, ByteSpans.Kept(prefix: 0, spans: [50..<60])),
    (#"{"url":"u","validPrefix":-9,"done":[[9223372036854775806,9223372036854775807]]}"#, ByteSpans.Kept(prefix: 0, spans: [])),
    // A damaged prefix: nothing is trusted.
    (#"{"url":"u","validPrefix":1e40,"done":[[10,20]]}"#, ByteSpans.Kept(prefix: 0, spans: [])),
    (#"{"url":"u","validPrefix":"x","done":[[10,20]]}"#, ByteSpans.Kept(prefix: 0, spans: [])),
  ]

  @Test(arguments: hostile)
  func aHostileSidecarIsClamped(json: String, kept: ByteSpans.Kept?) throws {
    let metadata = try JSONDecoder().decode(PartialMetadata.self, from: Data(json.utf8))
    #expect(metadata.kept(fileSize: 100, expected: 100) == kept)
  }

  @Test func aSidecarWithHugeCountsIsBounded() throws {
    let pairs = (0..<50_000).map { "[\($0 * 10),\($0 * 10 + 5)]" }.joined(separator: ",")
    let json = #"{"url":"u","validPrefix":0,"done":["# + pairs + "]}"
    let metadata = try JSONDecoder().decode(PartialMetadata.self, from: Data(json.utf8))
    let kept = try #require(metadata.kept(fileSize: 1 << 30, expected: 1 << 30))
    #expect(kept.spans.count == ByteSpans.maximumCount)
    var recorded = metadata
    recorded.record(kept)
    #expect(recorded.done?.count == ByteSpans.maximumCount)
    #expect(recorded.kept(fileSize: 1 << 30, expected: 1 << 30) == kept, "recording and reading back is lossless")
  }

  @Test func aSidecarTooBigIsNotRead() throws {
    let directory = try ScratchDirectory("sidecar")
    let partial = directory.path("x.part")
    var metadata = PartialMetadata(url: "http://h/x", etag: "\"e\"", lastModified: nil)
    metadata.validPrefix = 5
    try metadata.save(for: partial)
    #expect(PartialMetadata.load(for: partial) == metadata)
    let padded = Data(#"{"url":"u","etag":""#.utf8) + Data(repeating: UInt8(ascii: "a"), count: PartialMetadata.maximumBytes) + Data(#""}"#.utf8)
    try padded.write(to: URL(fileURLWithPath: PartialMetadata.path(for: partial)))
    #expect(PartialMetadata.load(for: partial) == nil)
  }
}
