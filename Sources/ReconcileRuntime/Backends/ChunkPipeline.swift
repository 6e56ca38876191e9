import Foundation

/// A fixed pool of buffers that one producer fills in order and one thread per stage consumes in
/// order, so that copying, writing and hashing overlap while memory stays at `count × size`.
///
/// The producer blocks in `acquire()` while every buffer is still in use by some stage. The first
/// error a stage throws stops every stage and is rethrown to the producer by its next `acquire()`
/// or by `close()`. The owner must call `close()` or `abort()`: stage threads hold the pipeline.
final class ChunkPipeline: @unchecked Sendable {
  /// Work done on every chunk, in order, on the stage's own thread.
  typealias Stage = (UnsafeRawBufferPointer) throws -> Void

  /// Thrown to the producer after `abort()`.
  struct Aborted: Error {}

  private let buffers: [UnsafeMutableRawBufferPointer]
  private let stages: [Stage]
  private let condition = NSCondition()
  // Everything below is guarded by `condition`.
  private var lengths: [Int]
  private var pending: [Int]
  private var produced = 0
  private var consumed: [Int]
  private var running: Int
  private var closed = false
  private var failure: (any Error)?

  /// Allocates `count` buffers of `size` bytes and starts one thread per stage.
  init(buffers count: Int, size: Int, stages: [Stage], name: String) {
    precondition(count > 0 && size > 0 && !stages.isEmpty)
    buffers = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096) }
    self.stages = stages
    lengths = Array(repeating: 0, count: count)
    pending = Array(repeating: 0, count: count)
    consumed = Array(repeating: 0, count: stages.count)
    running = stages.count
    for index in stages.indices {
      let thread = Thread { [self] in runStage(index) }
      thread.name = "\(name)-\(index)"
      thread.stackSize = 256 * 1024
      thread.start()
    }
  }

  deinit {
    for buffer in buffers { buffer.deallocate() }
  }

  /// The size of each buffer.
  var bufferSize: Int { buffers[0].count }

  /// The next buffer to fill, once every stage is done with its previous contents.
  func acquire() throws -> UnsafeMutableRawBufferPointer {
    condition.lock()
    defer { condition.unlock() }
    let slot = produced % buffers.count
    while pending[slot] > 0 && failure == nil { condition.wait() }
    if let failure { throw failure }
    return buffers[slot]
  }

  /// Hands the first `length` bytes of the buffer `acquire()` returned to the stages.
  func commit(_ length: Int) {
    condition.lock()
    defer { condition.unlock() }
    guard length > 0, failure == nil else { return }
    let slot = produced % buffers.count
    lengths[slot] = length
    pending[slot] = stages.count
    produced += 1
    condition.broadcast()
  }

  /// Waits until every stage has processed every committed chunk and its thread has ended;
  /// rethrows the first stage error.
  func close() throws {
    condition.lock()
    defer { condition.unlock() }
    closed = true
    condition.broadcast()
    while running > 0 { condition.wait() }
    if let failure { throw failure }
  }

  /// Stops the stages without processing what is still queued and waits for their threads.
  func abort() {
    condition.lock()
    defer { condition.unlock() }
    if failure == nil { failure = Aborted() }
    closed = true
    condition.broadcast()
    while running > 0 { condition.wait() }
  }

  private func runStage(_ index: Int) {
    let stage = stages[index]
    condition.lock()
    while true {
      while consumed[index] == produced && !closed && failure == nil { condition.wait() }
      if failure != nil || consumed[index] == produced { break }
      let slot = consumed[index] % buffers.count
      let chunk = UnsafeRawBufferPointer(rebasing: buffers[slot][0..<lengths[slot]])
      condition.unlock()
      var stageError: (any Error)?
      do { try stage(chunk) } catch { stageError = error }
      condition.lock()
      if let stageError {
        if failure == nil { failure = stageError }
        break
      }
      pending[slot] -= 1
      consumed[index] += 1
      condition.broadcast()
    }
    running -= 1
    condition.broadcast()
    condition.unlock()
  }
}
