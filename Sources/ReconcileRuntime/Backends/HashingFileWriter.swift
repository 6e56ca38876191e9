import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// Why writing or reading a streamed file failed.
public enum FileStreamError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file system is full (`ENOSPC` or `EDQUOT`) after `bytesWritten` bytes of this stream.
  case diskFull(bytesWritten: Int64)
  /// A system call failed with `errno`.
  case io(operation: String, errno: Int32)

  public var description: String {
    switch self {
    case .diskFull(let bytes): "no space left on device after writing \(bytes) bytes"
    case .io(let operation, let code): "\(operation) failed: \(String(cString: strerror(code)))"
    }
  }
}

/// Writes a stream of chunks to a file descriptor and computes its SHA-256 on other threads.
///
/// The producer (curl's write callback, a read loop) only copies each chunk into a buffer from a
/// small pool; one thread writes full buffers with `write(2)` and another hashes them, so neither
/// slows the producer. When every buffer is in use the producer blocks, which keeps memory flat
/// whatever the file size. Writes go to the descriptor's current offset; the caller positions it
/// and closes it.
public final class HashingFileWriter {
  /// Default number of pool buffers.
  public static let defaultBufferCount = 4
  /// Default size of one pool buffer.
  public static let defaultBufferSize = 4 << 20

  private let fd: Int32
  private let hasher: SHA256Hasher
  private let written: WrittenCounter
  private let pipeline: ChunkPipeline
  private var current: UnsafeMutableRawBufferPointer?
  private var filled = 0
  private var finished = false

  /// Bytes handed to `append` so far (some may still be queued).
  public private(set) var bytesAppended: Int64 = 0

  /// Starts the writer and hasher threads for `fd`; `startingHash` already holds any bytes that
  /// precede this stream in the file (a resumed download).
  public init(
    fd: Int32, startingHash: SHA256Hasher = SHA256Hasher(),
    bufferCount: Int = defaultBufferCount, bufferSize: Int = defaultBufferSize
  ) {
    self.fd = fd
    self.hasher = startingHash
    let written = WrittenCounter()
    self.written = written
    let hasher = startingHash
    pipeline = ChunkPipeline(
      buffers: bufferCount, size: bufferSize,
      stages: [
        { chunk in try HashingFileWriter.writeAll(chunk, to: fd, counter: written) },
        { chunk in hasher.update(chunk) },
      ],
      name: "reconcile-write")
  }

  deinit {
    if !finished { pipeline.abort() }
  }

  /// Copies `bytes` into the pool, blocking while every buffer is busy; rethrows a write error
  /// from an earlier chunk.
  public func append(_ bytes: UnsafeRawBufferPointer) throws(FileStreamError) {
    precondition(!finished, "append after finish")
    var rest = bytes
    while !rest.isEmpty {
      let buffer = try currentBuffer()
      let count = min(rest.count, buffer.count - filled)
      guard let target = buffer.baseAddress, let source = rest.baseAddress else { break }
      (target + filled).copyMemory(from: source, byteCount: count)
      filled += count
      bytesAppended += Int64(count)
      rest = UnsafeRawBufferPointer(rebasing: rest[count...])
      if filled == buffer.count { handOver() }
    }
  }

  /// Reads once from `source` straight into the pool (no extra copy) and returns the number of
  /// bytes read, 0 at end of file.
  public func append(readingFrom source: Int32, limit: Int64 = .max) throws(FileStreamError) -> Int {
    precondition(!finished, "append after finish")
    let buffer = try currentBuffer()
    let wanted = Int(min(Int64(buffer.count - filled), max(limit, 0)))
    guard wanted > 0, let target = buffer.baseAddress else { return 0 }
    var count: Int
    repeat { count = read(source, target + filled, wanted) } while count < 0 && errno == EINTR
    if count < 0 { throw .io(operation: "read", errno: errno) }
    filled += count
    bytesAppended += Int64(count)
    if filled == buffer.count { handOver() }
    return count
  }

  /// Writes what is queued, waits for both threads, `fsync`s the descriptor and returns the
  /// digest of everything (including the starting bytes) and the bytes this writer wrote.
  public func finish() throws(FileStreamError) -> (digest: Digest, bytesWritten: Int64) {
    precondition(!finished, "finish called twice")
    finished = true
    if filled > 0 { handOver() }
    do { try pipeline.close() } catch { throw HashingFileWriter.streamError(error) }
    if fsync(fd) != 0 {
      let code = errno
      if code == ENOSPC || code == EDQUOT { throw .diskFull(bytesWritten: written.value) }
      // fsync on a pipe or terminal has nothing to flush; only regular files matter here.
      if code != EINVAL && code != EROFS { throw .io(operation: "fsync", errno: code) }
    }
    return (hasher.finalize(), written.value)
  }

  /// Stops the threads without writing what is queued (the transfer failed or was cancelled).
  public func abandon() {
    guard !finished else { return }
    finished = true
    pipeline.abort()
  }

  private func currentBuffer() throws(FileStreamError) -> UnsafeMutableRawBufferPointer {
    if let current { return current }
    do {
      let buffer = try pipeline.acquire()
      current = buffer
      filled = 0
      return buffer
    } catch {
      throw HashingFileWriter.streamError(error)
    }
  }

  private func handOver() {
    pipeline.commit(filled)
    current = nil
    filled = 0
  }

  private static func streamError(_ error: any Error) -> FileStreamError {
    (error as? FileStreamError) ?? .io(operation: "write", errno: ECANCELED)
  }

  private static func writeAll(_ chunk: UnsafeRawBufferPointer, to fd: Int32, counter: WrittenCounter) throws {
    guard let base = chunk.baseAddress else { return }
    var offset = 0
    while offset < chunk.count {
      let count = write(fd, base + offset, chunk.count - offset)
      if count < 0 {
        let code = errno
        if code == EINTR { continue }
        if code == ENOSPC || code == EDQUOT { throw FileStreamError.diskFull(bytesWritten: counter.value) }
        throw FileStreamError.io(operation: "write", errno: code)
      }
      offset += count
      counter.add(count)
    }
  }
}

/// Bytes the writer thread has written, readable from the producer for error messages.
private final class WrittenCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes: Int64 = 0
  var value: Int64 { lock.withLock { bytes } }
  func add(_ count: Int) { lock.withLock { bytes += Int64(count) } }
}
