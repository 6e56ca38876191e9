import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Where a download continues: after `offset` bytes already hashed into `hasher`.
struct ResumePoint {
  var offset: Int64
  var hasher: SHA256Hasher?
}

/// The destination `.part` file of a transfer, opened for writing without truncation.
struct PartialFile {
  let path: String
  let url: String
  let fd: Int32

  /// Opens (or creates) the partial file at `path`.
  init(path: String, url: String) throws(TransferError) {
    self.path = path
    self.url = url
    var fd: Int32
    repeat { fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { throw PartialFile.error(errno, operation: "open", path: path, url: url) }
    self.fd = fd
  }

  func close() { _ = Glibc.close(fd) }

  /// The bytes already there (the first `prefix` of them, when given), hashed from disk; none
  /// when the file is empty or longer than the expected size (then it is emptied).
  func resumePoint(expectedSize: Int64?, prefix: Int64? = nil) throws(TransferError) -> ResumePoint {
    let size = try self.size()
    if size == 0 { return ResumePoint(offset: 0, hasher: nil) }
    if let expectedSize, size > expectedSize {
      try truncate()
      return ResumePoint(offset: 0, hasher: nil)
    }
    let limit = min(size, max(prefix ?? size, 0))
    if limit == 0 { return ResumePoint(offset: 0, hasher: nil) }
    do {
      let (hasher, count) = try FileHasher.hasher(ofFileAt: path, limit: limit)
      return ResumePoint(offset: count, hasher: hasher)
    } catch {
      throw TransferError.file(error, url: url)
    }
  }

  /// The file's length in bytes.
  func size() throws(TransferError) -> Int64 {
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw PartialFile.error(errno, operation: "stat", path: path, url: url) }
    return Int64(info.st_size)
  }

  /// Cuts the file to `length` bytes, keeping its sidecar.
  func cut(to length: Int64) throws(TransferError) {
    guard ftruncate(fd, off_t(max(length, 0))) == 0 else { throw PartialFile.error(errno, operation: "truncate", path: path, url: url) }
  }

  /// Empties the file and drops its sidecar; the caller positions the descriptor before writing.
  func truncate() throws(TransferError) {
    guard ftruncate(fd, 0) == 0 else { throw PartialFile.error(errno, operation: "truncate", path: path, url: url) }
    PartialMetadata.remove(for: path)
  }

  /// Positions the descriptor at `offset`, where the next byte goes.
  func seek(to offset: Int64) -> Bool { lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) }

  static func error(_ code: Int32, operation: String, path: String, url: String) -> TransferError {
    if code == ENOSPC || code == EDQUOT { return TransferError(.diskFull, url: url, message: "no space left on device for \(path)") }
    return TransferError(.io, url: url, message: "\(operation) \(path): \(String(cString: strerror(code)))")
  }
}
