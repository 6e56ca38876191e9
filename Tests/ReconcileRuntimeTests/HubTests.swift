import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// `hf://` references, settings and the Hub client and transfer against a loopback stand-in for
/// the Hub whose resolve URLs redirect to a second port acting as the CDN.
@Suite struct HubTests {
  static let token = "hf_TestSecretToken0123456789"
  static let commit = "2b4f0c1d2b4f0c1d2b4f0c1d2b4f0c1d2b4f0c1d"
  static let oldCommit = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
  static let privateCommit = "5555555555555555555555555555555555555555"
  static let datasetCommit = "dddddddddddddddddddddddddddddddddddddddd"
  static let weights = "transformer/model-00001.safetensors"
  static let spaced = "vae/diffusion pytorch model.bin"

  let directory: ScratchDirectory
  let server: TestHubServer
  /// 1 MiB, stored with LFS.
  let weightBytes: Data
  /// 4 KiB, stored with LFS, at a path with spaces.
  let spacedBytes: Data
  /// A small file, not LFS.
  let config = Data(#"{"model_type": "wan"}"#.utf8)
  let trainBytes: Data

  init() throws {
    directory = try ScratchDirectory("hub")
    let repos = directory.url.appendingPathComponent("repos")
    weightBytes = Data(randomBytes(1 << 20))
    spacedBytes = Data(randomBytes(4096))
    trainBytes = Data(randomBytes(2048))
    try TestHubServer.writeRepository(
      in: repos, "acme/wan-mini", commit: Self.commit,
      files: [Self.weights: weightBytes, Self.spaced: spacedBytes, "config.json": config, "README.md": Data("# wan\n".utf8)],
      refs: ["main": Self.commit, "refs/pr/1": Self.commit, "v1.0": Self.oldCommit])
    try TestHubServer.writeRepository(in: repos, "acme/wan-mini", commit: Self.oldCommit, files: ["config.json": Data("{}".utf8)])
    try TestHubServer.writeRepository(
      in: repos, "acme/private-model", commit: Self.privateCommit, files: ["model.bin": Data(randomBytes(2048))],
      refs: ["main": Self.privateCommit], isPrivate: true)
    try TestHubServer.writeRepository(
      in: repos, "acme/prompts", dataset: true, commit: Self.datasetCommit, files: ["data/train.jsonl": trainBytes],
      refs: ["main": Self.datasetCommit])
    server = try TestHubServer(serving: repos, token: Self.token, pageSize: 2)
  }

  var settings: HubSettings { HubSettings(endpoint: server.endpoint, token: Self.token) }
  var api: HubAPI { HubAPI(settings: settings) }
  var partial: String { directory.path("blob.part") }

  func request(_ url: String, sha256: Digest? = nil, size: Int64? = nil) -> TransferRequest {
    var request = TransferRequest(url: url, destination: partial, expectedSize: size)
    request.expectedSHA256 = sha256
    return request
  }

  /// The error `body` threw, or a test failure when it returned.
  func failure<T>(_ body: () throws -> T) -> TransferError? {
    do {
      let value = try body()
      Issue.record("expected an error, got \(value)")
      return nil
    } catch let error as TransferError {
      #expect(!error.description.contains(Self.token), "the token leaked into \(error)")
      #expect(!error.description.contains("wrong-token"), "a token leaked into \(error)")
      return error
    } catch {
      Issue.record("expected a TransferError, got \(error)")
      return nil
    }
  }

  // MARK: References

  @Test(arguments: [
    ("hf://Wan-AI/Wan2.2-T2V-A14B@2b4f0c1", HubReference.Kind.model, "Wan-AI/Wan2.2-T2V-A14B", "2b4f0c1", ""),
    ("hf://Wan-AI/Wan2.2-T2V-A14B@2b4f0c1/transformer/model-00001.safetensors", .model, "Wan-AI/Wan2.2-T2V-A14B", "2b4f0c1", "transformer/model-00001.safetensors"),
    ("hf://org/repo/path/to/file.bin", .model, "org/repo", "main", "path/to/file.bin"),
    ("hf://org/repo", .model, "org/repo", "main", ""),
    ("hf://org/repo/", .model, "org/repo", "main", ""),
    ("hf://org/repo@v1.0/sub/", .model, "org/repo", "v1.0", "sub"),
    ("hf://datasets/ORG/REPO@abc/data/x.parquet", .dataset, "ORG/REPO", "abc", "data/x.parquet"),
    ("hf://datasets/org/repo", .dataset, "org/repo", "main", ""),
    ("hf://org/repo@refs%2Fpr%2F1/a%20b.bin", .model, "org/repo", "refs/pr/1", "a b.bin"),
    ("hf://org/repo/dir/name@2x.png", .model, "org/repo", "main", "dir/name@2x.png"),
    ("hf://my_org.x/repo_1.5-b", .model, "my_org.x/repo_1.5-b", "main", ""),
  ])
  func parsesReferences(text: String, kind: HubReference.Kind, repo: String, revision: String, path: String) throws {
    let reference = try HubReference(parsing: text)
    #expect(reference == HubReference(kind: kind, repo: repo, revision: revision, path: path))
    #expect(try HubReference(parsing: reference.description) == reference, "description parses back: \(reference)")
  }

  @Test(arguments: [
    ("https://huggingface.co/org/repo", "expected hf://ORG/REPO"),
    ("hf://", "expected hf://ORG/REPO"),
    ("hf://gpt2", "missing the repository name after 'gpt2'"),
    ("hf://datasets/org", "missing the repository name after 'org'"),
    ("hf://org/", "empty repository name"),
    ("hf://org/repo@", "empty revision after '@'"),
    ("hf://org/repo@/x", "empty revision after '@'"),
    ("hf://org/re po", "' ' is not allowed"),
    ("hf://org/repo?x=1", "'?' is not allowed"),
    ("hf://org/rep$o", "may contain only letters, digits"),
    ("hf://org/-repo", "must not start or end with '-' or '.'"),
    ("hf://org/re--po", "must not contain '--' or '..'"),
    ("hf://org/repo/../x", "path segment '..' is not allowed"),
    ("hf://org/repo/a//b", "empty path segment"),
    ("hf://org/repo/a%2Fb", "encodes '/' or NUL"),
    ("hf://org/repo/a%zz", "malformed percent-encoding"),
    ("hf://spaces/org/app", "Spaces are not supported"),
    ("hf://models/org/repo", "written without 'models/'"),
  ])
  func rejectsMalformedReferences(text: String, reason: String) {
    #expect {
      _ = try HubReference(parsing: text)
    } throws: { error in
      let error = error as? HubReference.ParseError
      return error?.reference == text && error?.description.contains(reason) == true
        && error?.description.hasPrefix("invalid Hugging Face reference '\(text)': ") == true
    }
  }

  @Test func buildsHubURLs() {
    let reference = HubReference(kind: .dataset, repo: "org/repo", revision: "refs/pr/1", path: "a b/c.bin")
    #expect(reference.resolveURL(endpoint: "https://hf.co") == "https://hf.co/datasets/org/repo/resolve/refs%2Fpr%2F1/a%20b/c.bin")
    #expect(reference.apiURL(endpoint: "https://hf.co", "revision") == "https://hf.co/api/datasets/org/repo/revision/refs%2Fpr%2F1")
    #expect(reference.description == "hf://datasets/org/repo@refs%2Fpr%2F1/a%20b/c.bin")
  }

  // MARK: Settings

  @Test func readsSettingsFromTheEnvironmentThenTheConfig() throws {
    #expect(try HubSettings.from(environment: [:]) == HubSettings(endpoint: "https://huggingface.co"))
    let mirror = try HubSettings.from(environment: ["HF_ENDPOINT": "https://hf-mirror.example/", "HF_TOKEN": " hf_abc\n"], config: ["hf_endpoint": "https://other"])
    #expect(mirror.endpoint == "https://hf-mirror.example" && mirror.token == "hf_abc" && mirror.tokenVariable == "HF_TOKEN")
    let configured = try HubSettings.from(environment: ["HF_ENDPOINT": "", "HUGGING_FACE_HUB_TOKEN": "hf_old"], config: ["hf_endpoint": "http://10.0.0.5:8080"])
    #expect(configured.endpoint == "http://10.0.0.5:8080" && configured.token == "hf_old" && configured.tokenVariable == "HUGGING_FACE_HUB_TOKEN")
    let both = try HubSettings.from(environment: ["HF_TOKEN": "hf_new", "HUGGING_FACE_HUB_TOKEN": "hf_old"])
    #expect(both.token == "hf_new")
    #expect(throws: HubSettings.InvalidSetting(description: "HF_ENDPOINT must be an http:// or https:// URL such as https://huggingface.co, got 'huggingface.co'")) {
      _ = try HubSettings.from(environment: ["HF_ENDPOINT": "huggingface.co"])
    }
    #expect(throws: HubSettings.InvalidSetting(description: "HF_TOKEN contains a line break; it must be one token")) {
      _ = try HubSettings.from(environment: ["HF_TOKEN": "hf_a\nX-Injected: 1"])
    }
  }

  @Test func settingsNeverShowTheToken() {
    let settings = HubSettings(endpoint: "https://huggingface.co", token: Self.token)
    var dumped = ""
    dump(settings, to: &dumped)
    for text in [settings.description, String(reflecting: settings), "\(settings)", dumped] {
      #expect(!text.contains(Self.token), "\(text)")
      #expect(text.contains("set in HF_TOKEN"), "\(text)")
    }
  }

  // MARK: API

  @Test func resolvesBranchesTagsAndPullRequestsToCommits() throws {
    #expect(try api.resolveRevision(HubReference(repo: "acme/wan-mini")) == Self.commit)
    #expect(try api.resolveRevision(HubReference(repo: "acme/wan-mini", revision: "v1.0")) == Self.oldCommit)
    #expect(try api.resolveRevision(HubReference(repo: "acme/wan-mini", revision: "refs/pr/1")) == Self.commit)
    #expect(try api.resolveRevision(HubReference(kind: .dataset, repo: "acme/prompts")) == Self.datasetCommit)
    let paths = try server.requests(.hub).map(\.path)
    #expect(paths.contains("/api/models/acme/wan-mini/revision/refs/pr/1"))
    #expect(paths.contains("/api/datasets/acme/prompts/revision/main"))
  }

  @Test func aCommitIsItsOwnRevisionWithoutARequest() throws {
    let unknown = "ffffffffffffffffffffffffffffffffffffffff"
    #expect(try api.resolveRevision(HubReference(repo: "acme/nothing-here", revision: unknown)) == unknown)
    #expect(try server.requests(.hub).isEmpty)
  }

  @Test func aMissingRevisionOrRepositoryNamesTheURL() throws {
    let revision = try #require(failure { try api.resolveRevision(HubReference(repo: "acme/wan-mini", revision: "nope")) })
    #expect(revision.description == "hf://acme/wan-mini@nope: revision 'nope' not found (HTTP 404 \(server.endpoint)/api/models/acme/wan-mini/revision/nope)")
    #expect(revision.kind == .http(404) && !revision.isRetryable)
    let repository = try #require(failure { try api.resolveRevision(HubReference(repo: "acme/absent")) })
    #expect(repository.description == "hf://acme/absent@main: repository acme/absent not found (HTTP 404 \(server.endpoint)/api/models/acme/absent/revision/main)")
  }

  @Test func listsEveryFileAcrossPages() throws {
    let files = try api.listFiles(repo: "acme/wan-mini", kind: .model, commit: Self.commit)
    #expect(files.map(\.path) == ["README.md", "config.json", "transformer/model-00001.safetensors", "vae/diffusion pytorch model.bin"])
    let byPath = Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0) })
    #expect(byPath[Self.weights]?.size == Int64(weightBytes.count))
    #expect(byPath[Self.weights]?.lfsDigest == SHA256Hasher.digest(weightBytes))
    #expect(byPath[Self.spaced]?.lfsSHA256 == SHA256Hasher.digest(spacedBytes).hex)
    #expect(byPath["config.json"]?.lfsSHA256 == nil && byPath["config.json"]?.size == Int64(config.count))
    #expect(files.allSatisfy { HubReference.isCommitID($0.gitOID) }, "git blob ids are 40 hex digits")
    // 4 files and 2 directories at 2 entries a page.
    let pages = try server.requests(.hub).filter { $0.path.hasPrefix("/api/models/acme/wan-mini/tree/\(Self.commit)") }
    #expect(pages.count == 3)
    #expect(pages.allSatisfy { $0.authorizationPresent })
    #expect(pages.dropFirst().allSatisfy { $0.query.contains("cursor=") })
    // Pooled handles are taken by origin: each page reuses the connection of the one before.
    #expect(Set(pages.compactMap(\.clientPort)).count == 1, "\(pages.map(\.clientPort))")
  }

  @Test func listsADatasetsFiles() throws {
    let files = try api.listFiles(repo: "acme/prompts", kind: .dataset, commit: Self.datasetCommit)
    #expect(files == [HubFile(path: "data/train.jsonl", size: 2048, gitOID: files.first?.gitOID ?? "", lfsSHA256: SHA256Hasher.digest(trainBytes).hex)])
  }

  @Test(arguments: [
    (401, "hf_x", nil, "HTTP 401 Unauthorized — the token in HF_TOKEN is invalid or has no access to acme/m", false),
    (403, nil, nil, "HTTP 403 Forbidden — set HF_TOKEN to a token with access to acme/m (gated or private)", false),
    (403, "hf_x", "GatedRepo", "HTTP 403 Forbidden — the token in HF_TOKEN has no access to acme/m (gated: accept its conditions on the Hub with the token's account)", false),
    (404, nil, "RepoNotFound", "repository acme/m not found (HTTP 404 https://hf.example/x); if it is private, set HF_TOKEN", false),
    (404, nil, "EntryNotFound", "no file 'a.bin' at revision 'main' (HTTP 404 https://hf.example/x)", false),
    (429, nil, nil, "HTTP 429 Too Many Requests (https://hf.example/x)", true),
    (503, "hf_x", nil, "HTTP 503 Service Unavailable (https://hf.example/x)", true),
  ] as [(Int, String?, String?, String, Bool)])
  func explainsFailedAnswers(status: Int, token: String?, code: String?, message: String, retryable: Bool) {
    let api = HubAPI(settings: HubSettings(endpoint: "https://hf.example", token: token))
    let response = HTTPRequest.Response(status: status, headers: code.map { ["x-error-code": $0] } ?? [:], body: Data(), effectiveURL: "")
    let error = api.failure(response, url: "https://hf.example/x", reference: HubReference(repo: "acme/m", path: "a.bin"), asking: .file)
    #expect(error.message == message && error.isRetryable == retryable && error.url == "hf://acme/m@main/a.bin")
  }

  @Test(arguments: [(429, "30", 30.0), (503, "0", 0.0), (500, "30", nil), (429, "later", nil)] as [(Int, String, Double?)])
  func aRateLimitCarriesItsRetryAfter(status: Int, value: String, seconds: Double?) {
    let api = HubAPI(settings: HubSettings(endpoint: "https://hf.example"))
    let response = HTTPRequest.Response(status: status, headers: ["retry-after": value], body: Data(), effectiveURL: "")
    let error = api.failure(response, url: "https://hf.example/x", reference: HubReference(repo: "acme/m", path: "a.bin"), asking: .file)
    #expect(error.kind == .http(status) && error.retryAfter == seconds)
  }

  @Test(arguments: [
    (#""abc""#, "abc"), (#"W/"abc""#, "abc"), ("abc", "abc"), (#" "a\"b" "#, #"a\"b"#),
  ])
  func stripsEntityTags(value: String, stripped: String) {
    #expect(HubFileMetadata.strippedETag(value) == stripped)
  }

  @Test func followsOnlyTheNextLinkAndSendsTheTokenToTheHubAlone() {
    let header = #"<https://hf.co/api/x?cursor=a>; rel="prev", <https://hf.co/api/x?cursor=b>; rel="next""#
    #expect(HubAPI.nextLink(header, relativeTo: "https://hf.co/api/x") == "https://hf.co/api/x?cursor=b")
    #expect(HubAPI.nextLink("</api/x?cursor=c>; rel=next", relativeTo: "https://hf.co/api/x") == "https://hf.co/api/x?cursor=c")
    #expect(HubAPI.nextLink(nil, relativeTo: "https://hf.co/api/x") == nil)
    let hub = HubAPI(settings: HubSettings(endpoint: "https://huggingface.co", token: "t"))
    #expect(hub.authorization(for: "https://huggingface.co:443/api/x") == ["Authorization": "Bearer t"])
    #expect(hub.authorization(for: "https://cdn-lfs.hf.co/x").isEmpty)
    #expect(hub.authorization(for: "http://huggingface.co/api/x").isEmpty)
  }

  @Test func readsAFilesMetadataWithoutFollowingTheRedirect() throws {
    let metadata = try api.fileMetadata(HubReference(repo: "acme/wan-mini"), path: Self.weights)
    #expect(metadata.status == 302 && metadata.commit == Self.commit)
    #expect(metadata.sha256 == SHA256Hasher.digest(weightBytes) && metadata.size == Int64(weightBytes.count))
    #expect(metadata.location?.hasPrefix("http://127.0.0.1:\(server.cdnPort)/") == true)
    let small = try api.fileMetadata(HubReference(repo: "acme/wan-mini"), path: "config.json")
    #expect(small.sha256 == nil && small.etag.map(HubReference.isCommitID) == true, "a git blob id, not a sha256")
    #expect(try server.requests(.cdn).isEmpty)
  }
}
