import Foundation

/// Reads HEAD of a git directory: a detached commit, a loose ref or a packed ref.
struct GitHead {
  var gitDirectory: String

  func commit() -> String? {
    var gitDirectory = gitDirectory
    // A worktree or submodule has a `.git` file pointing at the real directory.
    if let pointer = text(gitDirectory), pointer.hasPrefix("gitdir: ") {
      let target = String(pointer.dropFirst(8))
      gitDirectory = target.hasPrefix("/") ? target : URL(fileURLWithPath: gitDirectory).deletingLastPathComponent().appendingPathComponent(target).path
    }
    guard let head = text(gitDirectory + "/HEAD") else { return nil }
    guard head.hasPrefix("ref: ") else { return isHash(head) ? head : nil }
    let ref = String(head.dropFirst(5))
    let common = text(gitDirectory + "/commondir").map { $0.hasPrefix("/") ? $0 : gitDirectory + "/" + $0 } ?? gitDirectory
    for directory in [gitDirectory, common] {
      if let hash = text(directory + "/" + ref), isHash(hash) { return hash }
      if let packed = text(directory + "/packed-refs") {
        for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) {
          let hash = String(line.prefix { $0 != " " })
          if isHash(hash) { return hash }
        }
      }
    }
    return nil
  }

  func text(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return nil }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  func isHash(_ text: String) -> Bool { (text.count == 40 || text.count == 64) && text.allSatisfy(\.isHexDigit) }
}
