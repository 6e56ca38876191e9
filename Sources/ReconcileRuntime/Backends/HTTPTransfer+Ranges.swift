import CCurl
import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// A big file over several connections at once: its remaining bytes split into ranges, each
/// fetched by its own `Range` request and written at its offset into the `.part` file, while one
/// thread hashes the contiguous prefix as it completes (reading it back from the page cache), so
/// the SHA-256 still covers every byte in order before the file is visible. On a CDN that caps
/// each connection, this is what makes a 2 GiB file take seconds instead of half a minute.
///
/// A server that does not answer ranges (no `206` with the asked `Content-Range`) makes it give
/// up before writing anything, and the caller falls back to one stream. When a range fails or the
/// transfer is cancelled, the file is cut back to its contiguous prefix, which the next attempt
/// resumes from.
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

  let request: TransferRequest
  let fd: Int32
  let start: ResumePoint
  let total: Int64
  let connections: Int
  let userAgent: String
  /// Where the bytes come from after redirects, and whether it is the requested host (which
  /// alone gets the request's headers: credentials never cross hosts).
  let target: String
  let sameHost: Bool
  let etag: String?

  /// The ranges of `[offset, total)`: `connections` of them, none under `minimum` bytes.
  static func split(from offset: Int64, to total: Int64, connections: Int, minimum: Int64 = 4 << 20) -> [(Int64, Int64)] {
    let remaining = total - offset
    guard remaining > 0 else { return [] }
    let count = Int(max(1, min(Int64(max(connections, 1)), (remaining + minimum - 1) / minimum)))
    let size = (remaining + Int64(count) - 1) / Int64(count)
    var ranges: [(Int64, Int64)] = []
    var first = offset
    while first < total {
      let last = min(total, first + size) - 1
      ranges.append((first, last))
      first = last + 1
    }
    return ranges
  }

  /// Runs every range at once and hashes as they complete.
  func perform() -> Outcome {
    let segments = Self.split(from: start.offset, to: total, connections: connections).map { Segment(first: $0.0, last: $0.1) }
    let stop = CancellationFlag()
    let failure = Guarded<RangeFailure?>(nil)
    let group = DispatchGroup()
    for segment in segments {
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        if let problem = fetch(segment, stop: stop) {
          failure.update { if $0 == nil { $0 = problem } }
          stop.cancel(reason: "range failed")
        }
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    // Hash in order on this thread while the ranges arrive, reading back what they wrote.
    let hasher = start.hasher ?? SHA256Hasher()
    let reader = open(request.destination, O_RDONLY | O_CLOEXEC)
    let hashed = reader >= 0 && hashInOrder(segments, into: hasher, from: reader, stop: stop)
    if reader >= 0 { close(reader) } else { stop.cancel(reason: "cannot read the partial file") }
    group.wait()
    if let problem = failure.update({ $0 }) {
      cutBack(to: contiguousPrefix(segments))
      switch problem {
      case .unsupported: return .unsupported
      case .error(let error): return .failed(error)
      }
    }
    if request.cancellation?.isCancelled == true || !hashed {
      cutBack(to: contiguousPrefix(segments))
      return .failed(TransferError(.cancelled, url: request.url, message: "cancelled"))
    }
    guard fsync(fd) == 0 else {
      return .failed(PartialFile.error(errno, operation: "sync", path: request.destination, url: request.url))
    }
    request.progress?(total, total)
    return .complete(
      TransferResult(digest: hasher.finalize(), bytes: total, resumedFrom: start.offset, restarted: false, status: 206, etag: etag))
  }

  /// Why a range stopped.
  enum RangeFailure {
    case unsupported
    case error(TransferError)
  }

  /// Fetches one range into place; nil when it arrived in full.
  private func fetch(_ segment: Segment, stop: CancellationFlag) -> RangeFailure? {
    guard let handle = CurlHandlePool.shared.take() else {
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
    CurlHandlePool.shared.give(handle, reusable: failure == nil)
    return failure
  }

  /// Hashes `[start.offset, total)` in order as the ranges write it; false when stopped first.
  private func hashInOrder(_ segments: [Segment], into hasher: SHA256Hasher, from reader: Int32, stop: CancellationFlag) -> Bool {
    let size = 4 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
    defer { buffer.deallocate() }
    var position = start.offset
    var throttle = ProgressThrottle()
    var marked = position
    var marker = PartialMetadata(url: request.url, etag: etag, lastModified: nil)
    for segment in segments {
      var offset: Int64 = 0
      while offset < segment.length {
        let available = segment.done - offset
        guard available > 0 else {
          if stop.isCancelled || request.cancellation?.isCancelled == true { return false }
          _ = stop.wait(seconds: 0.005)
          continue
        }
        let count = Int(min(Int64(size), available))
        let read = pread(reader, buffer.baseAddress, count, off_t(segment.first + offset))
        guard read > 0 else { return false }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<read]))
        offset += Int64(read)
        position += Int64(read)
        // Every 4 MiB the sidecar learns the longer prefix: a resume after a kill keeps it.
        if position - marked >= 4 << 20 {
          marker.validPrefix = position
          try? marker.save(for: request.destination)
          marked = position
        }
        if let progress = request.progress, throttle.due() {
          progress(segments.reduce(start.offset) { $0 + $1.done }, total)
        }
      }
    }
    return position == total
  }

  /// Bytes from the start of the file that are in place with no hole before them.
  private func contiguousPrefix(_ segments: [Segment]) -> Int64 {
    var prefix = start.offset
    for segment in segments {
      prefix = segment.first + segment.done
      if segment.done < segment.length { break }
    }
    return prefix
  }

  /// Cuts the file back to `length` bytes: what follows a hole must not be resumed from.
  private func cutBack(to length: Int64) {
    _ = ftruncate(fd, off_t(length))
    _ = fsync(fd)
    var marker = PartialMetadata(url: request.url, etag: etag, lastModified: nil)
    marker.validPrefix = length
    try? marker.save(for: request.destination)
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
    _ = reconcile_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 1 << 20)
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

/// What a `HEAD` says about a file before it is fetched in ranges.
struct RangeProbe {
  /// The URL after redirects.
  var target: String
  /// Whether `target` is on the requested host (scheme, host and port).
  var sameHost: Bool
  /// The file's size.
  var total: Int64
  /// Its validator, for `If-Range`.
  var etag: String?

  /// Asks for the file's headers, following redirects with credentials to the first host only;
  /// nil when the server does not advertise byte ranges or the size is not `expected`.
  static func run(_ request: TransferRequest, expected: Int64, userAgent: String) -> RangeProbe? {
    guard let handle = CurlHandlePool.shared.take() else { return nil }
    final class Headers {
      var status = 0
      var values: [String: String] = [:]
    }
    let collected = Headers()
    let headers = HTTPTransfer.appendHeaders(of: request, to: nil)
    defer { curl_slist_free_all(headers) }
    let context = Unmanaged.passUnretained(collected).toOpaque()
    HTTPTransfer.setCommonOptions(handle, url: request.url, userAgent: userAgent, headers: headers, connectTimeout: request.connectTimeout)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
    _ = reconcile_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(min(max(request.stallTimeout, 1), 86400) * 1000))
    _ = reconcile_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
      guard let data, let context else { return 0 }
      let collected = Unmanaged<Headers>.fromOpaque(context).takeUnretainedValue()
      let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      if line.hasPrefix("HTTP/") {
        let parts = line.split(separator: " ", maxSplits: 2)
        collected.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        collected.values = [:]
      } else if let colon = line.firstIndex(of: ":"), collected.values.count < 200 {
        collected.values[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
      return size * count
    }
    _ = reconcile_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
    let code = curl_easy_perform(handle)
    var effective: UnsafeMutablePointer<CChar>?
    _ = reconcile_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
    let target = effective.map { String(cString: $0) } ?? request.url
    CurlHandlePool.shared.give(handle, reusable: code == CURLE_OK)
    guard code == CURLE_OK, collected.status == 200, collected.values["accept-ranges"]?.lowercased() == "bytes",
      let length = collected.values["content-length"].flatMap({ Int64($0) }), length == expected
    else { return nil }
    return RangeProbe(target: target, sameHost: origin(of: target) == origin(of: request.url), total: length, etag: collected.values["etag"])
  }

  /// `scheme://host:port` of a URL, lowercased, for telling hosts apart.
  static func origin(of url: String) -> String {
    guard let components = URLComponents(string: url) else { return url }
    let scheme = components.scheme?.lowercased() ?? ""
    let port = components.port ?? (scheme == "https" ? 443 : 80)
    return "\(scheme)://\(components.host?.lowercased() ?? ""):\(port)"
  }
}
