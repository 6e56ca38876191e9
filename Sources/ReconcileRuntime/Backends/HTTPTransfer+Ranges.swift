import CCurl
import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// A big file over several connections at once: its missing bytes split into ranges, each
/// fetched by its own `Range` request and written at its offset into the `.part` file, while one
/// thread hashes the file in order as it completes (reading it back from the page cache), so the
/// SHA-256 still covers every byte in order before the file is visible. On a CDN that caps each
/// connection, this is what makes a 2 GiB file take seconds instead of half a minute.
///
/// A server that does not answer ranges (no `206` with the asked `Content-Range`) makes it give
/// up before writing anything, and the caller falls back to one stream. Ranges finish in any
/// order, so the sidecar records what is on disk as a prefix and the spans after it
/// (`PartialMetadata.validPrefix` and `done`): a resume after a failure, a cancellation or a kill
/// fetches only the holes, and reads the spans back from disk to hash them.
struct RangedDownload: @unchecked Sendable {
  /// One range and how far it got.
  final class Segment: @unchecked Sendable {
    let first: Int64
    let last: Int64
    /// Bytes written from `first` on.
    private(set) var written: Int64 = 0
    private let lock = NSLock()

    init(first: Int64, last: Int64) {
      self.first = first
      self.last = last
    }

    var length: Int64 { last - first + 1 }
    var done: Int64 { lock.withLock { written } }
    func add(_ count: Int64) { lock.withLock { written += count } }
  }

  /// How a ranged download ended.
  enum Outcome {
    case complete(TransferResult)
    /// The server does not serve ranges of this file; nothing was written.
    case unsupported
    case failed(TransferError)
  }

  /// A stretch of the file in hashing order: bytes already on disk, or a range being fetched.
  private enum Piece {
    case present(Range<Int64>)
    case fetched(Segment)
  }

  let request: TransferRequest
  let fd: Int32
  /// The prefix already in place and hashed.
  let start: ResumePoint
  /// Spans after the prefix already in place from an earlier attempt: sorted, disjoint, inside
  /// `[start.offset, total)`. They are read back and hashed, not fetched.
  let present: [Range<Int64>]
  let total: Int64
  let connections: Int
  let userAgent: String
  /// Where the bytes come from after redirects, and whether it is the requested host (which
  /// alone gets the request's headers: credentials never cross hosts).
  let target: String
  let sameHost: Bool
  let etag: String?

  /// Bytes written (hashed or not) between two sidecar saves, and hashed between two saves.
  static let saveInterval: Int64 = 4 << 20

  /// Runs the ranges of what is missing over `connections` connections and hashes in order.
  func perform() -> Outcome {
    let holes = ByteSpans.missing(present, in: start.offset..<total)
    let segments = ByteSpans.split(holes, connections: connections).map { Segment(first: $0.lowerBound, last: $0.upperBound - 1) }
    let stop = CancellationFlag()
    let failure = Guarded<RangeFailure?>(nil)
    let next = Guarded(0)
    let group = DispatchGroup()
    // Each connection takes the next range in file order, so the hash keeps up with the earliest.
    for _ in 0..<min(max(connections, 1), segments.count) {
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        while !stop.isCancelled, request.cancellation?.isCancelled != true {
          let index = next.update { index in
            defer { index += 1 }
            return index
          }
          guard index < segments.count else { return }
          if let problem = fetch(segments[index], stop: stop) {
            failure.update { if $0 == nil { $0 = problem } }
            stop.cancel(reason: "range failed")
            return
          }
        }
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    // Hash in order on this thread while the ranges arrive, reading back what they wrote.
    let hasher = start.hasher ?? SHA256Hasher()
    var position = start.offset
    let reader = open(request.destination, O_RDONLY | O_CLOEXEC)
    let hashing = reader >= 0 ? hashInOrder(pieces(segments), segments: segments, into: hasher, from: reader, position: &position, stop: stop) : .unreadable
    if reader >= 0 { close(reader) }
    if hashing != .complete { stop.cancel(reason: "hashing stopped") }
    group.wait()
    if hashing == .unreadable {
      // What cannot be read back is not trusted: only the hashed prefix is kept.
      keep(position: position, segments: segments, spans: false)
      return .failed(TransferError(.io, url: request.url, message: "cannot read back \(request.destination) at byte \(position)"))
    }
    if let problem = failure.update({ $0 }) {
      keep(position: position, segments: segments, spans: true)
      switch problem {
      case .unsupported: return .unsupported
      case .error(let error): return .failed(error)
      }
    }
    if request.cancellation?.isCancelled == true || hashing != .complete {
      keep(position: position, segments: segments, spans: true)
      return .failed(TransferError(.cancelled, url: request.url, message: "cancelled"))
    }
    guard fsync(fd) == 0 else {
      return .failed(PartialFile.error(errno, operation: "sync", path: request.destination, url: request.url))
    }
    request.progress?(total, total)
    return .complete(
      TransferResult(
        digest: hasher.finalize(), bytes: total, resumedFrom: start.offset + ByteSpans.Kept(prefix: 0, spans: present).bytes, restarted: false,
        status: 206, etag: etag))
  }

  /// Why a range stopped.
  enum RangeFailure {
    case unsupported
    case error(TransferError)
  }

  /// Fetches one range into place; nil when it arrived in full.
  private func fetch(_ segment: Segment, stop: CancellationFlag) -> RangeFailure? {
    guard let handle = CurlHandlePool.shared.take(for: target) else {
      return .error(TransferError(.network, url: request.url, message: "libcurl could not create a handle"))
    }
    let exchange = RangeExchange(download: self, segment: segment, stop: stop)
    var headers: UnsafeMutablePointer<curl_slist>?
    if sameHost { headers = HTTPTransfer.appendHeaders(of: request, to: headers) }
    headers = curl_slist_append(headers, "Range: bytes=\(segment.first)-\(segment.last)")
    if let etag, !etag.contains(where: \.isNewline) { headers = curl_slist_append(headers, "If-Range: \(etag)") }
    defer { curl_slist_free_all(headers) }
    let code = exchange.run(handle, headers: headers)
    let failure = exchange.outcome(code: code)
    CurlHandlePool.shared.give(handle, for: target, reusable: failure == nil)
    return failure
  }

  /// The present spans and the ranges to fetch, in file order.
  private func pieces(_ segments: [Segment]) -> [Piece] {
    let pieces = present.map { Piece.present($0) } + segments.map { Piece.fetched($0) }
    return pieces.sorted { start(of: $0) < start(of: $1) }
  }

  private func start(of piece: Piece) -> Int64 {
    switch piece {
    case .present(let span): span.lowerBound
    case .fetched(let segment): segment.first
    }
  }

  /// How hashing in order ended.
  private enum Hashing {
    case complete
    /// Cancelled, or a range failed.
    case stopped
    /// The partial file could not be read back where its bytes should be.
    case unreadable
  }

  /// Hashes `[position, total)` in order, reading present spans at once and fetched ranges as
  /// they are written; `position` ends after the last byte hashed.
  private func hashInOrder(
    _ pieces: [Piece], segments: [Segment], into hasher: SHA256Hasher, from reader: Int32, position: inout Int64, stop: CancellationFlag
  ) -> Hashing {
    let size = 4 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
    defer { buffer.deallocate() }
    let presentBytes = ByteSpans.Kept(prefix: 0, spans: present).bytes
    var throttle = ProgressThrottle()
    var recorder = Recorder(position: position, segments: segments)
    for piece in pieces {
      let (first, length, segment): (Int64, Int64, Segment?) =
        switch piece {
        case .present(let span): (span.lowerBound, span.upperBound - span.lowerBound, nil)
        case .fetched(let segment): (segment.first, segment.length, segment)
        }
      guard first == position else { return .unreadable }
      var offset: Int64 = 0
      while offset < length {
        if recorder.due(position: position, segments: segments) { save(position: position, segments: segments) }
        let available = (segment?.done ?? length) - offset
        guard available > 0 else {
          if stop.isCancelled || request.cancellation?.isCancelled == true { return .stopped }
          _ = stop.wait(seconds: 0.005)
          continue
        }
        if segment == nil, stop.isCancelled || request.cancellation?.isCancelled == true { return .stopped }
        let count = Int(min(Int64(size), available))
        let read = pread(reader, buffer.baseAddress, count, off_t(first + offset))
        guard read > 0 else { return .unreadable }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<read]))
        offset += Int64(read)
        position += Int64(read)
        if let progress = request.progress, throttle.due() {
          progress(segments.reduce(start.offset + presentBytes) { $0 + $1.done }, total)
        }
      }
    }
    return position == total ? .complete : .unreadable
  }

  /// When the sidecar is due: after `saveInterval` more bytes written or hashed, or when a
  /// range has finished since the last save.
  private struct Recorder {
    var position: Int64
    var written: Int64
    var finished: Int

    init(position: Int64, segments: [Segment]) {
      self.position = position
      written = 0
      finished = 0
      _ = due(position: position, segments: segments)
    }

    mutating func due(position: Int64, segments: [Segment]) -> Bool {
      var written: Int64 = 0
      var finished = 0
      for segment in segments {
        let done = segment.done
        written += done
        if done == segment.length { finished += 1 }
      }
      guard position - self.position >= RangedDownload.saveInterval || written - self.written >= RangedDownload.saveInterval || finished != self.finished
      else { return false }
      (self.position, self.written, self.finished) = (position, written, finished)
      return true
    }
  }

  /// What is on disk: the hashed prefix, the present spans and every range's written part.
  private func layout(position: Int64, segments: [Segment]) -> ByteSpans.Kept {
    let written = segments.map { $0.first..<($0.first + $0.done) }
    return ByteSpans.kept(prefix: position, spans: present + written, size: total)
  }

  /// Saves the sidecar with what is on disk now.
  ///
  /// A range's bytes are written (`pwrite` returned) before its count grows, and the count is
  /// read here, so a recorded span is always in the file. The data is not synced first: a killed
  /// process leaves its writes in the page cache, where the next run reads them, and syncing
  /// every few MiB would stall the ranges. After an OS crash the sidecar (renamed into place) may
  /// outlive data that never reached the disk; the final SHA-256 then fails and the file is
  /// fetched again, so a lost write costs a download, never a wrong file.
  private func save(position: Int64, segments: [Segment]) {
    var marker = PartialMetadata(url: request.url, etag: etag, lastModified: nil)
    marker.record(layout(position: position, segments: segments))
    try? marker.save(for: request.destination)
  }

  /// Records what is on disk after a failure or cancellation, the data synced first: the next
  /// attempt keeps all of it, or only the hashed prefix without `spans`.
  private func keep(position: Int64, segments: [Segment], spans: Bool) {
    _ = fsync(fd)
    guard spans else {
      var marker = PartialMetadata(url: request.url, etag: etag, lastModified: nil)
      marker.record(ByteSpans.Kept(prefix: position, spans: []))
      try? marker.save(for: request.destination)
      return
    }
    save(position: position, segments: segments)
  }
}

/// One range's libcurl exchange; callbacks reach it through `Unmanaged`.
final class RangeExchange {
  private let download: RangedDownload
  private let segment: RangedDownload.Segment
  private let stop: CancellationFlag
  private var status = 0
  private var contentRange: (first: Int64, total: Int64?)?
  private var accepted = false
  private var failure: RangedDownload.RangeFailure?
  private var lastActivity = DispatchTime.now().uptimeNanoseconds
  private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

  init(download: RangedDownload, segment: RangedDownload.Segment, stop: CancellationFlag) {
    self.download = download
    self.segment = segment
    self.stop = stop
    errorBuffer.initialize(to: 0)
  }

  deinit { errorBuffer.deallocate() }

  private var url: String { download.target }

  func run(_ handle: UnsafeMutableRawPointer, headers: UnsafeMutablePointer<curl_slist>?) -> CURLcode {
    let context = Unmanaged.passUnretained(self).toOpaque()
    let request = download.request
    HTTPTransfer.setCommonOptions(handle, url: url, userAgent: download.userAgent, headers: headers, connectTimeout: request.connectTimeout)
    _ = reconcile_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    // Each range writes what it receives straight to the file: a smaller read buffer per
    // connection keeps eight of them well under the one stream's pool.
    _ = reconcile_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 512 << 10)
    _ = reconcile_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
      guard let data, let context else { return 0 }
      let exchange = Unmanaged<RangeExchange>.fromOpaque(context).takeUnretainedValue()
      return exchange.header(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
    }
    _ = reconcile_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
    _ = reconcile_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
      guard let data, let context else { return 0 }
      let exchange = Unmanaged<RangeExchange>.fromOpaque(context).takeUnretainedValue()
      return exchange.body(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
    }
    _ = reconcile_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
    _ = reconcile_curl_setopt_xferinfo_function(handle) { context, _, _, _, _ in
      guard let context else { return 0 }
      return Unmanaged<RangeExchange>.fromOpaque(context).takeUnretainedValue().tick() ? 0 : 1
    }
    _ = reconcile_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
    return curl_easy_perform(handle)
  }

  private func header(_ bytes: UnsafeRawBufferPointer) -> Bool {
    lastActivity = DispatchTime.now().uptimeNanoseconds
    let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
      let parts = line.split(separator: " ", maxSplits: 2)
      status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
      contentRange = nil
      return true
    }
    if let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "content-range" {
      contentRange = HTTPTransfer.Exchange.parseContentRange(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    if line.isEmpty, !(300..<400).contains(status), (200..<300).contains(status) || status >= 400 {
      guard status == 206, let range = contentRange, range.first == segment.first, range.total.map({ $0 == download.total }) ?? true else {
        // A whole file, another range, or an error: this server will not do ranges of it.
        failure = status >= 400 && status != 416
          ? .error(TransferError(.http(status), url: download.request.url, message: "HTTP \(status) for a range of the file"))
          : .unsupported
        return false
      }
      accepted = true
    }
    return true
  }

  private func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard accepted else { return false }
    lastActivity = DispatchTime.now().uptimeNanoseconds
    let offset = segment.first + segment.done
    guard offset + Int64(bytes.count) <= segment.last + 1 else {
      failure = .error(TransferError(.tooLarge, url: download.request.url, message: "the source sent more than the asked range \(segment.first)-\(segment.last)"))
      return false
    }
    download.request.throttle?(bytes.count)
    var written = 0
    while written < bytes.count {
      let result = pwrite(download.fd, bytes.baseAddress! + written, bytes.count - written, off_t(offset + Int64(written)))
      if result < 0 {
        if errno == EINTR { continue }
        failure = .error(PartialFile.error(errno, operation: "write", path: download.request.destination, url: download.request.url))
        return false
      }
      written += result
    }
    segment.add(Int64(bytes.count))
    return true
  }

  private func tick() -> Bool {
    if stop.isCancelled || download.request.cancellation?.isCancelled == true { return false }
    let idle = Double(DispatchTime.now().uptimeNanoseconds &- lastActivity) / 1e9
    if idle >= download.request.stallTimeout {
      failure = .error(TransferError(.stalled, url: download.request.url, message: "timed out after \(Int(download.request.stallTimeout)) s without data"))
      return false
    }
    return true
  }

  /// Nil when the range arrived in full.
  func outcome(code: CURLcode) -> RangedDownload.RangeFailure? {
    if let failure { return failure }
    if code == CURLE_ABORTED_BY_CALLBACK {
      return .error(TransferError(.cancelled, url: download.request.url, message: "cancelled"))
    }
    guard code == CURLE_OK else {
      let detail = String(cString: errorBuffer)
      return .error(TransferError(.network, url: download.request.url, message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail))
    }
    guard segment.done == segment.length else {
      return .error(TransferError(.network, url: download.request.url, message: "a range ended after \(segment.done) of \(segment.length) bytes"))
    }
    return nil
  }
}
