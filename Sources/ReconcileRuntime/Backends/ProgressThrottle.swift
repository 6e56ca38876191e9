import Foundation

/// Throttles progress reports to about ten a second.
struct ProgressThrottle {
  private var last: UInt64 = 0

  /// Whether enough time passed since the last report.
  mutating func due() -> Bool {
    let now = DispatchTime.now().uptimeNanoseconds
    guard now - last >= 100_000_000 else { return false }
    last = now
    return true
  }
}
