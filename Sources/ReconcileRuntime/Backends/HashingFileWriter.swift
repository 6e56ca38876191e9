import CCurl
import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// Writes a stream of chunks to a file descriptor and computes its SHA-256 on other threads.
///
/// The producer (curl's write callback, a read loop) only copies each chunk into a buffer from a
/// small pool; one thread writes full buffers with `write(2)` and another hashes them, so neither
/// slows the producer. When every buffer is in use the producer blocks, which keeps memory flat
/// whatever the file size. Writes go to the descriptor's current offset; the caller positions it
/// and closes it.
///
/// With `directIO`, full buffers bypass the page cache (`O_DIRECT`, where the file system allows
/// it): a download of many gigabytes then neither evicts the page cache of the models being
/// served nor leaves gigabytes of dirty pages for the final `fsync`. Otherwise writeback of
/// written ranges is started as the stream goes, for the same reason.
public final class HashingFileWriter {
  /// Default number of pool buffers.
  public static let defaultBufferCount = 4
  /// Default size of one pool buffer.
  public static let defaultBufferSize = 4 << 20
  /// The buffer size for a stream of `remaining` bytes (nil: unknown). A file of a few MiB
  /// would otherwise touch as many MiB of buffers, and eight at once are most of a process's
  /// memory; 256 KiB buffers still hand over fewer than 300 chunks a second at 64 MB/s.
  public static func bufferSize(forRemaining remaining: Int64?) -> Int {
    isSmall(remaining) ? 256 << 10 : defaultBufferSize
  }

  /// The number of buffers for a stream of `remaining` bytes: two keep the writer and the
  /// hasher busy on one while the next fills, enough for a file of a few MiB.
  public static func bufferCount(forRemaining remaining: Int64?) -> Int {
    isSmall(remaining) ? 2 : defaultBufferCount
  }

  private static func isSmall(_ remaining: Int64?) -> Bool {
    guard let remaining else { return false }
    return remaining <= 16 << 20
  }

  private let fd: Int32
  private let hasher: SHA256Hasher
  private let sink: FileSink
  private let pipeline: ChunkPipeline
  private var current: UnsafeMutableRawBufferPointer?
  private var filled = 0
  /// How much of the current buffer to fill before handing it over: less than a buffer only for
  /// the first one, so that later buffers start at block-aligned file offsets.
  private var capacity: Int
  private var finished = false

  /// Bytes handed to `append` so far (some may still be queued).
  public private(set) var bytesAppended: Int64 = 0

  /// Starts the writer and hasher threads for `fd`; `startingHash` already holds any bytes that
  /// precede this stream in the file (a resumed download).
  public init(
    fd: Int32, startingHash: SHA256Hasher = SHA256Hasher(), directIO: Bool = false,
    bufferCount: Int = defaultBufferCount, bufferSize: Int = defaultBufferSize
  ) {
    self.fd = fd
    self.hasher = startingHash
    let start = Int64(lseek(fd, 0, SEEK_CUR))
    let sink = FileSink(fd: fd, offset: max(start, 0), direct: directIO && start >= 0 && bufferSize % FileSink.alignment == 0)
    self.sink = sink
    let misalignment = Int(max(start, 0) % Int64(FileSink.alignment))
    capacity = sink.direct && misalignment != 0 ? FileSink.alignment - misalignment : bufferSize
    let hasher = startingHash
    pipeline = ChunkPipeline(
      buffers: bufferCount, size: bufferSize,
      stages: [{ chunk in try sink.write(chunk) }, { chunk in hasher.update(chunk) }],
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
      let count = min(rest.count, capacity - filled)
      guard let target = buffer.baseAddress, let source = rest.baseAddress else { break }
      (target + filled).copyMemory(from: source, byteCount: count)
      filled += count
      bytesAppended += Int64(count)
      rest = UnsafeRawBufferPointer(rebasing: rest[count...])
      if filled == capacity { handOver() }
    }
  }

  /// Reads once from `source` straight into the pool (no extra copy) and returns the number of
  /// bytes read, 0 at end of file.
  public func append(readingFrom source: Int32, limit: Int64 = .max) throws(FileStreamError) -> Int {
    precondition(!finished, "append after finish")
    let buffer = try currentBuffer()
    let wanted = Int(min(Int64(capacity - filled), max(limit, 0)))
    guard wanted > 0, let target = buffer.baseAddress else { return 0 }
    var count: Int
    repeat { count = read(source, target + filled, wanted) } while count < 0 && errno == EINTR
    if count < 0 { throw .io(operation: "read", errno: errno) }
    filled += count
    bytesAppended += Int64(count)
    if filled == capacity { handOver() }
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
      if code == ENOSPC || code == EDQUOT { throw .diskFull(bytesWritten: sink.written) }
      // fsync on a pipe or terminal has nothing to flush; only regular files matter here.
      if code != EINVAL && code != EROFS { throw .io(operation: "fsync", errno: code) }
    }
    return (hasher.finalize(), sink.written)
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
    capacity = pipeline.bufferSize
  }

  private static func streamError(_ error: any Error) -> FileStreamError {
    (error as? FileStreamError) ?? .io(operation: "write", errno: ECANCELED)
  }
}

/// The writer thread's end: writes chunks in order at the descriptor's offset.
///
/// Only the writer thread touches it while the pipeline runs; the producer reads `written`
/// after the pipeline closed (or from the error the writer threw).
final class FileSink: @unchecked Sendable {
  /// File offset and length alignment for `O_DIRECT`; 4096 suits 512- and 4096-byte devices.
  static let alignment = 4096
  /// Dirty bytes after which buffered mode starts writeback.
  static let writebackInterval: Int64 = 64 << 20

  let fd: Int32
  /// Whether aligned chunks may go straight to the device; cleared when the file system refuses.
  private(set) var direct: Bool
  private var directEnabled = false
  private var offset: Int64
  private var writebackFrom: Int64
  /// Bytes written so far.
  private(set) var written: Int64 = 0

  init(fd: Int32, offset: Int64, direct: Bool) {
    self.fd = fd
    self.offset = offset
    writebackFrom = offset
    self.direct = direct && reconcile_o_direct() != 0
  }

  func write(_ chunk: UnsafeRawBufferPointer) throws {
    guard let base = chunk.baseAddress else { return }
    let aligned = direct && offset % Int64(FileSink.alignment) == 0 && chunk.count % FileSink.alignment == 0
      && Int(bitPattern: base) % FileSink.alignment == 0
    setDirect(aligned)
    var done = 0
    while done < chunk.count {
      let count = Glibc.write(fd, base + done, chunk.count - done)
      if count < 0 {
        let code = errno
        if code == EINTR { continue }
        if code == EINVAL && directEnabled {
          // The file system takes O_DIRECT at open but not for this write: buffered from now on.
          direct = false
          setDirect(false)
          continue
        }
        if code == ENOSPC || code == EDQUOT { throw FileStreamError.diskFull(bytesWritten: written) }
        throw FileStreamError.io(operation: "write", errno: code)
      }
      done += count
      offset += Int64(count)
      written += Int64(count)
    }
    if !directEnabled && offset - writebackFrom >= FileSink.writebackInterval {
      _ = reconcile_start_writeback(fd, writebackFrom, offset - writebackFrom)
      writebackFrom = offset
    }
  }

  private func setDirect(_ enabled: Bool) {
    guard enabled != directEnabled else { return }
    let flags = fcntl(fd, F_GETFL)
    guard flags >= 0 else { return }
    let wanted = enabled ? flags | reconcile_o_direct() : flags & ~reconcile_o_direct()
    if fcntl(fd, F_SETFL, wanted) == 0 {
      directEnabled = enabled
    } else if enabled {
      direct = false
    }
  }
}
