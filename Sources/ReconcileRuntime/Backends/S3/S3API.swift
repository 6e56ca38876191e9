import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// One object in a bucket listing.
public struct S3Object: Sendable, Hashable, Codable {
  /// The key, as stored.
  public var key: String
  /// The size in bytes.
  public var size: Int64
  /// The entity tag without its quotes; the MD5 of the content only for objects uploaded in one part.
  public var etag: String?

  /// An object with every field given.
  public init(key: String, size: Int64, etag: String?) {
    self.key = key
    self.size = size
    self.etag = etag
  }
}

/// The S3 calls besides downloads, signed like them: listing a prefix (for `reconcile lock`).
public struct S3API: Sendable {
  /// Endpoint, region, addressing and credentials.
  public var settings: S3Settings
  /// Seconds for each request.
  public var timeout: Double

  /// An API client for `settings`.
  public init(settings: S3Settings, timeout: Double = 60) {
    self.settings = settings
    self.timeout = timeout
  }

  /// Every object whose key starts with `prefix`, in key order, following ListObjectsV2's
  /// continuation tokens; `maxKeys` sets the page size (S3's default and maximum is 1000).
  /// Errors name `s3://BUCKET/PREFIX` and S3's error code, as `S3Transfer`'s do.
  public func listObjects(bucket: String, prefix: String, maxKeys: Int? = nil) throws(TransferError) -> [S3Object] {
    let location = S3Location(bucket: bucket, key: prefix)
    if let problem = S3Location.problem(withBucket: bucket) {
      throw TransferError(.unsupported, url: location.description, message: problem)
    }
    var objects: [S3Object] = []
    var token: String?
    var seen: Set<String> = []
    repeat {
      let page = try listPage(location, continuationToken: token, maxKeys: maxKeys)
      objects += page.objects
      guard page.isTruncated else { break }
      guard let next = page.nextContinuationToken, !next.isEmpty, seen.insert(next).inserted else {
        throw TransferError(.network, url: location.description, message: "the listing is truncated but gives no new continuation token", isRetryable: false)
      }
      token = next
    } while true
    return objects
  }

  /// One ListObjectsV2 page.
  func listPage(_ location: S3Location, continuationToken: String?, maxKeys: Int?) throws(TransferError) -> ListPage {
    var base = S3Location(bucket: location.bucket, key: "").url(settings)
    if base.hasSuffix("/") { base.removeLast() }
    // libcurl signs the query exactly as sent: SigV4 wants it sorted by name and strictly encoded.
    var parameters = ["list-type": "2", "prefix": location.key]
    if let continuationToken { parameters["continuation-token"] = continuationToken }
    if let maxKeys { parameters["max-keys"] = String(maxKeys) }
    let query = parameters.sorted { $0.key < $1.key }
      .map { "\($0.key)=\(S3Location.encoded($0.value, keepingSlashes: false))" }
      .joined(separator: "&")
    let url = base + "?" + query

    var request = HTTPRequest(url: url, headers: S3Transfer.signedHeaders(settings))
    request.signing = settings.credentials
    request.followRedirects = settings.credentials == nil
    request.timeout = timeout
    let response: HTTPRequest.Response
    do {
      response = try request.perform()
    } catch {
      throw S3Transfer.error(error, url: location.description, endpointURL: url, settings: settings, permission: "s3:ListBucket on \(location.bucket)")
    }
    guard response.status == 200 else {
      var error = TransferError(
        .http(response.status), url: url,
        message: "HTTP \(response.status) \(HTTPTransfer.Exchange.reasonPhrase(response.status, fallback: ""))".trimmingCharacters(in: .whitespaces))
      error.responseBody = response.body.prefix(4096)
      throw S3Transfer.error(error, url: location.description, endpointURL: url, settings: settings, permission: "s3:ListBucket on \(location.bucket)")
    }
    guard let page = ListPage(response.body) else {
      throw TransferError(.network, url: location.description, message: "the answer from \(url) is not a ListBucketResult document", isRetryable: false)
    }
    return page
  }

  /// What one ListObjectsV2 response says.
  struct ListPage {
    var objects: [S3Object] = []
    var isTruncated = false
    var nextContinuationToken: String?

    /// The page in `body`, or nil when it is not a `ListBucketResult` document.
    init?(_ body: Data) {
      let reader = ListBucketResultReader()
      let parser = XMLParser(data: body)
      parser.delegate = reader
      parser.shouldResolveExternalEntities = false
      guard parser.parse(), reader.isListBucketResult, reader.valid else { return nil }
      objects = reader.objects
      isTruncated = reader.isTruncated
      nextContinuationToken = reader.nextContinuationToken
    }
  }
}

/// Reads `<ListBucketResult>`: each `<Contents>`'s key, size and ETag, `<IsTruncated>` and
/// `<NextContinuationToken>`.
private final class ListBucketResultReader: NSObject, XMLParserDelegate {
  var objects: [S3Object] = []
  var isTruncated = false
  var nextContinuationToken: String?
  var isListBucketResult = false
  /// False once an object lacked a key or a readable size.
  var valid = true

  private var path: [String] = []
  private var text = ""
  private var key: String?
  private var size: Int64?
  private var etag: String?

  func parser(
    _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    if path.isEmpty { isListBucketResult = elementName == "ListBucketResult" }
    path.append(elementName)
    text = ""
    if path == ["ListBucketResult", "Contents"] { (key, size, etag) = (nil, nil, nil) }
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

  func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    switch path {
    case ["ListBucketResult", "IsTruncated"]: isTruncated = trimmed == "true"
    case ["ListBucketResult", "NextContinuationToken"]: nextContinuationToken = trimmed
    case ["ListBucketResult", "Contents", "Key"]: key = text  // keys may start or end with spaces
    case ["ListBucketResult", "Contents", "Size"]: size = Int64(trimmed)
    case ["ListBucketResult", "Contents", "ETag"]: etag = trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    case ["ListBucketResult", "Contents"]:
      if let key, let size { objects.append(S3Object(key: key, size: size, etag: etag)) } else { valid = false }
    default: break
    }
    path.removeLast()
    text = ""
  }
}
