import CCurl
import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

extension HTTPTransfer {
  /// How one request/response exchange ended.
  enum Outcome {
    /// The body was received in full.
    case complete(TransferResult)
    /// 416: nothing after the partial file's end; `total` is the size the server reported.
    case alreadyComplete(total: Int64?)
    /// The server's answer to a resume cannot be appended (a wrong `Content-Range`).
    case resumeUnusable
    /// Anything else.
    case failed(TransferError)
  }

  /// One libcurl easy handle performing one request; the callbacks reach it through `Unmanaged`.
  final class Exchange {
    private let request: TransferRequest
    private let fd: Int32
    private let start: ResumePoint
    private let validator: String?
    private let metadata: PartialMetadata?
    private let userAgent: String
    private let directIO: Bool
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    // Response state, reset for every response header block (redirects, 100 Continue).
    private var status = 0
    private var reason = ""
    private var etag: String?
    private var lastModified: String?
    private var contentLength: Int64?
    private var contentRange: (first: Int64, total: Int64?)?
    private var hasLocation = false
    private var retryAfter: String?
    /// Whether this response's header block was answered; a later blank line ends trailers.
    private var answered = false

    // Set once the final response's headers arrived.
    private var writer: HashingFileWriter?
    private var base: Int64 = 0
    private var restarted = false
    private var failure: Outcome?
    /// An error status, answered once the start of its body (kept in `responseBody`) arrived.
    private var statusFailure: TransferError?
    private var throttle = ProgressThrottle()
    /// When the last header line or body byte arrived (monotonic nanoseconds); 0 before the first.
    private var lastActivity: UInt64 = 0
    /// Header bytes of every response so far, redirects included; bounded by `maximumHeaderBytes`.
    private var headerBytes = 0
    /// The low-speed window: when it started (monotonic nanoseconds, throttled pauses left out)
    /// and the bytes that arrived in it.
    private var windowStart: UInt64 = 0
    private var windowBytes: Int64 = 0

    init(request: TransferRequest, fd: Int32, start: ResumePoint, validator: String?, metadata: PartialMetadata?, userAgent: String, directIO: Bool) {
      self.request = request
      self.fd = fd
      self.start = start
      self.validator = validator
      self.metadata = metadata
      self.userAgent = userAgent
      self.directIO = directIO
      errorBuffer.initialize(to: 0)
    }

    deinit {
      writer?.abandon()
      errorBuffer.deallocate()
    }

    private var url: String { request.url }

    /// Runs the request to its end.
    func perform() -> Outcome {
      guard let handle = CurlHandlePool.shared.take(for: url) else {
        return .failed(TransferError(.network, url: url, message: "libcurl could not create a handle"))
      }
      var outcome: Outcome?
      defer {
        // A handle that completed cleanly keeps its connection for the next file.
        var reusable = false
        if case .complete = outcome { reusable = true }
        CurlHandlePool.shared.give(handle, for: url, reusable: reusable)
      }
      var headers: UnsafeMutablePointer<curl_slist>?
      defer { curl_slist_free_all(headers) }
      headers = HTTPTransfer.appendHeaders(of: request, to: headers)
      if let token = request.signing?.sessionToken, !token.contains(where: \.isNewline) {
        headers = curl_slist_append(headers, "x-amz-security-token: \(token)")
      }
      if start.offset > 0 {
        headers = curl_slist_append(headers, "Range: bytes=\(start.offset)-")
        if let validator { headers = curl_slist_append(headers, "If-Range: \(validator)") }
      }
      configure(handle, headers: headers)
      let code = curl_easy_perform(handle)
      let result = finish(handle, code: code)
      outcome = result
      return result
    }

    private func configure(_ handle: UnsafeMutableRawPointer, headers: UnsafeMutablePointer<curl_slist>?) {
      let context = Unmanaged.passUnretained(self).toOpaque()
      // A signed request is not followed elsewhere: the signature is for this host, the token is not.
      HTTPTransfer.setCommonOptions(
        handle, url: url, userAgent: userAgent, headers: headers, connectTimeout: request.connectTimeout, followRedirects: request.signing == nil)
      _ = reconcile_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
      // A proxy's "200 Connection established" is not the answer.
      _ = reconcile_curl_setopt_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
      if let signing = request.signing {
        _ = reconcile_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, signing.provider)
        _ = reconcile_curl_setopt_string(handle, CURLOPT_USERNAME, signing.accessKeyID)
        _ = reconcile_curl_setopt_string(handle, CURLOPT_PASSWORD, signing.secretAccessKey)
      }
      _ = reconcile_curl_setopt_long(handle, CURLOPT_FAILONERROR, 0)
      _ = reconcile_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
      _ = reconcile_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, Int(min(max(request.stallTimeout.rounded(.up), 1), 86400)))
      // Large reads mean fewer callbacks (curl allows up to 10 MiB here); a small file needs
      // no more than the writer's own buffers.
      _ = reconcile_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, HashingFileWriter.bufferSize(forRemaining: request.expectedSize) < 1 << 20 ? 256 << 10 : 1 << 20)
      _ = reconcile_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
        guard let data, let context else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        return exchange.receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
      }
      _ = reconcile_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
      _ = reconcile_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
        guard let data, let context else { return 0 }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        return exchange.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
      }
      _ = reconcile_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
      _ = reconcile_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
      _ = reconcile_curl_setopt_xferinfo_function(handle) { context, _, _, _, _ in
        guard let context else { return 0 }
        return Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue().tick() ? 0 : 1
      }
      _ = reconcile_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
    }

    // MARK: Callbacks

    /// One header line; a blank line ends a response's header block. False aborts the transfer.
    private func receiveHeader(_ bytes: UnsafeRawBufferPointer) -> Bool {
      arrived(bytes.count)
      // Counted before anything is kept: a server sending header lines forever ends here.
      headerBytes += bytes.count
      if headerBytes > HTTPTransfer.maximumHeaderBytes { return fail(headersTooLarge()) }
      let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      if line.hasPrefix("HTTP/") {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        reason = parts.count > 2 ? String(parts[2]) : ""
        (etag, lastModified, contentLength, contentRange, hasLocation, answered) = (nil, nil, nil, nil, false, false)
        retryAfter = nil
        return true
      }
      if answered { return true }
      if line.isEmpty { return headersEnded() }
      guard let colon = line.firstIndex(of: ":") else { return true }
      let name = line[..<colon].lowercased()
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      switch name {
      case "etag": etag = value
      case "last-modified": lastModified = value
      case "content-length": contentLength = Int64(value)
      case "content-range": contentRange = Exchange.parseContentRange(value)
      case "location": hasLocation = true
      case "retry-after": retryAfter = value
      default: break
      }
      return true
    }

    private func headersEnded() -> Bool {
      // Interim responses and redirects curl follows are not the answer.
      if (100..<200).contains(status) || ((300..<400).contains(status) && hasLocation && request.signing == nil) { return true }
      answered = true
      switch status {
      case 200:
        // Checked before truncating: a wrong answer must not cost the bytes already there.
        if let contentLength, let expected = request.expectedSize, contentLength > expected {
          return fail(tooLarge("the source announces \(contentLength) bytes, more than the declared \(expected)"))
        }
        restarted = start.offset > 0
        if restarted, ftruncate(fd, 0) != 0 { return fail(localError("truncate")) }
        guard lseek(fd, 0, SEEK_SET) == 0 else { return fail(localError("seek")) }
        base = 0
        let remaining = request.expectedSize ?? contentLength
        writer = HashingFileWriter(
          fd: fd, directIO: directIO, bufferCount: HashingFileWriter.bufferCount(forRemaining: remaining),
          bufferSize: HashingFileWriter.bufferSize(forRemaining: remaining))
      case 206:
        guard start.offset > 0, let range = contentRange, range.first == start.offset, let hasher = start.hasher else {
          failure = .resumeUnusable
          return false
        }
        let total = range.total ?? contentLength.map { start.offset + $0 }
        if let total, let expected = request.expectedSize, total > expected {
          return fail(tooLarge("the source announces \(total) bytes, more than the declared \(expected)"))
        }
        guard lseek(fd, off_t(start.offset), SEEK_SET) == off_t(start.offset) else { return fail(localError("seek")) }
        base = start.offset
        let remaining = (request.expectedSize ?? total).map { max($0, 0) - start.offset }
        writer = HashingFileWriter(
          fd: fd, startingHash: hasher, directIO: directIO, bufferCount: HashingFileWriter.bufferCount(forRemaining: remaining),
          bufferSize: HashingFileWriter.bufferSize(forRemaining: remaining))
      case 416 where start.offset > 0:
        failure = .alreadyComplete(total: contentRange?.total)
        return false
      default:
        statusFailure = TransferError(.http(status), url: url, message: "HTTP \(status) \(Exchange.reasonPhrase(status, fallback: reason))".trimmingCharacters(in: .whitespaces))
        statusFailure?.responseBody = Data()
        // Only these two ask for patience; elsewhere the header means nothing to a client.
        if status == 429 || status == 503, let retryAfter {
          statusFailure?.retryAfter = RetryAfter.seconds(retryAfter, now: Date())
        }
        return true
      }
      let current = PartialMetadata(url: url, etag: etag, lastModified: lastModified)
      if status == 200 || metadata != current { try? current.save(for: request.destination) }
      return true
    }

    /// Body bytes of the final response. False aborts the transfer.
    private func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
      arrived(bytes.count)
      if let kept = statusFailure?.responseBody {
        let room = 4096 - kept.count
        statusFailure?.responseBody = kept + Data(bytes.prefix(room))
        return bytes.count < room
      }
      guard let writer else { return false }
      // Checked before writing: however much more the source sends, the file stops at its size.
      if let expected = request.expectedSize, base + writer.bytesAppended + Int64(bytes.count) > expected {
        return fail(tooLarge("the source sent more than the declared \(expected) bytes"))
      }
      if let throttle = request.throttle {
        let before = DispatchTime.now().uptimeNanoseconds
        throttle(bytes.count)
        // A throttled pause is neither a stall nor slowness of the source.
        lastActivity = DispatchTime.now().uptimeNanoseconds
        windowStart &+= lastActivity &- before
      }
      do {
        try writer.append(bytes)
      } catch {
        return fail(TransferError.file(error, url: url))
      }
      return true
    }

    /// Progress and cancellation. False aborts the transfer.
    private func tick() -> Bool {
      if request.cancellation?.isCancelled == true { return false }
      // curl's own low-speed check averages over a window of several seconds and fires late;
      // this one counts from the last byte. Before the first header line, curl's check (and the
      // connect timeout) apply.
      let now = DispatchTime.now().uptimeNanoseconds
      if lastActivity > 0, Double(now &- lastActivity) / 1e9 >= request.stallTimeout {
        return fail(stalled())
      }
      // A trickle is a stall too: less than `minimumRate` on average over a whole stall timeout
      // (a server sending a byte a second would otherwise hold the transfer forever).
      if windowStart > 0, now > windowStart {
        let elapsed = Double(now - windowStart) / 1e9
        if elapsed >= request.stallTimeout {
          if Double(windowBytes) < Double(HTTPTransfer.minimumRate) * elapsed { return fail(tooSlow(elapsed)) }
          (windowStart, windowBytes) = (now, 0)
        }
      }
      if let progress = request.progress, let writer, throttle.due() {
        progress(base + writer.bytesAppended, request.expectedSize ?? contentLength.map { base + $0 })
      }
      return true
    }

    /// Notes that `count` bytes (header or body) arrived now.
    private func arrived(_ count: Int) {
      lastActivity = DispatchTime.now().uptimeNanoseconds
      if windowStart == 0 { windowStart = lastActivity }
      windowBytes += Int64(count)
    }

    private func fail(_ error: TransferError) -> Bool {
      if failure == nil { failure = .failed(error) }
      return false
    }

    // MARK: Completion

    private func finish(_ handle: UnsafeMutableRawPointer, code: CURLcode) -> Outcome {
      if let statusFailure { return .failed(statusFailure) }
      if let failure {
        // Keep what arrived before a stall so that the next attempt resumes after it.
        if case .failed(let error) = failure, error.kind == .stalled, let writer {
          _ = try? writer.finish()
        } else {
          writer?.abandon()
        }
        writer = nil
        return failure
      }
      guard code == CURLE_OK else {
        let error = curlError(handle, code: code)
        // Keep what arrived so that the next attempt resumes after it.
        if let writer { _ = try? writer.finish() }
        writer = nil
        return .failed(error)
      }
      guard let writer else {
        return .failed(TransferError(.network, url: url, message: "no response body (HTTP \(status))"))
      }
      self.writer = nil
      let received = writer.bytesAppended
      let written: (digest: Digest, bytesWritten: Int64)
      do { written = try writer.finish() } catch { return .failed(TransferError.file(error, url: url)) }
      if let contentLength, received < contentLength {
        return .failed(TransferError(.network, url: url, message: "truncated after \(received) of \(contentLength) bytes"))
      }
      return .complete(
        TransferResult(
          digest: written.digest, bytes: base + received, resumedFrom: base, restarted: restarted,
          status: status, etag: etag))
    }

    // MARK: Errors

    private func stalled() -> TransferError {
      TransferError(.stalled, url: url, message: "timed out after \(Exchange.seconds(request.stallTimeout)) s without data")
    }

    private func tooSlow(_ elapsed: Double) -> TransferError {
      TransferError(
        .stalled, url: url,
        message: "too slow: \(windowBytes) bytes in \(Exchange.seconds(elapsed.rounded())) s, under \(HTTPTransfer.minimumRate / 1024) KiB/s")
    }

    private func tooLarge(_ message: String) -> TransferError { TransferError(.tooLarge, url: url, message: message) }

    private func headersTooLarge() -> TransferError {
      tooLarge("the response headers are larger than reconcile accepts (\(HTTPTransfer.maximumHeaderBytes >> 10) KiB in all, 100 KiB a line)")
    }

    private func localError(_ operation: String) -> TransferError {
      PartialFile.error(errno, operation: operation, path: request.destination, url: url)
    }

    /// A short cause for a libcurl failure.
    private func curlError(_ handle: UnsafeMutableRawPointer, code: CURLcode) -> TransferError {
      var osErrno = 0
      _ = reconcile_curl_getinfo_long(handle, CURLINFO_OS_ERRNO, &osErrno)
      var connectTime: curl_off_t = 0
      _ = reconcile_curl_getinfo_offset(handle, CURLINFO_CONNECT_TIME_T, &connectTime)
      let detail = String(cString: errorBuffer)
      let curlText = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
      switch code {
      // libcurl's own limits on response headers (a line over 100 KiB; 300 KiB in all).
      case CURLE_OUT_OF_MEMORY where status != 0 && !answered, CURLE_RECV_ERROR where detail.contains("Too large response headers"):
        return headersTooLarge()
      case CURLE_ABORTED_BY_CALLBACK:
        return TransferError(.cancelled, url: url, message: "cancelled")
      case CURLE_OPERATION_TIMEDOUT:
        if status != 0 || connectTime > 0 { return stalled() }
        return TransferError(.timedOut, url: url, message: "could not connect within \(Exchange.seconds(request.connectTimeout)) s")
      case CURLE_COULDNT_CONNECT:
        let cause = osErrno == Int(ECONNREFUSED) ? "connection refused" : osErrno != 0 ? String(cString: strerror(Int32(osErrno))).lowercased() : "could not connect"
        return TransferError(.network, url: url, message: cause)
      case CURLE_COULDNT_RESOLVE_HOST:
        return TransferError(.network, url: url, message: "could not resolve host")
      case CURLE_PARTIAL_FILE:
        let received = writer?.bytesAppended ?? 0
        let expected = contentLength.map { " of \($0)" } ?? ""
        return TransferError(.network, url: url, message: "truncated after \(received)\(expected) bytes")
      case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR:
        return TransferError(.network, url: url, message: "TLS certificate verification failed: \(curlText)", isRetryable: false)
      case CURLE_TOO_MANY_REDIRECTS:
        return TransferError(.network, url: url, message: "more than 10 redirects", isRetryable: false)
      case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
        return TransferError(.unsupported, url: url, message: curlText)
      case CURLE_WRITE_ERROR:
        return TransferError(.io, url: url, message: "writing \(request.destination) failed")
      default:
        return TransferError(.network, url: url, message: curlText)
      }
    }

    private static func seconds(_ value: Double) -> String {
      value == value.rounded() ? String(Int(value)) : String(value)
    }
  }
}
