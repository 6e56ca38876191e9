import Foundation

/// Runs blocking jobs on a fixed number of threads and waits for all of them.
///
/// Transfers block in libcurl and hashing is CPU-bound, so apply uses plain threads: the number
/// of jobs at once is exactly `policy.concurrency`, whatever the number of cores.
enum WorkerPool {
  /// Calls `body` once for each index in `0..<count`, at most `width` at a time, in index order
  /// of starting; once `cancellation` is set, no further index starts.
  static func run(count: Int, width: Int, cancellation: CancellationFlag? = nil, _ body: @escaping @Sendable (Int) -> Void) {
    guard count > 0 else { return }
    let next = IndexCounter()
    let group = DispatchGroup()
    for _ in 0..<max(1, min(width, count)) {
      group.enter()
      let thread = Thread {
        while cancellation?.isCancelled != true, let index = next.take(below: count) { body(index) }
        group.leave()
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    group.wait()
  }
}

/// A shared counter handing out indices to worker threads.
final class IndexCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0

  func take(below limit: Int) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard value < limit else { return nil }
    value += 1
    return value - 1
  }
}

/// A value guarded by a lock, for results that worker threads add to.
final class Guarded<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value

  init(_ value: Value) { self.value = value }

  func update<Result>(_ body: (inout Value) -> Result) -> Result {
    lock.lock()
    defer { lock.unlock() }
    return body(&value)
  }

  var current: Value { update { $0 } }
}
