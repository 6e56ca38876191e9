import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// HubTransfer: downloads through the Hub's redirect to the CDN, the token's reach, and the
/// checks and messages before any byte moves.
extension HubTests {
  var transfer: HubTransfer { HubTransfer(settings: settings, http: HTTPTransfer(directIO: false)) }

  func partialBytes() -> Data { FileManager.default.contents(atPath: partial) ?? Data() }

  @Test func downloadsThroughTheCDNWithTheTokenSentToTheHubOnly() throws {
    let source = SourceURL(scheme: .hf, url: "hf://acme/wan-mini@main")
    let url = SourceLocator(baseDirectory: directory.url.path).url(of: Self.weights, in: source)
    let digest = SHA256Hasher.digest(weightBytes)
    let result = try transfer.fetch(request(url, sha256: digest, size: Int64(weightBytes.count)))
    #expect(result.digest == digest && result.bytes == Int64(weightBytes.count) && result.status == 200)
    #expect(partialBytes() == weightBytes)

    let hub = try server.requests(.hub)
    #expect(hub.map(\.method) == ["HEAD", "GET"])
    #expect(hub.allSatisfy { $0.authorizationPresent }, "the Hub gets the token")
    #expect(hub.last?.path == "/acme/wan-mini/resolve/\(Self.commit)/\(Self.weights)", "the bytes come from the commit the HEAD saw")
    let cdn = try server.requests(.cdn)
    #expect(cdn.count == 1 && cdn.first?.method == "GET")
    #expect(!cdn.contains { $0.authorizationPresent }, "libcurl drops Authorization when the redirect leaves the Hub")
  }

  @Test func resumesAPartialFileFromTheCDN() throws {
    try weightBytes.prefix(300_000).write(to: URL(fileURLWithPath: partial))
    let url = "hf://acme/wan-mini@\(Self.commit)/transformer/model-00001.safetensors"
    let result = try transfer.fetch(request(url, sha256: SHA256Hasher.digest(weightBytes), size: Int64(weightBytes.count)))
    #expect(result.resumedFrom == 300_000 && result.status == 206 && result.digest == SHA256Hasher.digest(weightBytes))
    let cdn = try server.requests(.cdn)
    #expect(cdn.map(\.range) == ["bytes=300000-"] && !cdn.contains { $0.authorizationPresent })
  }

  @Test func downloadsAPathWithSpacesAndASmallFile() throws {
    let spacedURL = "hf://acme/wan-mini@refs%2Fpr%2F1/vae/diffusion%20pytorch%20model.bin"
    #expect(try transfer.fetch(request(spacedURL, sha256: SHA256Hasher.digest(spacedBytes))).digest == SHA256Hasher.digest(spacedBytes))
    try FileManager.default.removeItem(atPath: partial)
    #expect(try transfer.fetch(request("hf://acme/wan-mini/config.json", sha256: SHA256Hasher.digest(config))).digest == SHA256Hasher.digest(config))
  }

  @Test func downloadsFromADataset() throws {
    let digest = SHA256Hasher.digest(trainBytes)
    let result = try transfer.fetch(request("hf://datasets/acme/prompts@main/data/train.jsonl", sha256: digest, size: 2048))
    #expect(result.digest == digest && partialBytes() == trainBytes)
    #expect(try server.requests(.hub).map(\.path) == ["/datasets/acme/prompts/resolve/main/data/train.jsonl", "/datasets/acme/prompts/resolve/\(Self.datasetCommit)/data/train.jsonl"])
  }

  @Test func refusesAFileWhoseHubDigestIsNotThePinnedOneBeforeAnyByte() throws {
    let pinned = SHA256Hasher.digest(Data("another file".utf8))
    let served = SHA256Hasher.digest(weightBytes)
    let error = try #require(failure { try transfer.fetch(request("hf://acme/wan-mini@main/\(Self.weights)", sha256: pinned)) })
    #expect(error.description == "hf://acme/wan-mini@main/\(Self.weights): the Hub serves sha256 \(served.hex) for \(Self.weights) at main (commit \(Self.commit)), the desired state pins \(pinned.hex)")
    #expect(!error.isRetryable)
    #expect(try server.requests(.hub).map(\.method) == ["HEAD"])
    #expect(try server.requests(.cdn).isEmpty, "no byte is fetched")
    #expect(!FileManager.default.fileExists(atPath: partial))
  }

  @Test func refusesAFileWhoseHubSizeIsNotThePinnedOne() throws {
    let error = try #require(failure { try transfer.fetch(request("hf://acme/wan-mini@\(Self.commit)/config.json", size: 99)) })
    #expect(error.message == "the Hub serves \(config.count) bytes for config.json at \(Self.commit), the desired state pins 99 bytes")
    #expect(try server.requests(.cdn).isEmpty)
  }

  @Test func aPrivateRepositoryWithoutATokenSaysWhichVariableToSet() throws {
    let anonymous = HubTransfer(settings: HubSettings(endpoint: server.endpoint))
    let error = try #require(failure { try anonymous.fetch(request("hf://acme/private-model/model.bin")) })
    #expect(error.description == "hf://acme/private-model@main/model.bin: HTTP 401 Unauthorized — set HF_TOKEN to a token with access to acme/private-model")
    #expect(error.kind == .http(401) && !error.isRetryable)
    let revision = try #require(failure { try HubAPI(settings: HubSettings(endpoint: server.endpoint)).resolveRevision(HubReference(repo: "acme/private-model")) })
    #expect(revision.description == "hf://acme/private-model@main: HTTP 401 Unauthorized — set HF_TOKEN to a token with access to acme/private-model")
    #expect(try server.requests(.cdn).isEmpty)
  }

  @Test func aPrivateRepositoryWithAWrongTokenSaysTheTokenHasNoAccess() throws {
    let wrong = HubTransfer(settings: HubSettings(endpoint: server.endpoint, token: "hf_wrong-token", tokenVariable: "HUGGING_FACE_HUB_TOKEN"))
    let error = try #require(failure { try wrong.fetch(request("hf://acme/private-model/model.bin")) })
    #expect(error.description == "hf://acme/private-model@main/model.bin: HTTP 403 Forbidden — the token in HUGGING_FACE_HUB_TOKEN has no access to acme/private-model (gated or private)")
    let listing = try #require(failure { try HubAPI(settings: HubSettings(endpoint: server.endpoint, token: "hf_wrong-token")).listFiles(repo: "acme/private-model", commit: Self.privateCommit) })
    #expect(listing.message == "HTTP 403 Forbidden — the token in HF_TOKEN has no access to acme/private-model (gated or private)")
  }

  @Test func aPrivateRepositoryWithTheRightTokenDownloads() throws {
    let result = try transfer.fetch(request("hf://acme/private-model/model.bin"))
    #expect(result.bytes == 2048)
    #expect(try !server.requests(.cdn).contains { $0.authorizationPresent })
  }

  @Test func aMissingFileNamesTheURL() throws {
    let error = try #require(failure { try transfer.fetch(request("hf://acme/wan-mini/missing.bin")) })
    #expect(error.description == "hf://acme/wan-mini@main/missing.bin: no file 'missing.bin' at revision 'main' (HTTP 404 \(server.endpoint)/acme/wan-mini/resolve/main/missing.bin)")
    #expect(error.kind == .http(404) && !error.isRetryable)
  }

  @Test(arguments: ["hf://acme/wan-mini@main", "hf://acme", "s3://bucket/x"])
  func refusesWhatIsNotAFileOnTheHub(url: String) throws {
    let error = try #require(failure { try transfer.fetch(request(url)) })
    #expect(error.kind == .unsupported && !error.isRetryable)
    #expect(try server.requests(.hub).isEmpty)
  }
}
