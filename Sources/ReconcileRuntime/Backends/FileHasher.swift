import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// SHA-256 of files on disk at about the speed of one hashing core: the calling thread reads
/// with large reads into a small buffer pool while another thread hashes.
public enum FileHasher {
  /// The digest and size of the file at `path`; stops with `ECANCELED` soon after `cancellation` is set.
  public static func digest(ofFileAt path: String, cancellation: CancellationFlag? = nil) throws(FileStreamError) -> (digest: Digest, size: Int64) {
    let (hasher, size) = try hasher(ofFileAt: path, cancellation: cancellation)
    return (hasher.finalize(), size)
  }

  /// A hasher fed with the first `limit` bytes of the file at `path` (all of it by default), to be
  /// continued by a resumed download, and the number of bytes it holds.
  static func hasher(ofFileAt path: String, limit: Int64 = .max, cancellation: CancellationFlag? = nil) throws(FileStreamError) -> (SHA256Hasher, Int64) {
    let fd = openWithoutAccessTime(path)
    guard fd >= 0 else { throw .io(operation: "open \(path)", errno: errno) }
    defer { close(fd) }
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
    let hasher = SHA256Hasher()
    let pipeline = ChunkPipeline(
      buffers: HashingFileWriter.defaultBufferCount, size: HashingFileWriter.defaultBufferSize,
      stages: [{ chunk in hasher.update(chunk) }], name: "reconcile-hash")
    var total: Int64 = 0
    do {
      reading: while total < limit {
        if cancellation?.isCancelled == true { throw FileStreamError.io(operation: "hash \(path)", errno: ECANCELED) }
        let buffer = try pipeline.acquire()
        guard let base = buffer.baseAddress else { break }
        var filled = 0
        while filled < buffer.count && total + Int64(filled) < limit {
          let wanted = Int(min(Int64(buffer.count - filled), limit - total - Int64(filled)))
          let count = read(fd, base + filled, wanted)
          if count < 0 {
            if errno == EINTR { continue }
            throw FileStreamError.io(operation: "read \(path)", errno: errno)
          }
          if count == 0 { break }
          filled += count
        }
        pipeline.commit(filled)
        total += Int64(filled)
        if filled < buffer.count { break reading }
      }
      try pipeline.close()
    } catch {
      pipeline.abort()
      throw (error as? FileStreamError) ?? .io(operation: "read \(path)", errno: ECANCELED)
    }
    return (hasher, total)
  }

  /// `open(path, O_RDONLY)` with `O_NOATIME` where allowed (the file's owner, or root): a
  /// hash is not a use, and the access time of view files is how the scanner tells when a
  /// model was last used. Elsewhere the file opens without it.
  static func openWithoutAccessTime(_ path: String) -> Int32 {
    #if os(Linux)
      let noAccessTime: Int32 = 0o1000000  // O_NOATIME, which Glibc only declares under _GNU_SOURCE
    #else
      let noAccessTime: Int32 = 0
    #endif
    var fd: Int32
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC | noAccessTime) } while fd < 0 && errno == EINTR
    if fd < 0, errno == EPERM, noAccessTime != 0 {
      repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    }
    return fd
  }

  /// The digest and size of the file at `path`, read and hashed on the calling thread alone.
  ///
  /// When many files are hashed at once, one thread per core each reading and hashing its own
  /// file keeps every core hashing, without the hand-over between a reader and a hasher.
  public static func digestOnThisThread(ofFileAt path: String, cancellation: CancellationFlag? = nil) throws(FileStreamError) -> (digest: Digest, size: Int64) {
    let fd = openWithoutAccessTime(path)
    guard fd >= 0 else { throw .io(operation: "open \(path)", errno: errno) }
    defer { close(fd) }
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
    let hasher = SHA256Hasher()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    defer { buffer.deallocate() }
    var total: Int64 = 0
    while true {
      if cancellation?.isCancelled == true { throw .io(operation: "hash \(path)", errno: ECANCELED) }
      let count = read(fd, buffer.baseAddress, buffer.count)
      if count < 0 {
        if errno == EINTR { continue }
        throw .io(operation: "read \(path)", errno: errno)
      }
      if count == 0 { break }
      hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
      total += Int64(count)
    }
    return (hasher.finalize(), total)
  }
}
