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
  /// Whether to write around the page cache where the file system allows it (see `HashingFileWriter`).
  public var directIO: Bool

  /// A transfer that identifies itself as `userAgent`.
  public init(userAgent: String = "reconcile", directIO: Bool = true) {
    self.userAgent = userAgent
    self.directIO = directIO
  }

  /// Downloads `request.url` into `request.destination`, resuming a non-empty one.
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
    let metadata = PartialMetadata.load(for: request.destination)
    // Left by ranges that did not finish: the prefix before the first hole is the file's, and so
    // are the spans after it the sidecar lists as written. Only the prefix is hashed now; the
    // spans are kept for a ranged resume, which hashes them in order as it fills the holes.
    let kept = try metadata?.kept(fileSize: partial.size(), expected: request.expectedSize)
    var start = try partial.resumePoint(expectedSize: request.expectedSize, prefix: kept?.prefix)
    // Spans wholly after what was hashed, inside the file as it is now (emptied when too long).
    let length = try partial.size()
    var present = (kept?.spans ?? []).filter { $0.lowerBound > start.offset && $0.upperBound <= length }
    var validator = metadata?.url == url ? metadata?.ifRange : nil
    var restarted = false

    // A big file from a server that serves byte ranges: several connections at once.
    if request.connections > 1, request.signing == nil, let expected = request.expectedSize,
      expected - start.offset >= Self.rangedMinimum || !present.isEmpty,
      let probe = RangeProbe.run(request, expected: expected, userAgent: userAgent)
    {
      if start.offset > 0 || !present.isEmpty, probe.etag == nil || metadata?.url != url || metadata?.etag != probe.etag {
        // The bytes kept may be of other content: start over rather than splice.
        try partial.truncate()
        start = ResumePoint(offset: 0, hasher: nil)
        present = []
        restarted = true
      }
      // Saved before any range writes: a process killed now leaves a file with holes, and the
      // next attempt must know which bytes are in place.
      var marker = PartialMetadata(url: url, etag: probe.etag, lastModified: nil)
      marker.record(ByteSpans.Kept(prefix: start.offset, spans: present))
      do { try marker.save(for: request.destination) } catch {
        throw TransferError(.io, url: url, message: "cannot write \(PartialMetadata.path(for: request.destination)): \(error)")
      }
      let download = RangedDownload(
        request: request, fd: partial.fd, start: start, present: present, total: expected, connections: request.connections,
        userAgent: userAgent, target: probe.target, sameHost: probe.sameHost, etag: probe.etag)
      switch download.perform() {
      case .complete(var result):
        result.restarted = restarted
        PartialMetadata.remove(for: request.destination)
        return result
      case .unsupported:
        // Ranges refused after all: one stream, from the start.
        try partial.truncate()
        start = ResumePoint(offset: 0, hasher: nil)
        validator = nil
        restarted = true
      case .failed(let error):
        throw error
      }
    } else if var marker = metadata, kept != nil, length > start.offset {
      // One stream continues from the prefix: what lies after it goes, spans and holes alike.
      marker.record(ByteSpans.Kept(prefix: start.offset, spans: []))
      try? marker.save(for: request.destination)
      try partial.cut(to: start.offset)
    }

    // At most two exchanges: a resume, then the whole file when the resume cannot be used.
    for _ in 0..<2 {
      let exchange = Exchange(request: request, fd: partial.fd, start: start, validator: validator, metadata: metadata, userAgent: userAgent, directIO: directIO)
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

  /// The fewest bytes left for a file to be fetched in ranges: below it, one stream is as fast.
  static let rangedMinimum: Int64 = 32 << 20

  /// The most header bytes the responses of one exchange (redirects included) may send.
  static let maximumHeaderBytes = 256 << 10
  /// Bytes per second below which a transfer counts as stalled, on average over its stall
  /// timeout (time spent in the caller's throttle left out).
  static let minimumRate = 1024

  /// `curl_global_init`, once per process, before the first handle.
  static let curlReady: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}
