import Foundation

/// A Hugging Face Hub repository at a revision, and optionally a file in it:
/// `hf://[datasets/]ORG/REPO[@REVISION][/PATH]`.
///
/// The revision is a branch, a tag or a commit; without one it is `main`. A revision that holds a
/// `/` (`refs/pr/1`) is written percent-encoded (`@refs%2Fpr%2F1`), as `huggingface_hub` does.
/// Path segments are percent-decoded here and encoded again in every URL built from them.
public struct HubReference: Sendable, Hashable, CustomStringConvertible {
  /// The two kinds of Hub repository reconcile reads.
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// A model repository: `hf://ORG/REPO`.
    case model
    /// A dataset repository: `hf://datasets/ORG/REPO`.
    case dataset
  }

  /// A reference that is not of the form `hf://[datasets/]ORG/REPO[@REVISION][/PATH]`.
  public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reference as given.
    public var reference: String
    /// What is wrong with it.
    public var reason: String

    /// `invalid Hugging Face reference 'X': reason`.
    public var description: String { "invalid Hugging Face reference '\(reference)': \(reason)" }
  }

  /// The revision used when a reference names none.
  public static let defaultRevision = "main"

  /// Model or dataset.
  public var kind: Kind
  /// `ORG/REPO`.
  public var repo: String
  /// The branch, tag or commit, `main` unless given.
  public var revision: String
  /// The file or directory in the repository, decoded, without leading or trailing `/`; empty for the repository itself.
  public var path: String

  /// A reference from its parts, taken as they are.
  public init(kind: Kind = .model, repo: String, revision: String = HubReference.defaultRevision, path: String = "") {
    self.kind = kind
    self.repo = repo
    self.revision = revision
    self.path = path
  }

  /// Parses `hf://[datasets/]ORG/REPO[@REVISION][/PATH]`.
  public init(parsing text: String) throws(ParseError) {
    func fail(_ reason: String) -> ParseError { ParseError(reference: text, reason: reason) }
    let form = "expected hf://ORG/REPO[@REVISION][/PATH] or hf://datasets/ORG/REPO[@REVISION][/PATH]"
    guard text.hasPrefix("hf://") else { throw fail(form) }
    var rest = Substring(text.dropFirst("hf://".count))
    if let bad = rest.first(where: { $0 == "?" || $0 == "#" || $0 == "\0" || $0.isWhitespace || $0 == "\\" }) {
      throw fail("'\(bad == "\0" ? "NUL" : String(bad))' is not allowed in a reference")
    }
    if rest.hasPrefix("spaces/") { throw fail("Spaces are not supported; reference a model or dataset repository") }
    var kind = Kind.model
    if rest.hasPrefix("datasets/") {
      kind = .dataset
      rest = rest.dropFirst("datasets/".count)
    } else if rest.hasPrefix("models/") {
      throw fail("model repositories are written without 'models/': hf://ORG/REPO")
    }

    let orgEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    let org = String(rest[..<orgEnd])
    guard orgEnd < rest.endIndex else {
      throw fail(org.isEmpty ? form : "missing the repository name after '\(org)'; \(form)")
    }
    rest = rest[rest.index(after: orgEnd)...]
    let repoEnd = rest.firstIndex { $0 == "/" || $0 == "@" } ?? rest.endIndex
    let name = String(rest[..<repoEnd])
    rest = rest[repoEnd...]
    if let problem = HubReference.problem(organization: org) ?? HubReference.problem(repositoryName: name) {
      throw fail(problem)
    }

    var revision = HubReference.defaultRevision
    if rest.first == "@" {
      let revisionEnd = rest.dropFirst().firstIndex(of: "/") ?? rest.endIndex
      let encoded = rest[rest.index(after: rest.startIndex)..<revisionEnd]
      guard !encoded.isEmpty else { throw fail("empty revision after '@'") }
      guard let decoded = encoded.removingPercentEncoding else { throw fail("revision '\(encoded)' has a malformed percent-encoding") }
      guard !decoded.contains("\0"), !decoded.hasPrefix("/"), !decoded.hasSuffix("/"), !decoded.contains("//") else {
        throw fail("revision '\(decoded)' is not a valid branch, tag or commit")
      }
      revision = decoded
      rest = rest[revisionEnd...]
    }

    var segments: [String] = []
    if !rest.isEmpty {
      // rest starts with "/"; one trailing "/" (a directory source) is allowed.
      var body = rest.dropFirst()
      if body.hasSuffix("/") { body = body.dropLast() }
      for encoded in body.isEmpty ? [] : body.split(separator: "/", omittingEmptySubsequences: false) {
        guard !encoded.isEmpty else { throw fail("empty path segment ('//')") }
        guard let segment = encoded.removingPercentEncoding else { throw fail("path segment '\(encoded)' has a malformed percent-encoding") }
        guard segment != ".", segment != ".." else { throw fail("path segment '\(segment)' is not allowed") }
        guard !segment.contains("/"), !segment.contains("\0") else { throw fail("path segment '\(encoded)' encodes '/' or NUL") }
        segments.append(segment)
      }
    }
    self.init(kind: kind, repo: org + "/" + name, revision: revision, path: segments.joined(separator: "/"))
  }

  /// `hf://[datasets/]ORG/REPO@REVISION[/PATH]`, percent-encoded; parses back to an equal value.
  public var description: String {
    path.isEmpty ? repository : repository + "/" + HubReference.encodedPath(path)
  }

  /// The reference without its path: `hf://[datasets/]ORG/REPO@REVISION`.
  public var repository: String {
    "hf://" + repoPath + "@" + HubReference.encodedSegment(revision)
  }

  /// Whether the revision is a full commit id (40 hex digits), which never moves.
  public var isCommit: Bool { HubReference.isCommitID(revision) }

  /// The same repository and path at `revision`.
  public func at(revision: String) -> HubReference {
    HubReference(kind: kind, repo: repo, revision: revision, path: path)
  }

  /// The same repository and revision with `path`.
  public func with(path: String) -> HubReference {
    HubReference(kind: kind, repo: repo, revision: revision, path: path)
  }

  /// Whether `text` is a full git commit id: 40 lowercase hex digits.
  public static func isCommitID(_ text: String) -> Bool {
    text.utf8.count == 40 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
  }

  // MARK: URLs

  /// `ORG/REPO` or `datasets/ORG/REPO`: the repository's place in web and resolve URLs.
  public var repoPath: String { kind == .dataset ? "datasets/" + repo : repo }

  /// `models` or `datasets`: the repository's collection in `/api/` URLs.
  public var apiCollection: String { kind == .dataset ? "datasets" : "models" }

  /// `{endpoint}/[datasets/]ORG/REPO/resolve/{revision}/{path}`.
  public func resolveURL(endpoint: String) -> String {
    "\(endpoint)/\(repoPath)/resolve/\(HubReference.encodedSegment(revision))/\(HubReference.encodedPath(path))"
  }

  /// `{endpoint}/api/{models|datasets}/ORG/REPO/{operation}/{revision}`.
  public func apiURL(endpoint: String, _ operation: String) -> String {
    "\(endpoint)/api/\(apiCollection)/\(repo)/\(operation)/\(HubReference.encodedSegment(revision))"
  }

  /// One path segment, percent-encoded for a URL.
  public static func encodedSegment(_ segment: String) -> String {
    segment.addingPercentEncoding(withAllowedCharacters: .urlPathSegmentAllowed) ?? segment
  }

  /// A path, each segment percent-encoded, the slashes kept.
  public static func encodedPath(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: false).map { encodedSegment(String($0)) }.joined(separator: "/")
  }

  // MARK: Validation

  /// Why `name` cannot be a Hub user or organisation name, or nil.
  public static func problem(organization name: String) -> String? {
    problem(name, what: "organization")
  }

  /// Why `name` cannot be a Hub repository name, or nil.
  public static func problem(repositoryName name: String) -> String? {
    problem(name, what: "repository name")
  }

  /// The Hub's own rules for both parts of a repository id: letters, digits, `.`, `_`, `-`,
  /// at most 96 characters, no `--` or `..`, not starting or ending with `-` or `.`.
  private static func problem(_ name: String, what: String) -> String? {
    if name.isEmpty { return "empty \(what)" }
    let allowed = name.unicodeScalars.allSatisfy { scalar in
      scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
    }
    if !allowed { return "\(what) '\(name)' may contain only letters, digits, '.', '_' and '-'" }
    if name.count > 96 { return "\(what) '\(name)' is longer than 96 characters" }
    if name.contains("--") || name.contains("..") { return "\(what) '\(name)' must not contain '--' or '..'" }
    if let first = name.first, let last = name.last, "-.".contains(first) || "-.".contains(last) {
      return "\(what) '\(name)' must not start or end with '-' or '.'"
    }
    return nil
  }
}
