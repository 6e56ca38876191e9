import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The XML body of an S3 error response (`<Error><Code>NoSuchKey</Code>…`), turned into a cause
/// an operator can act on. Only the fields below are read: the rest can echo the access key id
/// or the string that was signed, and is never shown.
struct S3ErrorDocument: Equatable {
  /// `NoSuchKey`, `AccessDenied`, `SignatureDoesNotMatch`, …
  var code: String
  /// The region the bucket is in, which S3 names when a request was signed for another.
  var region: String?
  /// The endpoint to use instead, named by `PermanentRedirect`.
  var endpoint: String?

  /// The document in `body`, or nil when it is not an S3 error document.
  init?(_ body: Data?) {
    guard let body, !body.isEmpty else { return nil }
    let fields = XMLFields(["Code", "Region", "Endpoint"])
    let parser = XMLParser(data: body)
    parser.delegate = fields
    parser.shouldResolveExternalEntities = false
    _ = parser.parse()  // a body cut at 4 KiB still has its code, which comes first
    guard let code = fields.values["Code"], !code.isEmpty, code.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." }) else { return nil }
    self.code = code
    region = fields.values["Region"]
    endpoint = fields.values["Endpoint"]
  }

  /// The cause for a failed request, such as `NoSuchKey (HTTP 404)` or
  /// `SignatureDoesNotMatch — check AWS_SECRET_ACCESS_KEY`.
  ///
  /// - Parameters:
  ///   - permission: what `AccessDenied` lacks, e.g. `s3:GetObject on bucket/key`.
  ///   - signed: whether the request carried credentials at all.
  func cause(status: Int, permission: String, signed: Bool) -> String {
    let regionHint = "the bucket is in \(region ?? "another region"); set AWS_REGION\(region.map { "=\($0)" } ?? "") or config s3_region"
    switch code {
    case "NoSuchKey", "NoSuchBucket":
      return "\(code) (HTTP \(status))"
    case "AccessDenied" where !signed, "AllAccessDisabled" where !signed:
      return "\(code) — no credentials were sent; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
    case "AccessDenied":
      return "AccessDenied — the credentials have no \(permission)"
    case "InvalidAccessKeyId":
      return "InvalidAccessKeyId — check AWS_ACCESS_KEY_ID / the profile in ~/.aws/credentials"
    case "SignatureDoesNotMatch":
      return "SignatureDoesNotMatch — check AWS_SECRET_ACCESS_KEY"
    case "ExpiredToken", "TokenRefreshRequired":
      return "\(code) — the temporary credentials expired; renew AWS_SESSION_TOKEN and the keys issued with it"
    case "InvalidToken":
      return "InvalidToken — check AWS_SESSION_TOKEN (it must belong to AWS_ACCESS_KEY_ID)"
    case "RequestTimeTooSkewed":
      return "RequestTimeTooSkewed — this node's clock is more than 15 minutes off; fix its time (NTP)"
    case "AuthorizationHeaderMalformed" where region != nil, "IllegalLocationConstraintException":
      return "\(code) — \(regionHint)"
    case "PermanentRedirect", "TemporaryRedirect":
      let place = endpoint.map { "the bucket is served by \($0)" } ?? "the bucket is in another region"
      return "\(code) (HTTP \(status)) — \(place); set AWS_REGION or config s3_region (or the endpoint)"
    default:
      return "\(code) (HTTP \(status))"
    }
  }
}

/// Collects the text of the first elements with the given names.
private final class XMLFields: NSObject, XMLParserDelegate {
  let wanted: Set<String>
  var values: [String: String] = [:]
  private var current: String?
  private var text = ""

  init(_ names: Set<String>) { wanted = names }

  func parser(
    _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    current = wanted.contains(elementName) && values[elementName] == nil ? elementName : nil
    text = ""
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) {
    if current != nil { text += string }
  }

  func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
    if let current, current == elementName { values[current] = text.trimmingCharacters(in: .whitespacesAndNewlines) }
    current = nil
  }
}
