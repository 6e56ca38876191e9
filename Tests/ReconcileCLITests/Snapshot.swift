import Foundation
import Testing

/// Golden files under Tests/ReconcileCLITests/Snapshots/, re-recorded with `RECORD_SNAPSHOTS=1 make test`.
enum Snapshot {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

  /// Fails the test when `actual` differs from the golden file `name`, showing the first differing line.
  static func assert(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = directory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try actual.write(to: url, atomically: true, encoding: .utf8)
      return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
      Issue.record("missing snapshot \(name); record it with RECORD_SNAPSHOTS=1 make test", sourceLocation: sourceLocation)
      return
    }
    guard expected != actual else { return }
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let index = zip(expectedLines, actualLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(expectedLines.count, actualLines.count)
    let want = index < expectedLines.count ? String(expectedLines[index]) : "<end>"
    let got = index < actualLines.count ? String(actualLines[index]) : "<end>"
    Issue.record("snapshot \(name) differs at line \(index + 1):\n  expected: \(want)\n  actual:   \(got)\nre-record with RECORD_SNAPSHOTS=1 make test and review the diff", sourceLocation: sourceLocation)
  }
}
