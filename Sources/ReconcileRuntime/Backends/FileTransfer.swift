import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// Copies `file://` URLs (absolute paths; the caller resolves relative ones) into a partial file,
/// hashing while copying and resuming an existing partial file the way `HTTPTransfer` does.
///
/// Failures read like HTTP ones so that source failover treats every scheme alike: a missing
/// file is `http(404)`, a permission problem `http(403)`.
public struct FileTransfer: Transfer {
  /// Whether to write around the page cache where the file system allows it (see `HashingFileWriter`).
  public var directIO: Bool

  /// A transfer for local and mounted (NFS) files.
  public init(directIO: Bool = true) {
    self.directIO = directIO
  }

  /// Copies the file `request.url` names into `request.destination`, resuming a non-empty one.
  public func fetch(_ request: TransferRequest) throws(TransferError) -> TransferResult {
    let url = request.url
    guard let path = FileTransfer.path(of: url) else {
      throw TransferError(.unsupported, url: url, message: "not an absolute file:// URL")
    }
    if request.cancellation?.isCancelled == true { throw TransferError(.cancelled, url: url, message: "cancelled") }
    let source = try openSource(path, url: url)
    defer { close(source.fd) }
    if let expected = request.expectedSize, source.size > expected {
      throw TransferError(.tooLarge, url: url, message: "the source has \(source.size) bytes, expected \(expected)")
    }

    let partial = try PartialFile(path: request.destination, url: url)
    defer { partial.close() }
    var start = try partial.resumePoint(expectedSize: request.expectedSize)
    var restarted = false
    if start.offset > 0 {
      // A partial file from another URL or another version of the source, or longer than the
      // source now is, cannot be continued.
      let metadata = PartialMetadata.load(for: request.destination)
      let sameSource = metadata.map { $0.url == url && $0.etag == source.etag } ?? true
      if !sameSource || start.offset > source.size {
        try partial.truncate()
        start = ResumePoint(offset: 0, hasher: nil)
        restarted = true
      }
    }
    try? PartialMetadata(url: url, etag: source.etag, lastModified: nil).save(for: request.destination)

    guard partial.seek(to: start.offset), lseek(source.fd, off_t(start.offset), SEEK_SET) == off_t(start.offset) else {
      throw PartialFile.error(errno, operation: "seek", path: request.destination, url: url)
    }
    let remaining = request.expectedSize.map { max($0, 0) - start.offset }
    let writer = HashingFileWriter(
      fd: partial.fd, startingHash: start.hasher ?? SHA256Hasher(), directIO: directIO,
      bufferCount: HashingFileWriter.bufferCount(forRemaining: remaining), bufferSize: HashingFileWriter.bufferSize(forRemaining: remaining))
    var throttle = ProgressThrottle()
    do {
      // Throttled copies read 1 MiB at a time, so the bucket paces them smoothly.
      let chunk: Int64 = request.throttle == nil ? .max : 1 << 20
      while case let count = try writer.append(readingFrom: source.fd, limit: chunk), count > 0 {
        request.throttle?(count)
        let total = start.offset + writer.bytesAppended
        if let expected = request.expectedSize, total > expected {
          writer.abandon()
          throw TransferError(.tooLarge, url: url, message: "the source grew beyond the expected \(expected) bytes")
        }
        if request.cancellation?.isCancelled == true {
          _ = try? writer.finish()
          throw TransferError(.cancelled, url: url, message: "cancelled")
        }
        if let progress = request.progress, throttle.due() { progress(total, request.expectedSize ?? source.size) }
      }
      let (digest, written) = try writer.finish()
      PartialMetadata.remove(for: request.destination)
      let bytes = start.offset + written
      request.progress?(bytes, request.expectedSize ?? source.size)
      return TransferResult(digest: digest, bytes: bytes, resumedFrom: start.offset, restarted: restarted, status: 200, etag: source.etag)
    } catch let error as TransferError {
      throw error
    } catch let error as FileStreamError {
      writer.abandon()
      if case .io(let operation, let code) = error, operation == "read" {
        throw TransferError(.io, url: url, message: "read \(path): \(String(cString: strerror(code)))")
      }
      throw TransferError.file(error, url: url)
    } catch {
      writer.abandon()
      throw TransferError(.io, url: url, message: "\(error)")
    }
  }

  /// The absolute path a `file://` URL names, percent-decoded; nil for other URLs.
  static func path(of url: String) -> String? {
    guard url.lowercased().hasPrefix("file://") else { return nil }
    var rest = String(url.dropFirst("file://".count))
    if rest.lowercased().hasPrefix("localhost/") { rest = String(rest.dropFirst("localhost".count)) }
    guard rest.hasPrefix("/"), let path = rest.removingPercentEncoding, !path.contains("\0") else { return nil }
    return path
  }

  private struct Source {
    var fd: Int32
    var size: Int64
    /// Size and modification time, enough to notice that the file changed between attempts.
    var etag: String
  }

  private func openSource(_ path: String, url: String) throws(TransferError) -> Source {
    var fd: Int32
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else {
      let code = errno
      switch code {
      case ENOENT, ENOTDIR: throw TransferError(.http(404), url: url, message: "not found: \(path)")
      case EACCES, EPERM: throw TransferError(.http(403), url: url, message: "permission denied: \(path)")
      default: throw TransferError(.io, url: url, message: "open \(path): \(String(cString: strerror(code)))", isRetryable: true)
      }
    }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let code = errno
      close(fd)
      throw TransferError(.io, url: url, message: "stat \(path): \(String(cString: strerror(code)))")
    }
    guard info.st_mode & S_IFMT == S_IFREG else {
      close(fd)
      throw TransferError(.http(404), url: url, message: "not a regular file: \(path)")
    }
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
    let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    return Source(fd: fd, size: Int64(info.st_size), etag: "\"\(info.st_size)-\(mtime)\"")
  }
}
