/// Path globs for `include:`: `*` and `?` within one segment, `[abc]` classes, `**` for any
/// number of whole segments. Matching is on `/`-separated relative paths.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
  /// The pattern as written.
  public let pattern: String
  private let segments: [[Character]]

  /// Compiles `pattern`.
  public init(_ pattern: String) {
    self.pattern = pattern
    self.segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map { Array($0) }
  }

  public var description: String { pattern }

  /// Whether `path` matches.
  public func matches(_ path: String) -> Bool {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Array($0) }
    return Self.match(segments[...], parts[...])
  }

  /// Whether any of `globs` matches `path`.
  public static func any(_ globs: [Glob], match path: String) -> Bool { globs.contains { $0.matches(path) } }

  private static func match(_ pattern: ArraySlice<[Character]>, _ path: ArraySlice<[Character]>) -> Bool {
    guard let first = pattern.first else { return path.isEmpty }
    if first == ["*", "*"] {
      // `**` takes zero or more whole segments.
      var rest = path
      while true {
        if match(pattern.dropFirst(), rest) { return true }
        guard !rest.isEmpty else { return false }
        rest = rest.dropFirst()
      }
    }
    guard let segment = path.first, matchSegment(first[...], segment[...]) else { return false }
    return match(pattern.dropFirst(), path.dropFirst())
  }

  private static func matchSegment(_ pattern: ArraySlice<Character>, _ text: ArraySlice<Character>) -> Bool {
    guard let head = pattern.first else { return text.isEmpty }
    switch head {
    case "*":
      var rest = text
      while true {
        if matchSegment(pattern.dropFirst(), rest) { return true }
        guard !rest.isEmpty else { return false }
        rest = rest.dropFirst()
      }
    case "?":
      return !text.isEmpty && matchSegment(pattern.dropFirst(), text.dropFirst())
    case "[":
      guard let close = pattern.dropFirst().firstIndex(of: "]"), let character = text.first else { return false }
      var members = pattern[pattern.index(after: pattern.startIndex)..<close]
      let negated = members.first == "!" || members.first == "^"
      if negated { members = members.dropFirst() }
      var found = false
      var index = members.startIndex
      while index < members.endIndex {
        let low = members[index]
        let dash = members.index(after: index)
        if dash < members.endIndex, members[dash] == "-", members.index(after: dash) < members.endIndex {
          let high = members[members.index(after: dash)]
          if low <= character && character <= high { found = true }
          index = members.index(after: members.index(after: dash))
        } else {
          if low == character { found = true }
          index = members.index(after: index)
        }
      }
      guard found != negated else { return false }
      return matchSegment(pattern[pattern.index(after: close)...], text.dropFirst())
    default:
      return text.first == head && matchSegment(pattern.dropFirst(), text.dropFirst())
    }
  }
}
