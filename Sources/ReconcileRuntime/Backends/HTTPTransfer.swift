import CCurl
import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// Fetches `http` and `https` URLs with libcurl into a partial file, resuming it with `Range` and
/// `If-Range`, hashing while streaming, and aborting a body longer than the expected size.
///
/// A resumed file is verified in full: its existing bytes are hashed from disk first. The
/// source's validators are kept in a sidecar (`PartialMetadata`) so that a resume after the
/// source changed gets the whole new file instead of a spliced one.
public struct HTTPTransfer: Transfer {
  /// The `User-Agent` sent with every request.
  public var userAgent: String

  /// A transfer that identifies itself as `userAgent`.
  public init(userAgent: String = "reconcile") {
    self.userAgent = userAgent
  }

  public func fetch(_ request: TransferRequest) throws(TransferError) -> TransferResult {
    let url = request.url
    let scheme = url.prefix { $0 != ":" }.lowercased()
    guard scheme == "http" || scheme == "https", url.contains("://") else {
      throw TransferError(.unsupported, url: url, message: "HTTPTransfer handles http and https URLs only")
    }
    guard HTTPTransfer.curlReady else {
      throw TransferError(.unsupported, url: url, message: "libcurl failed to initialise")
    }
    if request.cancellation?.isCancelled == true { throw TransferError(.cancelled, url: url, message: "cancelled") }

    let partial = try PartialFile(path: request.destination, url: url)
    defer { partial.close() }
    var start = try partial.resumePoint(expectedSize: request.expectedSize)
    let metadata = PartialMetadata.load(for: request.destination)
    var validator = metadata?.url == url ? metadata?.ifRange : nil
    var restarted = false

    // At most two exchanges: a resume, then the whole file when the resume cannot be used.
    for _ in 0..<2 {
      let exchange = Exchange(request: request, fd: partial.fd, start: start, validator: validator, metadata: metadata, userAgent: userAgent)
      switch exchange.perform() {
      case .complete(var result):
        result.restarted = result.restarted || restarted
        PartialMetadata.remove(for: request.destination)
        request.progress?(result.bytes, request.expectedSize ?? result.bytes)
        return result
      case .alreadyComplete(let total):
        if let total = total ?? request.expectedSize, total == start.offset, let hasher = start.hasher {
          PartialMetadata.remove(for: request.destination)
          return TransferResult(digest: hasher.finalize(), bytes: start.offset, resumedFrom: start.offset, restarted: false, status: 416, etag: metadata?.etag)
        }
      case .resumeUnusable:
        break
      case .failed(let error):
        throw error
      }
      try partial.truncate()
      restarted = true
      start = ResumePoint(offset: 0, hasher: nil)
      validator = nil
    }
    throw TransferError(.network, url: url, message: "the server refused both a resume and a full download")
  }

  /// `curl_global_init`, once per process, before the first handle.
  static let curlReady: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

/// Where a download continues: after `offset` bytes already hashed into `hasher`.
struct ResumePoint {
  var offset: Int64
  var hasher: SHA256Hasher?
}

/// The destination `.part` file, opened for writing without truncation.
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

  /// The bytes already there, hashed from disk; none when the file is empty or longer than
  /// the expected size (then it is emptied).
  func resumePoint(expectedSize: Int64?) throws(TransferError) -> ResumePoint {
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw PartialFile.error(errno, operation: "stat", path: path, url: url) }
    let size = Int64(info.st_size)
    if size == 0 { return ResumePoint(offset: 0, hasher: nil) }
    if let expectedSize, size > expectedSize {
      try truncate()
      return ResumePoint(offset: 0, hasher: nil)
    }
    do {
      let (hasher, count) = try FileHasher.hasher(ofFileAt: path, limit: size)
      return ResumePoint(offset: count, hasher: hasher)
    } catch {
      throw TransferError.file(error, url: url)
    }
  }

  /// Empties the file and moves to its start.
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
