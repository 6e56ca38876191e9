/// Path arithmetic on strings, without Foundation's `NSString` path methods:
/// `deletingLastPathComponent` traps on a one-character relative path such as `r` (seen with
/// Swift 6.3.1's Foundation on Linux), and a user may pass any path.
public enum PathText {
  /// `a/b` of `a/b/c` and of `a/b/c/`; `/` of `/a`; empty for a name without a slash.
  public static func parent(of path: String) -> String {
    var bytes = Array(path.utf8)
    while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
    guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "" }
    if slash == 0 { return "/" }
    var end = slash
    while end > 1, bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
    return String(decoding: bytes[..<end], as: UTF8.self)
  }
}
