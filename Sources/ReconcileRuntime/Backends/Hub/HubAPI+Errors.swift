import Foundation
import ReconcileCore

extension HubAPI {
  /// What a failed request asked for, which decides what a 404 means.
  enum Question {
    case revision, tree, file
  }

  /// The error for a Hub answer other than success: for 401 and 403 which credential to set,
  /// for 404 what is missing and the URL, else the status and the URL. Never the token. A 429
  /// or 503 carries its `Retry-After`.
  func failure(_ response: HTTPRequest.Response, url: String, reference: HubReference, asking question: Question) -> TransferError {
    let status = response.status
    let shownURL = TransferError.redacted(url)
    let variable = settings.tokenVariable
    let repo = reference.repo
    // The Hub says what is missing in X-Error-Code: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo.
    let code = response.header("x-error-code")
    let message: String
    switch status {
    case 401:
      message = settings.token == nil
        ? "HTTP 401 Unauthorized — set \(variable) to a token with access to \(repo)"
        : "HTTP 401 Unauthorized — the token in \(variable) is invalid or has no access to \(repo)"
    case 403:
      let why = code == "GatedRepo" ? "gated: accept its conditions on the Hub with the token's account" : "gated or private"
      message = settings.token == nil
        ? "HTTP 403 Forbidden — set \(variable) to a token with access to \(repo) (\(why))"
        : "HTTP 403 Forbidden — the token in \(variable) has no access to \(repo) (\(why))"
    case 404 where code == "RepoNotFound":
      let hint = settings.token == nil ? "; if it is private, set \(variable)" : ""
      message = "repository \(repo) not found (HTTP 404 \(shownURL))\(hint)"
    case 404 where code == "RevisionNotFound" || (code == nil && question != .file):
      message = "revision '\(reference.revision)' not found (HTTP 404 \(shownURL))"
    case 404:
      message = "no file '\(reference.path)' at revision '\(reference.revision)' (HTTP 404 \(shownURL))"
    default:
      let phrase = HTTPTransfer.Exchange.reasonPhrase(status, fallback: "")
      message = "HTTP \(status)\(phrase.isEmpty ? "" : " " + phrase) (\(shownURL))"
    }
    let shown = question == .file ? reference.description : reference.repository
    var error = TransferError(.http(status), url: shown, message: message)
    // The Hub rate-limits with 429 and says for how long.
    if status == 429 || status == 503, let value = response.header("retry-after") {
      error.retryAfter = RetryAfter.seconds(value, now: Date())
    }
    return error
  }
}
