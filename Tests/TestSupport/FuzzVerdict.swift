import Foundation

/// What a fuzz case's error output must look like: every error says where it is.
public enum FuzzVerdict {
  /// The error lines of a failed `validate` or `plan` that do not say where: each line must be
  /// `FILE:LINE:COL: error|note: …` for a file of the case, an `error: …` naming the case's
  /// directory or one of its files, the closing count, or an error about the node itself: a
  /// `--node` in no pool, a filesystem too small for the node's share. A failure must have at least one
  /// error line. Returns the offending lines, or a note that there was no error at all.
  public static func unplacedErrors(_ output: String, directory: String, files: [String]) -> [String] {
    let lines = output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    guard lines.contains(where: { $0.contains("error:") }) else { return ["no error line at all in: \(output.debugDescription)"] }
    var bad: [String] = []
    for line in lines where !isPlaced(line, directory: directory, files: files) { bad.append(line) }
    return bad
  }

  static func isPlaced(_ line: String, directory: String, files: [String]) -> Bool {
    if line.range(of: #"^\d+ errors? in the desired state; nothing was changed\.$"#, options: .regularExpression) != nil { return true }
    // The node's name and its filesystem are not in a file: `--node` in no pool, a root whose
    // filesystem cannot hold the share.
    if line.hasPrefix("error: node '"), line.contains("is not in any pool") || line.contains("(filesystem ") || line.contains("on its filesystem") {
      return true
    }
    if line.hasPrefix("error: ") {
      return line.contains(directory) || files.contains { line.contains($0) }
    }
    // `PATH:LINE:COL: severity: …` with PATH inside the case's directory.
    guard let match = line.range(of: #":\d+:\d+: (error|note|warning): "#, options: .regularExpression) else {
      // `PATH: error: …` (a file that is not UTF-8) names the file without a line.
      if let match = line.range(of: ": error: ") { return line[..<match.lowerBound].hasPrefix(directory) }
      return false
    }
    return line[..<match.lowerBound].hasPrefix(directory)
  }
}
