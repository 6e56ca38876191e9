/// What makes a file path in a variant safe to create under the node root.
enum PathRules {
  /// Why `path` is unsafe, or nil when it is a clean relative path.
  static func problem(_ path: String) -> String? {
    if path.isEmpty { return "must not be empty" }
    // One pass over the bytes: this runs for every file of every variant.
    var hasNUL = false, hasBackslash = false, hasEmpty = false, hasDot = false, hasDotDot = false
    var segmentLength = 0, dots = 0
    func endSegment() {
      if segmentLength == 0 { hasEmpty = true }
      if segmentLength == 1, dots == 1 { hasDot = true }
      if segmentLength == 2, dots == 2 { hasDotDot = true }
      segmentLength = 0
      dots = 0
    }
    for byte in path.utf8 {
      switch byte {
      case 0: hasNUL = true
      case UInt8(ascii: "\\"): hasBackslash = true
      case UInt8(ascii: "/"):
        endSegment()
        continue
      case UInt8(ascii: "."): dots += 1
      default: break
      }
      segmentLength += 1
    }
    endSegment()
    if hasNUL { return "must not contain NUL" }
    if hasBackslash { return "must use '/' and not contain '\\'" }
    if path.utf8.first == UInt8(ascii: "/") { return "must be relative, not absolute" }
    if hasDotDot { return "must not contain '..'" }
    if hasEmpty { return "must not contain an empty segment ('//' or a trailing '/')" }
    if hasDot { return "must not contain '.' segments" }
    return nil
  }

  /// The path with NUL shown as `\0`, for messages.
  static func printable(_ path: String) -> String { path.replacingAll("\0", with: "\\0") }

  /// `a/b/c` → `a/b`, `a`.
  static func parents(of path: String) -> [String] {
    var parents: [String] = []
    var end = path.utf8.endIndex
    while let slash = path.utf8[..<end].lastIndex(of: UInt8(ascii: "/")) {
      if slash > path.utf8.startIndex { parents.append(String(path[..<slash])) }
      end = slash
    }
    return parents
  }
}
