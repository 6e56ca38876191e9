import Foundation
import ReconcileCore

/// The few Hugging Face Hub API calls reconcile needs: a revision's commit, a commit's file list,
/// and one file's metadata. Blocking; every failure is a `TransferError` naming the `hf://`
/// reference, the cause and, for a missing credential, the variable to set.
///
/// The token goes to the endpoint's origin only: a pagination link or redirect elsewhere is
/// requested without it.
public struct HubAPI: Sendable {
  /// Endpoint and token.
  public var settings: HubSettings
  /// Seconds for each request, whole exchange.
  public var timeout: Double

  /// An API client for `settings`.
  public init(settings: HubSettings, timeout: Double = 60) {
    self.settings = settings
    self.timeout = timeout
  }

  /// The commit `reference.revision` names; a 40-hex revision is a commit already and is
  /// returned without a request. Uses `/api/{models|datasets}/ORG/REPO/revision/REV`.
  public func resolveRevision(_ reference: HubReference) throws(TransferError) -> String {
    if reference.isCommit { return reference.revision }
    let subject = reference.with(path: "")
    let url = subject.apiURL(endpoint: settings.endpoint, "revision")
    let response = try get(url, subject)
    guard response.status == 200 else { throw failure(response, url: url, reference: subject, asking: .revision) }
    struct RevisionInfo: Decodable { var sha: String? }
    guard let sha = (try? JSONDecoder().decode(RevisionInfo.self, from: response.body))?.sha?.lowercased(),
      HubReference.isCommitID(sha)
    else { throw malformed(url, subject, "no commit id in the answer") }
    return sha
  }

  /// Every file of `repo` at `commit`, sorted by path, from the tree API
  /// (`/api/{models|datasets}/ORG/REPO/tree/COMMIT?recursive=true`), following its
  /// `Link: <…>; rel="next"` pages.
  public func listFiles(repo: String, kind: HubReference.Kind = .model, commit: String) throws(TransferError) -> [HubFile] {
    let subject = HubReference(kind: kind, repo: repo, revision: commit)
    var next: String? = subject.apiURL(endpoint: settings.endpoint, "tree") + "?recursive=true"
    var visited: Set<String> = []
    var files: [HubFile] = []
    while let url = next {
      guard visited.insert(url).inserted else { throw malformed(url, subject, "the tree API's pages link back to an earlier page") }
      let response = try get(url, subject)
      guard response.status == 200 else { throw failure(response, url: url, reference: subject, asking: .tree) }
      let entries: [TreeEntry]
      do {
        entries = try JSONDecoder().decode([TreeEntry].self, from: response.body)
      } catch {
        throw malformed(url, subject, "the tree API's answer is not a list of files")
      }
      for entry in entries where entry.type == "file" {
        let sha256 = entry.lfs.map { $0.oid.lowercased() }
        files.append(HubFile(path: entry.path, size: entry.lfs?.size ?? entry.size ?? 0, gitOID: entry.oid, lfsSHA256: sha256))
      }
      next = HubAPI.nextLink(response.header("link"), relativeTo: url)
    }
    return files.sorted { $0.path < $1.path }
  }

  /// The Hub's metadata for `path` in `reference`'s repository at its revision: a `HEAD` on the
  /// resolve URL that follows redirects within the Hub (a renamed repository) but not the one to
  /// the CDN, whose target is reported as `location`.
  public func fileMetadata(_ reference: HubReference, path: String) throws(TransferError) -> HubFileMetadata {
    let subject = reference.with(path: path)
    var url = subject.resolveURL(endpoint: settings.endpoint)
    var headers: [String: String] = [:]
    for _ in 0..<5 {
      var request = HTTPRequest(url: url, method: "HEAD", headers: authorization(for: url))
      // Otherwise Content-Length may be that of a compressed body.
      request.headers["Accept-Encoding"] = "identity"
      request.followRedirects = false
      request.timeout = timeout
      let response = try perform(request, subject)
      headers.merge(response.headers) { _, latest in latest }
      let location = response.header("location").flatMap { HubAPI.absolute($0, relativeTo: url) }
      if (300..<400).contains(response.status), let location {
        // A relative redirect stays on the Hub (a renamed repository); anything else is the CDN.
        if let relative = response.header("location"), URLComponents(string: relative)?.host == nil {
          url = location
          continue
        }
        return metadata(url: url, status: response.status, headers: headers, location: location)
      }
      guard (200..<300).contains(response.status) else { throw failure(response, url: url, reference: subject, asking: .file) }
      return metadata(url: url, status: response.status, headers: headers, location: nil)
    }
    throw TransferError(.network, url: subject.description, message: "more than 5 redirects within the Hub (\(TransferError.redacted(url)))", isRetryable: false)
  }

  // MARK: Requests

  /// `Authorization: Bearer …` when `url` is on the endpoint's origin and a token is set.
  func authorization(for url: String) -> [String: String] {
    guard let token = settings.token, HubAPI.sameOrigin(url, settings.endpoint) else { return [:] }
    return ["Authorization": "Bearer \(token)"]
  }

  private func get(_ url: String, _ subject: HubReference) throws(TransferError) -> HTTPRequest.Response {
    var request = HTTPRequest(url: url, headers: authorization(for: url))
    request.headers["Accept"] = "application/json"
    request.timeout = timeout
    return try perform(request, subject)
  }

  /// Runs `request`; a network failure names the reference and the URL.
  private func perform(_ request: HTTPRequest, _ subject: HubReference) throws(TransferError) -> HTTPRequest.Response {
    do {
      return try request.perform()
    } catch {
      throw TransferError(error.kind, url: subject.description, message: "\(error.message) (\(TransferError.redacted(request.url)))", isRetryable: error.isRetryable)
    }
  }

  private func metadata(url: String, status: Int, headers: [String: String], location: String?) -> HubFileMetadata {
    let etag = (headers["x-linked-etag"] ?? headers["etag"]).map(HubFileMetadata.strippedETag)
    let size = headers["x-linked-size"].flatMap { Int64($0) } ?? (status == 200 ? headers["content-length"].flatMap { Int64($0) } : nil)
    let commit = headers["x-repo-commit"].map { $0.lowercased() }
    return HubFileMetadata(url: url, status: status, etag: etag?.isEmpty == true ? nil : etag, size: size, commit: commit, location: location)
  }

  private func malformed(_ url: String, _ subject: HubReference, _ what: String) -> TransferError {
    TransferError(.network, url: subject.repository, message: "\(what) (\(TransferError.redacted(url)))", isRetryable: false)
  }

  // MARK: URLs

  /// The `rel="next"` target of a `Link` header, absolute.
  static func nextLink(_ header: String?, relativeTo base: String) -> String? {
    guard let header else { return nil }
    for link in header.split(separator: ",") {
      let parts = link.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
      guard let target = parts.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
      let isNext = parts.dropFirst().contains { parameter in
        let text = parameter.lowercased().replacingOccurrences(of: " ", with: "")
        return text == "rel=\"next\"" || text == "rel=next"
      }
      if isNext { return absolute(String(target.dropFirst().dropLast()), relativeTo: base) }
    }
    return nil
  }

  /// `reference` resolved against `base`.
  static func absolute(_ reference: String, relativeTo base: String) -> String? {
    URL(string: reference, relativeTo: URL(string: base))?.absoluteURL.absoluteString
  }

  /// Whether both URLs have the same scheme, host and port.
  static func sameOrigin(_ first: String, _ second: String) -> Bool {
    guard let a = URLComponents(string: first), let b = URLComponents(string: second) else { return false }
    func port(_ components: URLComponents) -> Int? {
      components.port ?? (components.scheme?.lowercased() == "https" ? 443 : components.scheme?.lowercased() == "http" ? 80 : nil)
    }
    return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased() && port(a) == port(b)
  }

  /// One entry of the tree API: a file (with `lfs` when stored with LFS) or a directory.
  private struct TreeEntry: Decodable {
    struct LFS: Decodable {
      var oid: String
      var size: Int64
    }
    var type: String
    var oid: String
    var size: Int64?
    var path: String
    var lfs: LFS?
  }
}
