import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// moto with signature and IAM checks on, shared by the tests of this file: a bucket with a model
/// and a few listing shards, a reader, a user allowed nothing, and a role's temporary
/// credentials. Started once; it stops with the test process.
private let signedMoto = Result { try SignedMoto() }

/// moto accepting any signature, for keys whose percent-encoded paths moto's server mode
/// verifies wrongly (it re-quotes the path before recomputing the signature, so boto3 fails
/// there too); it still proves that the key reaches the server intact.
private let openMoto = Result { try MotoServer() }

struct SignedMoto: Sendable {
  let server: MotoServer
  let bucket = "signed-models"
  let key = "wan2.2/t2v-a14b/transformer/model-00001.safetensors"
  let data = randomBytes(6 << 20)
  /// `shard-00.bin` … `shard-06.bin` with 1…7 bytes, next to the model and `other.bin`.
  let shards = (0..<7).map { String(format: "shard-%02d.bin", $0) }
  let reader: MotoServer.Credentials
  let nobody: MotoServer.Credentials
  let role: MotoServer.Credentials

  init() throws {
    server = try MotoServer()
    try server.createBuckets([bucket])
    var objects = [key: Data(data), "other.bin": Data("other".utf8)]
    for (index, shard) in shards.enumerated() { objects[shard] = Data(repeating: UInt8(index), count: index + 1) }
    try server.putObjects(objects, in: bucket)
    reader = try server.createUser("reader", allowing: ["s3:GetObject", "s3:ListBucket"])
    nobody = try server.createUser("nobody", allowing: [])
    role = try server.assumeRole("model-reader", allowing: ["s3:GetObject"])
    try server.requireSignatures()
  }

  func settings(_ credentials: MotoServer.Credentials?) -> S3Settings {
    S3Settings(
      endpoint: server.endpoint, region: server.region,
      credentials: credentials.map {
        AWSSigV4(region: server.region, accessKeyID: $0.accessKeyID, secretAccessKey: $0.secretAccessKey, sessionToken: $0.sessionToken)
      })
  }

  var url: String { "s3://\(bucket)/\(key)" }
}

/// S3Transfer and S3API against moto_server on 127.0.0.1, with SigV4 signatures checked.
@Suite struct S3MotoTests {
  let moto: SignedMoto
  let directory: ScratchDirectory

  init() throws {
    moto = try signedMoto.get()
    directory = try ScratchDirectory("s3")
  }

  var partial: String { directory.path("blob.part") }

  func fetch(_ url: String, _ credentials: MotoServer.Credentials?, expectedSize: Int64? = nil) throws(TransferError) -> TransferResult {
    try S3Transfer(settings: moto.settings(credentials)).fetch(TransferRequest(url: url, destination: partial, expectedSize: expectedSize))
  }

  /// The transfer's error, or a test failure when it succeeded.
  func failure(_ url: String, _ credentials: MotoServer.Credentials?, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> TransferError? {
    do {
      let result = try fetch(url, credentials)
      Issue.record("expected an error, got \(result)", sourceLocation: sourceLocation)
      return nil
    } catch {
      for secret in [credentials?.secretAccessKey, credentials?.sessionToken].compactMap({ $0 }) {
        #expect(!error.description.contains(secret), "\(error) shows a key", sourceLocation: sourceLocation)
      }
      return error
    }
  }

  @Test func downloadsASignedObject() throws {
    let result = try fetch(moto.url, moto.reader, expectedSize: Int64(moto.data.count))
    #expect(result.digest == SHA256Hasher.digest(moto.data))
    #expect(result.bytes == Int64(moto.data.count) && result.status == 200 && result.resumedFrom == 0)
    #expect(FileManager.default.contents(atPath: partial) == Data(moto.data))
  }

  @Test func resumesAHalfWrittenPartialFileWithRange() throws {
    let half = moto.data.count / 2
    try Data(moto.data[..<half]).write(to: URL(fileURLWithPath: partial))
    let result = try fetch(moto.url, moto.reader, expectedSize: Int64(moto.data.count))
    #expect(result.status == 206 && result.resumedFrom == Int64(half) && !result.restarted)
    #expect(result.digest == SHA256Hasher.digest(moto.data))
    #expect(FileManager.default.contents(atPath: partial) == Data(moto.data))
  }

  @Test func aMissingKeyIsNoSuchKeyNamingTheS3URL() throws {
    let error = try #require(failure("s3://\(moto.bucket)/wan2.2/missing.safetensors", moto.reader))
    #expect(error.description == "s3://signed-models/wan2.2/missing.safetensors: NoSuchKey (HTTP 404)")
    #expect(error.kind == .http(404) && !error.isRetryable && error.responseBody == nil)
    #expect(FileManager.default.contents(atPath: partial)?.isEmpty ?? true, "an error body is not written to the partial file")

    let bucket = try #require(failure("s3://no-such-bucket/model.bin", moto.reader))
    #expect(bucket.description == "s3://no-such-bucket/model.bin: NoSuchBucket (HTTP 404)")
  }

  struct WrongCredentials: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var credentials: @Sendable (SignedMoto) -> MotoServer.Credentials?
    var message: String
  }

  static let wrongCredentials: [WrongCredentials] = [
    WrongCredentials(
      testDescription: "a wrong secret", credentials: { MotoServer.Credentials(accessKeyID: $0.reader.accessKeyID, secretAccessKey: "wrong" + $0.reader.secretAccessKey) },
      message: "SignatureDoesNotMatch — check AWS_SECRET_ACCESS_KEY"),
    WrongCredentials(
      testDescription: "an unknown key id", credentials: { MotoServer.Credentials(accessKeyID: "AKIAUNKNOWN000000000", secretAccessKey: $0.reader.secretAccessKey) },
      message: "InvalidAccessKeyId — check AWS_ACCESS_KEY_ID / the profile in ~/.aws/credentials"),
    WrongCredentials(
      testDescription: "a user without s3:GetObject", credentials: { $0.nobody },
      message: "AccessDenied — the credentials have no s3:GetObject on signed-models/wan2.2/t2v-a14b/transformer/model-00001.safetensors"),
    WrongCredentials(
      testDescription: "no credentials", credentials: { _ in nil },
      message: "HTTP 403 Forbidden — no credentials were sent; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"),
  ]

  @Test(arguments: wrongCredentials)
  func wrongCredentialsSayWhichSettingToCheck(_ example: WrongCredentials) throws {
    let credentials = example.credentials(moto)
    let error = try #require(failure(moto.url, credentials))
    #expect(error.description == "\(moto.url): \(example.message)")
    #expect(error.kind == .http(403) && !error.isRetryable)
  }

  @Test func temporaryCredentialsSendTheirSessionToken() throws {
    let result = try fetch(moto.url, moto.role)
    #expect(result.digest == SHA256Hasher.digest(moto.data))

    // moto only knows the role's key id together with its token: it is sent, and checked.
    var withoutToken = moto.role
    withoutToken.sessionToken = nil
    let missing = try #require(failure(moto.url, withoutToken))
    #expect(missing.message == "InvalidAccessKeyId — check AWS_ACCESS_KEY_ID / the profile in ~/.aws/credentials")
    var wrongToken = moto.role
    wrongToken.sessionToken = "not-the-token"
    let wrong = try #require(failure(moto.url, wrongToken))
    #expect(wrong.message == "InvalidToken — check AWS_SESSION_TOKEN (it must belong to AWS_ACCESS_KEY_ID)")
  }

  @Test func listsAPrefixAcrossContinuationTokens() throws {
    let objects = try S3API(settings: moto.settings(moto.reader)).listObjects(bucket: moto.bucket, prefix: "shard-", maxKeys: 2)
    #expect(objects.map(\.key) == moto.shards)
    #expect(objects.map(\.size) == (1...7).map(Int64.init))
    #expect(objects.allSatisfy { $0.etag?.count == 32 && $0.etag?.allSatisfy(\.isHexDigit) == true })

    let everything = try S3API(settings: moto.settings(moto.reader)).listObjects(bucket: moto.bucket, prefix: "", maxKeys: 3)
    #expect(everything.count == moto.shards.count + 2)
  }

  @Test func listingErrorsNameTheBucketAndPermission() throws {
    let api = S3API(settings: moto.settings(moto.nobody))
    #expect(throws: TransferError(.http(403), url: "s3://signed-models/shard-", message: "AccessDenied — the credentials have no s3:ListBucket on signed-models")) {
      _ = try api.listObjects(bucket: moto.bucket, prefix: "shard-")
    }
    #expect(throws: TransferError(.http(404), url: "s3://no-such-bucket/", message: "NoSuchBucket (HTTP 404)")) {
      _ = try S3API(settings: moto.settings(moto.reader)).listObjects(bucket: "no-such-bucket", prefix: "")
    }
  }

  @Test func keysWithSpacesAndUnicodeReachTheServerIntact() throws {
    let open = try openMoto.get()
    let key = "wan 2.2/modèle+1 (fp8)/model.safetensors"
    let data = randomBytes(300_000)
    try open.createBuckets(["unicode-models"])
    try open.putObjects([key: Data(data), "wan 2.2/other.bin": Data("x".utf8)], in: "unicode-models")

    let source = SourceURL(scheme: .s3, url: "s3://unicode-models/wan 2.2/")
    let url = SourceLocator(baseDirectory: "/").url(of: "modèle+1 (fp8)/model.safetensors", in: source)
    let keys = AWSSigV4(region: open.region, accessKeyID: "AKIAANYTHING00000001", secretAccessKey: "anything")
    let result = try S3Transfer(settings: S3Settings(endpoint: open.endpoint, credentials: keys)).fetch(TransferRequest(url: url, destination: partial))
    #expect(result.digest == SHA256Hasher.digest(data))

    let listed = try S3API(settings: S3Settings(endpoint: open.endpoint)).listObjects(bucket: "unicode-models", prefix: "wan 2.2/mod", maxKeys: 1)
    #expect(listed == [S3Object(key: key, size: 300_000, etag: listed.first?.etag)])
  }
}
