import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// S3Settings from the environment, the config file and `~/.aws/credentials`; keys never in
/// what the settings print.
@Suite struct S3SettingsTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var label: String
    var environment: [String: String] = [:]
    var config: [String: String] = [:]
    var endpoint: String?
    var region = "us-east-1"
    var pathStyle = false
    var testDescription: String { label }
  }

  static let cases: [Case] = [
    Case(label: "nothing set: AWS, us-east-1, virtual-hosted"),
    Case(label: "AWS_ENDPOINT_URL, trailing slash dropped", environment: ["AWS_ENDPOINT_URL": "http://minio:9000/"], endpoint: "http://minio:9000", pathStyle: true),
    Case(
      label: "AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL",
      environment: ["AWS_ENDPOINT_URL_S3": "https://s3.ceph.internal", "AWS_ENDPOINT_URL": "http://other:1"],
      endpoint: "https://s3.ceph.internal", pathStyle: true),
    Case(
      label: "environment before config", environment: ["AWS_ENDPOINT_URL": "http://env:9000", "AWS_REGION": "eu-west-1"],
      config: ["s3_endpoint": "http://config:9000", "s3_region": "us-west-2"], endpoint: "http://env:9000", region: "eu-west-1", pathStyle: true),
    Case(
      label: "config only", config: ["s3_endpoint": "https://acc.r2.cloudflarestorage.com", "s3_region": "auto", "s3_path_style": "false"],
      endpoint: "https://acc.r2.cloudflarestorage.com", region: "auto", pathStyle: false),
    Case(label: "AWS_REGION before AWS_DEFAULT_REGION", environment: ["AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-west-1"], region: "eu-central-1"),
    Case(label: "AWS_DEFAULT_REGION before config", environment: ["AWS_DEFAULT_REGION": "us-west-1"], config: ["s3_region": "us-west-2"], region: "us-west-1"),
    Case(label: "path-style on AWS when asked", config: ["s3_path_style": "true"], pathStyle: true),
  ]

  @Test(arguments: cases)
  func endpointRegionAndAddressing(_ example: Case) throws {
    let settings = try S3Settings.from(environment: example.environment, config: example.config, home: "/nonexistent")
    #expect(settings.endpoint == example.endpoint)
    #expect(settings.region == example.region)
    #expect(settings.pathStyle == example.pathStyle)
    #expect(settings.credentials == nil)
    #expect(settings.description.contains("no credentials (unsigned requests)"))
  }

  @Test func credentialsFromTheEnvironment() throws {
    let environment = [
      "AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT00001", "AWS_SECRET_ACCESS_KEY": "envSecret/abc+123", "AWS_SESSION_TOKEN": "envToken==",
      "AWS_REGION": "eu-west-1", "AWS_PROFILE": "ignored-when-keys-are-set",
    ]
    let settings = try S3Settings.from(environment: environment, home: "/nonexistent")
    #expect(settings.credentials == AWSSigV4(region: "eu-west-1", accessKeyID: "AKIAENVIRONMENT00001", secretAccessKey: "envSecret/abc+123", sessionToken: "envToken=="))
    #expect(settings.description == "AWS (virtual-hosted), region eu-west-1, credentials from AWS_ACCESS_KEY_ID with a session token")
    expectNoSecrets(in: settings, ["AKIAENVIRONMENT00001", "envSecret/abc+123", "envToken=="])
  }

  @Test func credentialsFromAProfileInACredentialsFile() throws {
    let directory = try ScratchDirectory("s3-settings")
    let file = directory.path("credentials")
    try credentialsFile.write(toFile: file, atomically: true, encoding: .utf8)
    let environment = ["AWS_PROFILE": "prod", "AWS_SHARED_CREDENTIALS_FILE": file, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"]
    let settings = try S3Settings.from(environment: environment, home: "/nonexistent")
    #expect(settings.credentials == AWSSigV4(region: "us-east-1", accessKeyID: "AKIAPRODUCTION000001", secretAccessKey: "prodSecret/xyz", sessionToken: "prodToken=="))
    #expect(settings.credentialSource == "profile 'prod' in \(file)")
    #expect(settings.description == "endpoint http://127.0.0.1:9000 (path-style), region us-east-1, credentials from profile 'prod' in \(file) with a session token")
    expectNoSecrets(in: settings, ["AKIAPRODUCTION000001", "prodSecret/xyz", "prodToken=="])

    // `[profile NAME]`, as in ~/.aws/config, is accepted too; the config file can name both.
    let legacy = try S3Settings.from(environment: [:], config: ["s3_profile": "legacy", "s3_credentials_file": file], home: "/nonexistent")
    #expect(legacy.credentials?.accessKeyID == "AKIALEGACY0000000001" && legacy.credentials?.sessionToken == nil)
  }

  @Test func theDefaultProfileUnderHome() throws {
    let home = try ScratchDirectory("s3-home")
    try FileManager.default.createDirectory(atPath: home.path(".aws"), withIntermediateDirectories: true)
    try credentialsFile.write(toFile: home.path(".aws/credentials"), atomically: true, encoding: .utf8)
    let settings = try S3Settings.from(environment: ["HOME": home.url.path], config: [:])
    #expect(settings.credentials?.accessKeyID == "AKIADEFAULT000000001")
    #expect(settings.credentials?.secretAccessKey == "defaultSecret/abc+def")
    #expect(settings.credentialSource == "profile 'default' in \(home.path(".aws/credentials"))")

    let empty = try ScratchDirectory("s3-empty-home")
    #expect(try S3Settings.from(environment: ["HOME": empty.url.path]).credentials == nil, "no file and no profile named: unsigned requests")
  }

  @Test func unusableSettingsAreErrorsThatNameTheSettingButNoKey() throws {
    let directory = try ScratchDirectory("s3-problems")
    let file = directory.path("credentials")
    try credentialsFile.write(toFile: file, atomically: true, encoding: .utf8)
    let cases: [([String: String], [String: String], String)] = [
      (["AWS_PROFILE": "staging", "AWS_SHARED_CREDENTIALS_FILE": file], [:], "profile 'staging' (AWS_PROFILE) is not in \(file); it has: default, prod, profile legacy, assumed, broken"),
      (["AWS_PROFILE": "assumed", "AWS_SHARED_CREDENTIALS_FILE": file], [:], "profile 'assumed' in \(file) (line 14) uses role_arn, which reconcile does not resolve; export keys with `aws configure export-credentials --profile assumed --format env`"),
      (["AWS_PROFILE": "broken", "AWS_SHARED_CREDENTIALS_FILE": file], [:], "profile 'broken' in \(file) (line 19) has aws_access_key_id but no aws_secret_access_key"),
      (["AWS_SHARED_CREDENTIALS_FILE": directory.path("missing")], [:], "credentials file \(directory.path("missing")) (AWS_SHARED_CREDENTIALS_FILE) does not exist or cannot be read"),
      (["AWS_ACCESS_KEY_ID": "AKIAONLYTHEID0000001"], [:], "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both, or neither to use a profile in ~/.aws/credentials"),
      (["AWS_ENDPOINT_URL": "minio:9000"], [:], "S3 endpoint 'minio:9000' (AWS_ENDPOINT_URL) needs a scheme, such as https://minio:9000"),
      ([:], ["s3_endpoint": "http://user:hunter2@minio:9000"], "S3 endpoint 'http://minio:9000' (config s3_endpoint) is not a URL like https://host:port"),
      ([:], ["s3_path_style": "maybe"], "config s3_path_style must be true or false, got 'maybe'"),
      (["AWS_REGION": "eu west"], [:], "S3 region 'eu west' is not a region name such as us-east-1 (AWS_REGION, AWS_DEFAULT_REGION, config s3_region)"),
    ]
    for (environment, config, message) in cases {
      #expect(throws: S3Settings.Problem(description: message)) {
        _ = try S3Settings.from(environment: environment, config: config, home: "/nonexistent")
      }
    }
  }

  /// Neither `description`, `debugDescription` nor `dump` shows any of `secrets`.
  func expectNoSecrets(in settings: S3Settings, _ secrets: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    var dumped = ""
    dump(settings, to: &dumped)
    var dumpedKeys = ""
    dump(settings.credentials, to: &dumpedKeys)
    let texts = ["\(settings)", String(reflecting: settings), dumped, dumpedKeys, "\(settings.credentials as Any)"]
    for text in texts {
      for secret in secrets {
        #expect(!text.contains(secret), "\(text.debugDescription) shows a key", sourceLocation: sourceLocation)
      }
    }
  }

  let credentialsFile = """
    # reconcile tests
    [default]
    aws_access_key_id = AKIADEFAULT000000001
    aws_secret_access_key = defaultSecret/abc+def

    [prod]
    aws_access_key_id=AKIAPRODUCTION000001
    aws_secret_access_key = prodSecret/xyz
    aws_session_token = prodToken==
    [profile legacy]
    aws_access_key_id = AKIALEGACY0000000001
    aws_secret_access_key = legacySecret
    ; a role profile
    [assumed]
    role_arn = arn:aws:iam::123456789012:role/reader
    source_profile = default
    s3 =
      addressing_style = path
    [broken]
    aws_access_key_id = AKIABROKEN0000000001
    """
}

/// `s3://BUCKET/KEY` parsed and turned into path-style and virtual-hosted URLs.
@Suite struct S3LocationTests {
  static let endpoint = S3Settings(endpoint: "http://127.0.0.1:9000")
  static let model = "s3://models-mirror/wan2.2/t2v-a14b/transformer/model-00001.safetensors"
  static let modelPath = "wan2.2/t2v-a14b/transformer/model-00001.safetensors"

  struct Case: Sendable, CustomTestStringConvertible {
    var source: String
    var settings: S3Settings
    var url: String
    init(_ source: String, _ settings: S3Settings, _ url: String) { (self.source, self.settings, self.url) = (source, settings, url) }
    var testDescription: String { "\(source) with \(settings.endpoint ?? "AWS \(settings.region)")\(settings.pathStyle ? " path-style" : "")" }
  }

  static let cases: [Case] = [
    Case(model, endpoint, "http://127.0.0.1:9000/models-mirror/\(modelPath)"),
    Case(model, S3Settings(endpoint: "http://127.0.0.1:9000/"), "http://127.0.0.1:9000/models-mirror/\(modelPath)"),
    Case(model, S3Settings(endpoint: "https://storage.example/s3/"), "https://storage.example/s3/models-mirror/\(modelPath)"),
    Case(model, S3Settings(region: "eu-west-1"), "https://models-mirror.s3.eu-west-1.amazonaws.com/\(modelPath)"),
    Case(model, S3Settings(region: "eu-west-1", pathStyle: true), "https://s3.eu-west-1.amazonaws.com/models-mirror/\(modelPath)"),
    Case(model, S3Settings(region: "cn-north-1"), "https://models-mirror.s3.cn-north-1.amazonaws.com.cn/\(modelPath)"),
    Case("s3://models.example.com/a.bin", S3Settings(), "https://s3.us-east-1.amazonaws.com/models.example.com/a.bin"),
    Case(model, S3Settings(endpoint: "https://acc.r2.cloudflarestorage.com", region: "auto", pathStyle: false), "https://models-mirror.acc.r2.cloudflarestorage.com/\(modelPath)"),
    Case("s3://bucket/my dir/model file.bin", endpoint, "http://127.0.0.1:9000/bucket/my%20dir/model%20file.bin"),
    Case("s3://bucket/my%20dir/model%20file.bin", endpoint, "http://127.0.0.1:9000/bucket/my%20dir/model%20file.bin"),
    Case("s3://bucket/modèle ünï.bin", endpoint, "http://127.0.0.1:9000/bucket/mod%C3%A8le%20%C3%BCn%C3%AF.bin"),
    Case("s3://bucket/mod%C3%A8le%20%C3%BCn%C3%AF.bin", endpoint, "http://127.0.0.1:9000/bucket/mod%C3%A8le%20%C3%BCn%C3%AF.bin"),
    Case("s3://bucket/a+b=c(1)!'*,;:@&$.bin", endpoint, "http://127.0.0.1:9000/bucket/a%2Bb%3Dc%281%29%21%27%2A%2C%3B%3A%40%26%24.bin"),
    Case("s3://bucket/100%25.bin", endpoint, "http://127.0.0.1:9000/bucket/100%25.bin"),
    Case("s3://bucket/100%.bin", endpoint, "http://127.0.0.1:9000/bucket/100%25.bin"),
    Case("s3://bucket/q?x#y~_-.bin", endpoint, "http://127.0.0.1:9000/bucket/q%3Fx%23y~_-.bin"),
  ]

  @Test(arguments: cases)
  func urls(_ example: Case) throws {
    #expect(try S3Location(parsing: example.source).url(example.settings) == example.url)
  }

  @Test func sourceLocatorURLsAreNotEncodedTwice() throws {
    let source = SourceURL(scheme: .s3, url: "s3://models-mirror/wan 2.2/")
    let url = SourceLocator(baseDirectory: "/").url(of: "transformer/modèle 100%.safetensors", in: source)
    let location = try S3Location(parsing: url)
    #expect(location == S3Location(bucket: "models-mirror", key: "wan 2.2/transformer/modèle 100%.safetensors"))
    #expect(location.url(Self.endpoint) == "http://127.0.0.1:9000/models-mirror/wan%202.2/transformer/mod%C3%A8le%20100%25.safetensors")
    #expect(location.description == "s3://models-mirror/wan%202.2/transformer/mod%C3%A8le%20100%25.safetensors")
    #expect(try S3Location(parsing: location.description) == location)
  }

  @Test(arguments: [
    ("s3://", "not an s3://BUCKET/KEY URL"),
    ("https://bucket/key", "not an s3://BUCKET/KEY URL"),
    ("s3:///key", "the bucket name is missing"),
    ("s3://ab/key", "bucket name 'ab' must have 3 to 63 characters"),
    ("s3://Models/key", "bucket name 'Models' may only have lowercase letters, digits, dots and hyphens"),
    ("s3://my_models/key", "bucket name 'my_models' may only have lowercase letters, digits, dots and hyphens"),
    ("s3://-models/key", "bucket name '-models' must start and end with a letter or digit"),
    ("s3://models..x/key", "bucket name 'models..x' must not contain '..'"),
    ("s3://192.168.10.4/key", "bucket name '192.168.10.4' must not be an IP address"),
    ("s3://models/a/../b.bin", "a key with a '.' or '..' segment cannot be fetched over HTTP"),
  ])
  func invalidLocations(_ text: String, _ reason: String) {
    #expect(throws: S3LocationError(text: text, reason: reason)) { _ = try S3Location(parsing: text) }
  }

  @Test func errorDocumentsBecomeCausesWithTheSettingToCheck() {
    func cause(_ xml: String, status: Int = 403, signed: Bool = true) -> String? {
      S3ErrorDocument(Data(xml.utf8))?.cause(status: status, permission: "s3:GetObject on b/k", signed: signed)
    }
    let skewed = "<Error><Code>RequestTimeTooSkewed</Code><AWSAccessKeyId>AKIASECRETISH</AWSAccessKeyId></Error>"
    #expect(cause(skewed) == "RequestTimeTooSkewed — this node's clock is more than 15 minutes off; fix its time (NTP)")
    let region = "<Error><Code>AuthorizationHeaderMalformed</Code><Region>eu-west-1</Region></Error>"
    #expect(cause(region, status: 400) == "AuthorizationHeaderMalformed — the bucket is in eu-west-1; set AWS_REGION=eu-west-1 or config s3_region")
    let moved = "<Error><Code>PermanentRedirect</Code><Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint></Error>"
    #expect(cause(moved, status: 301) == "PermanentRedirect (HTTP 301) — the bucket is served by b.s3.eu-west-1.amazonaws.com; set AWS_REGION or config s3_region (or the endpoint)")
    #expect(cause("<Error><Code>ExpiredToken</Code></Error>", status: 400) == "ExpiredToken — the temporary credentials expired; renew AWS_SESSION_TOKEN and the keys issued with it")
    #expect(cause("<Error><Code>AccessDenied</Code></Error>", signed: false) == "AccessDenied — no credentials were sent; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")
    #expect(cause("<Error><Code>SlowDown</Code></Error>", status: 503) == "SlowDown (HTTP 503)")
    #expect(cause("<html><body>Forbidden</body></html>") == nil)
    #expect(cause("not xml") == nil)
  }

  @Test func aSlowDownKeepsItsRetryAfter() {
    var slowDown = TransferError(.http(503), url: "http://127.0.0.1:9000/b/k", message: "HTTP 503 Service Unavailable")
    slowDown.responseBody = Data("<Error><Code>SlowDown</Code></Error>".utf8)
    slowDown.retryAfter = 4
    let restated = S3Transfer.error(slowDown, url: "s3://b/k", endpointURL: "http://127.0.0.1:9000/b/k", settings: S3Settings(), permission: "s3:GetObject on b/k")
    #expect(restated.message == "SlowDown (HTTP 503)" && restated.url == "s3://b/k")
    #expect(restated.retryAfter == 4 && restated.isRetryable)
  }
}
