import Foundation
import ReconcileCore

/// Fetches `hf://[datasets/]ORG/REPO[@REVISION]/PATH` from the Hugging Face Hub.
///
/// It first asks the Hub what it serves for the file (`HEAD` on the resolve URL). When the Hub
/// names the content's SHA-256 (LFS files) and it is not the one the desired state pins, it fails
/// at once, without a byte fetched: the desired state pins another file than the Hub serves, and
/// no retry will change that. Otherwise it downloads the resolve URL at the commit the revision
/// resolved to (so that a branch moving meanwhile cannot splice two files on resume) with
/// `HTTPTransfer`, sending `Authorization: Bearer $HF_TOKEN`. libcurl drops that header when
/// the redirect leaves the Hub's host or port for the CDN.
public struct HubTransfer: Transfer {
  /// Endpoint and token.
  public var settings: HubSettings
  /// The transfer that downloads the bytes.
  public var http: HTTPTransfer

  /// A Hub transfer that downloads with `http`.
  public init(settings: HubSettings, http: HTTPTransfer = HTTPTransfer()) {
    self.settings = settings
    self.http = http
  }

  /// Checks the file's metadata against the request, then downloads it into `request.destination`.
  public func fetch(_ request: TransferRequest) throws(TransferError) -> TransferResult {
    let reference: HubReference
    do {
      reference = try HubReference(parsing: request.url)
    } catch {
      throw TransferError(.unsupported, url: request.url, message: error.description)
    }
    guard !reference.path.isEmpty else {
      throw TransferError(.unsupported, url: request.url, message: "names a repository, not a file in it")
    }
    if request.cancellation?.isCancelled == true { throw TransferError(.cancelled, url: reference.description, message: "cancelled") }

    let api = HubAPI(settings: settings, timeout: request.connectTimeout + request.stallTimeout)
    let metadata = try api.fileMetadata(reference, path: reference.path)
    let commit = metadata.commit.flatMap { HubReference.isCommitID($0) ? $0 : nil }
    try check(metadata, against: request, reference: reference, commit: commit)

    var forwarded = request
    forwarded.url = reference.at(revision: commit ?? reference.revision).resolveURL(endpoint: settings.endpoint)
    forwarded.headers.merge(api.authorization(for: forwarded.url)) { _, ours in ours }
    do {
      return try http.fetch(forwarded)
    } catch {
      // A refusal by the Hub itself (the token revoked since the HEAD) says which credential to set.
      guard case .http(let status) = error.kind, status == 401 || status == 403 else { throw error }
      let response = HTTPRequest.Response(status: status, headers: [:], body: Data(), effectiveURL: forwarded.url)
      throw api.failure(response, url: forwarded.url, reference: reference, asking: .file)
    }
  }

  /// Fails when the Hub's SHA-256 or size for the file is not what the request expects.
  private func check(_ metadata: HubFileMetadata, against request: TransferRequest, reference: HubReference, commit: String?) throws(TransferError) {
    let revision: String
    if let commit, commit != reference.revision {
      revision = "\(reference.revision) (commit \(commit))"
    } else {
      revision = reference.revision
    }
    if let expected = request.expectedSHA256, let served = metadata.sha256, served != expected {
      throw TransferError(
        .http(metadata.status), url: reference.description,
        message: "the Hub serves sha256 \(served.hex) for \(reference.path) at \(revision), the desired state pins \(expected.hex)",
        isRetryable: false)
    }
    if let expected = request.expectedSize, let served = metadata.size, served != expected {
      throw TransferError(
        .http(metadata.status), url: reference.description,
        message: "the Hub serves \(served) bytes for \(reference.path) at \(revision), the desired state pins \(expected) bytes",
        isRetryable: false)
    }
  }
}
