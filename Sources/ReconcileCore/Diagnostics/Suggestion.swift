/// Suggests the closest known word for a misspelt one.
enum Suggestion {
  /// The candidate within a small edit distance of `word`, if any.
  static func closest(to word: String, in candidates: [String]) -> String? {
    let lowered = word.lowercased()
    let scored = candidates.map { ($0, distance(lowered, $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    let limit = max(2, word.count / 3)
    // Replacing every letter of a short word is no near miss: `zz` does not suggest `m`.
    if best.1 <= limit, best.1 < min(word.count, best.0.count) { return best.0 }
    // A word cut short or run on (`sha` for `sha256`, `pinned` for `pin`) is a near miss too.
    guard lowered.count >= 3 else { return nil }
    return candidates.first { candidate in
      let other = candidate.lowercased()
      return other.count >= 3 && (other.hasPrefix(lowered) || lowered.hasPrefix(other))
    }
  }

  /// Levenshtein distance.
  static func distance(_ lhs: String, _ rhs: String) -> Int {
    let a = Array(lhs.unicodeScalars), b = Array(rhs.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }
}
