import Foundation

/// A per-source circuit breaker for one run: a source that failed `threshold` times in a row
/// (across files) is skipped for the rest of the run, so a dead mirror costs one file's retry
/// budget instead of every file's.
final class SourceBreaker: @unchecked Sendable {
  /// Failures in a row that open the breaker.
  let threshold: Int
  private let lock = NSLock()
  private var failures: [String: Int] = [:]
  private var open: Set<String> = []

  /// A breaker opening after `threshold` (at least 1) failures in a row.
  init(threshold: Int) { self.threshold = max(1, threshold) }

  /// Whether `source` is skipped for the rest of the run.
  func isOpen(_ source: String) -> Bool { lock.withLock { open.contains(source) } }

  /// Counts a failure; true when this one opened the breaker (say so once).
  func recordFailure(_ source: String) -> Bool {
    lock.withLock {
      failures[source, default: 0] += 1
      guard failures[source, default: 0] >= threshold, !open.contains(source) else { return false }
      open.insert(source)
      return true
    }
  }

  /// A success closes the count again.
  func recordSuccess(_ source: String) { lock.withLock { failures[source] = 0 } }
}
