/// Byte spans of a partial file, as half-open ranges `[start, end)`: which ones a resume keeps,
/// which are missing, and how the missing ones are shared among connections. Pure values, no
/// I/O; every input is clamped rather than trusted, since the spans come back from a sidecar a
/// hand or a crash may have damaged.
enum ByteSpans {
  /// The most spans a sidecar records after its prefix. Ranges finish in any order, so a kill
  /// can leave at most one span per connection (64) plus the ones an earlier run kept; beyond
  /// this the shortest are dropped (and fetched again), never merged over a hole.
  static let maximumCount = 128

  /// What a resume keeps of a partial file: `prefix` bytes from its start, and the sorted,
  /// disjoint, non-adjacent spans after it (each at least a byte), all inside `[0, size)`.
  struct Kept: Equatable {
    var prefix: Int64
    var spans: [Range<Int64>]

    /// The bytes kept, prefix included (all inside the file, so the sum cannot overflow).
    var bytes: Int64 { spans.reduce(prefix) { $0 + ($1.upperBound - $1.lowerBound) } }
  }

  /// `prefix` and `spans` made sane for a file of `size` bytes: clamped into `[0, size)`, empty
  /// ones dropped, sorted and merged (overlapping or touching), the ones reaching the prefix
  /// folded into it, and at most `limit` left (the longest).
  static func kept(prefix: Int64, spans: [Range<Int64>], size: Int64, limit: Int = maximumCount) -> Kept {
    let size = max(size, 0)
    var prefix = min(max(prefix, 0), size)
    var merged = merge(spans.compactMap { clamp($0, to: size) })
    while let first = merged.first, first.lowerBound <= prefix {
      prefix = max(prefix, first.upperBound)
      merged.removeFirst()
    }
    if merged.count > max(limit, 0) {
      merged = merged.enumerated()
        .sorted { ($0.element.upperBound - $0.element.lowerBound, -$0.offset) > ($1.element.upperBound - $1.element.lowerBound, -$1.offset) }
        .prefix(max(limit, 0))
        .map(\.element)
        .sorted { $0.lowerBound < $1.lowerBound }
    }
    return Kept(prefix: prefix, spans: merged)
  }

  /// Pairs `[start, end]` as a sidecar stores them, as ranges; malformed pairs (not two
  /// numbers, or an end not after the start) are dropped.
  static func ranges(_ pairs: [[Int64]]) -> [Range<Int64>] {
    pairs.compactMap { pair in
      guard pair.count == 2, pair[0] < pair[1] else { return nil }
      return pair[0]..<pair[1]
    }
  }

  /// Sorted by start, overlapping and touching spans joined.
  static func merge(_ spans: [Range<Int64>]) -> [Range<Int64>] {
    var merged: [Range<Int64>] = []
    for span in spans.sorted(by: { $0.lowerBound < $1.lowerBound }) where !span.isEmpty {
      if let last = merged.last, span.lowerBound <= last.upperBound {
        merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, span.upperBound)
      } else {
        merged.append(span)
      }
    }
    return merged
  }

  /// The parts of `bounds` that no span of `present` covers, in order.
  static func missing(_ present: [Range<Int64>], in bounds: Range<Int64>) -> [Range<Int64>] {
    var holes: [Range<Int64>] = []
    var next = bounds.lowerBound
    for span in merge(present) {
      guard span.upperBound > next else { continue }
      guard span.lowerBound < bounds.upperBound else { break }
      if span.lowerBound > next { holes.append(next..<span.lowerBound) }
      next = span.upperBound
    }
    if next < bounds.upperBound { holes.append(next..<bounds.upperBound) }
    return holes
  }

  /// `holes` cut into ranges for `connections` connections: the missing bytes shared evenly
  /// in pieces of at least `minimum` (unless fewer bytes are missing), a hole bigger than a
  /// piece cut into several, every hole at least one range. The ranges tile the holes in order.
  static func split(_ holes: [Range<Int64>], connections: Int, minimum: Int64 = 4 << 20) -> [Range<Int64>] {
    let holes = holes.filter { !$0.isEmpty && $0.lowerBound >= 0 }
    let remaining = holes.reduce(Int64(0)) { total, hole in
      let (sum, overflow) = total.addingReportingOverflow(hole.upperBound - hole.lowerBound)
      return overflow ? .max : sum
    }
    guard remaining > 0 else { return [] }
    let minimum = max(minimum, 1)
    let count = max(1, min(Int64(max(connections, 1)), ceilingDivision(remaining, minimum)))
    let piece = ceilingDivision(remaining, count)
    var ranges: [Range<Int64>] = []
    for hole in holes {
      let length = hole.upperBound - hole.lowerBound
      let size = ceilingDivision(length, ceilingDivision(length, piece))
      var first = hole.lowerBound
      while first < hole.upperBound {
        let end = hole.upperBound - first > size ? first + size : hole.upperBound
        ranges.append(first..<end)
        first = end
      }
    }
    return ranges
  }

  /// `span` inside `[0, size)`, or nil when nothing of it is.
  private static func clamp(_ span: Range<Int64>, to size: Int64) -> Range<Int64>? {
    let lower = max(span.lowerBound, 0)
    let upper = min(span.upperBound, size)
    return lower < upper ? lower..<upper : nil
  }

  /// `value / divisor` rounded up, for positive values, without overflowing near `Int64.max`.
  private static func ceilingDivision(_ value: Int64, _ divisor: Int64) -> Int64 {
    value / divisor + (value % divisor == 0 ? 0 : 1)
  }
}
