import Testing

@testable import ReconcileCore

/// A representative subset of the checks, through the TOML reader: positions must be as exact.
extension DesiredValidationTests {
  /// A valid model `m@1` in TOML whose one file has each field on its own line: the path value
  /// is at 7:8, the size value at 8:8 and the sha256 value at 9:10.
  static func tomlFileDocument(path: String = "\"a.bin\"", size: String = "1", sha256: String = "\"\(hex("a"))\"") -> String {
    """
    [[models]]
    name = "m"
    version = "1"
    sources = ["hf://org/m"]

    [[models.variants.v.files]]
    path = \(path)
    size = \(size)
    sha256 = \(sha256)

    """
  }

  static let tomlModel = tomlFileDocument()

  @Test(arguments: [
    // Unknown keys.
    ("modles = []\n", ["d.toml:1:1: error: unknown key 'modles' in the top level; did you mean 'models'?"]),
    (tomlModel.replacing("version = \"1\"\n", with: "version = \"1\"\nverison = \"2\"\n"),
     ["d.toml:4:1: error: unknown key 'verison' in model; did you mean 'version'?"]),
    (tomlModel.replacing("size = 1\n", with: "size = 1\nmode = 420\n"),
     ["d.toml:9:1: error: unknown key 'mode' in file of variant 'v' of model 'm@1'; expected one of: path, size, sha256, git_sha1"]),
    ("[[tenants]]\nname = \"t\"\nquota = { dsk = \"1TiB\" }\n", ["d.toml:3:11: error: unknown key 'dsk' in quota of tenant 't'; did you mean 'disk'?"]),
    ("[[pools]]\nname = \"p\"\n[[pools.nodes]]\nname = \"n\"\ndisk = \"1TiB\"\ndrain = true\n",
     ["d.toml:6:1: error: unknown key 'drain' in node of pool 'p'; did you mean 'draining'?"]),
    ("[policy.retry]\nattempt = 3\n", ["d.toml:2:1: error: unknown key 'attempt' in policy.retry; did you mean 'attempts'?"]),
    // Missing keys.
    ("[[models]]\nversion = \"1\"\nsources = [\"hf://org/m\"]\nvariants.v.files = [{ path = \"f\", size = 1, sha256 = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" }]\n", ["d.toml:1:3: error: model is missing required key 'name'"]),
    (tomlModel.replacing("sha256 = \"\(hex("a"))\"\n", with: ""),
     ["d.toml:6:3: error: file of variant 'v' of model 'm@1' is missing required key 'sha256'"]),
    ("[[pools]]\nname = \"p\"\nnodes = [{ name = \"n\" }]\n", ["d.toml:3:10: error: node 'n' is missing required key 'disk'"]),
    // Wrong types.
    ("models = { name = \"m\" }\n", ["d.toml:1:10: error: 'models' in the top level must be a list, got a mapping"]),
    ("[models]\nname = \"m\"\n", ["d.toml:1:2: error: 'models' in the top level must be a list, got a mapping"]),
    (tomlFileDocument(size: "true"), ["d.toml:8:8: error: 'size' in file of variant 'v' of model 'm@1' must be a size such as 80GiB, got a boolean"]),
    ("[[pools]]\nname = \"p\"\nnodes = [{ name = \"n\", disk = \"1TiB\", draining = \"yes\" }]\n",
     ["d.toml:3:50: error: 'draining' in node 'n' must be true or false, got 'yes'"]),
    ("[[pools]]\nname = \"p\"\nreplicas = 1.5\nnodes = []\n", ["d.toml:3:12: error: 'replicas' in pool 'p' must be an integer, got '1.5'"]),
    ("[policy]\ngc_grace = 86400.0\n", ["d.toml:2:12: error: 'gc_grace' in policy must be a duration such as 24h, got a number"]),
  ])
  func tomlSchemaErrors(document: String, expected: [String]) {
    #expect(Self.toml(document) == expected)
  }

  @Test(arguments: [
    (tomlFileDocument(sha256: "\"\(String(repeating: "a", count: 63))\""), "d.toml:9:10: error: sha256 must be 64 hex digits, got 63"),
    (tomlFileDocument(sha256: "\"\(String(repeating: "F", count: 64))\""), "d.toml:9:10: error: sha256 must be lowercase hex"),
    (tomlFileDocument(size: "-1"), "d.toml:8:8: error: 'size' in file of variant 'v' of model 'm@1': must not be negative, got '-1'"),
    (tomlFileDocument(size: "\"10GB\""), "d.toml:8:8: error: 'size' in file of variant 'v' of model 'm@1': unknown unit 'GB'; did you mean 'GiB'?"),
    // The largest total a desired state may declare (1 EiB); 8 EiB reads too, and is then too
    // large in total (DesiredValidationTests+Overflow).
    (tomlFileDocument(size: "1_152_921_504_606_846_976"), nil),
    (tomlFileDocument(path: "\"/abs\""), "d.toml:7:8: error: path '/abs' in variant 'v' of model 'm@1' must be relative, not absolute"),
    (tomlFileDocument(path: "'a/../b'"), "d.toml:7:8: error: path 'a/../b' in variant 'v' of model 'm@1' must not contain '..'"),
    (tomlFileDocument(path: "\"a\\u0000b\""), "d.toml:7:8: error: path 'a\\0b' in variant 'v' of model 'm@1' must not contain NUL"),
    (tomlModel.replacing("hf://org/m", with: "ftp://org/m"),
     "d.toml:4:12: error: unsupported source 'ftp://org/m'; use one of hf://, s3://, https://, http://, file://"),
    (tomlModel.replacing("[\"hf://org/m\"]", with: "[]"), "d.toml:4:11: error: model 'm@1' needs at least one source"),
    (tomlModel.replacing("name = \"m\"", with: "name = \"M\""), "d.toml:2:8: error: name 'M' must use only a-z, 0-9, '.', '_' and '-'"),
    ("[policy]\ngc_grace = \"1w\"\n", "d.toml:2:12: error: 'gc_grace' in policy: expected a duration such as 90s, 5m, 24h or 7d, got '1w'"),
    ("[policy]\nmin_free = \"100%\"\n", "d.toml:2:12: error: 'min_free' in policy must be a share of at least 0% and below 100%, got '100%'"),
  ] as [(String, String?)])
  func tomlValueErrors(document: String, expected: String?) {
    #expect(Self.toml(document) == (expected.map { [$0] } ?? []))
  }

  @Test(arguments: [
    ("[[tenants]]\nname = \"t\"\nmodels = [\"m@1:fp8\"]\n", "d.toml:13:11: error: tenant 't' refers to unknown variant 'fp8' of model 'm@1'; its variants: v"),
    ("[[tenants]]\nname = \"t\"\nmodels = [{ model = \"m@2\", pin = true }]\n",
     "d.toml:13:21: error: tenant 't' refers to unknown model 'm@2'; declared versions: 1"),
    ("[[tenants]]\nname = \"t\"\ntier = \"pro\"\n", "d.toml:13:8: error: tenant 't' uses unknown tier 'pro'; declare it under policy.tiers"),
    ("[[pools]]\nname = \"p\"\nserves = [\"t\"]\nnodes = []\n", "d.toml:13:11: error: pool 'p' serves unknown tenant 't'"),
    ("[[pools]]\nname = \"p\"\nreplicas = 2\nnodes = [{ name = \"n\", disk = \"1TiB\" }]\n",
     "d.toml:13:12: error: pool 'p' wants 2 replicas but has 1 node"),
  ])
  func tomlReferenceErrors(appended: String, expected: String) {
    #expect(Self.toml(Self.tomlModel + "\n" + appended) == [expected])
  }

  @Test func aTOMLRequiresCycleIsPrinted() {
    let document = Self.tomlModel.replacing("sources = [\"hf://org/m\"]\n", with: "sources = [\"hf://org/m\"]\nrequires = [\"m@1:v\"]\n")
    #expect(Self.toml(document) == ["d.toml:5:13: error: requires cycle: m@1 -> m@1"])
  }

  @Test(arguments: [
    ("a.toml", tomlModel, "b.yaml", "models:\n" + modelEntry("m"), "b.yaml:2:11: error: duplicate model 'm@1'\na.toml:2:8: note: first defined here"),
    ("a.yaml", "tenants:\n  - name: t\n", "b.toml", "[[tenants]]\nname = \"t\"\n", "b.toml:2:8: error: duplicate tenant 't'\na.yaml:2:11: note: first defined here"),
    ("a.toml", "[policy]\nconcurrency = 2\n", "b.toml", "[policy]\nconcurrency = 3\n", "b.toml:1:2: error: duplicate policy\na.toml:1:2: note: first defined here"),
    ("a.toml", "policy.concurrency = 2\n", "b.toml", "[[pools]]\nname = \"p\"\nnodes = []\n\n[policy]\n", "b.toml:5:2: error: duplicate policy\na.toml:1:1: note: first defined here"),
  ])
  func tomlDuplicatesAcrossFiles(firstPath: String, first: String, secondPath: String, second: String, expected: String) {
    #expect(Self.diagnostics([(secondPath, second), (firstPath, first)]) == [expected])
  }

  @Test(arguments: [
    ("[[models]]\nname = \"m\"\nname = \"n\"\n", ["d.toml:3:1: error: duplicate key 'name'\nd.toml:2:1: note: first defined here"]),
    ("[policy]\nconcurrency = 1\n[policy]\neviction = \"none\"\n", ["d.toml:3:2: error: duplicate table 'policy'\nd.toml:1:2: note: first defined here"]),
    ("[[models]]\nname = \"m\n", ["d.toml:2:8: error: unterminated string: expected '\"' before the end of the line"]),
    ("[policy]\neviction = lru\nconcurrency = 02\n",
     ["d.toml:2:12: error: invalid value 'lru'; strings must be in quotes", "d.toml:3:15: error: invalid number '02': leading zeros are not allowed"]),
  ])
  func tomlSyntaxErrorsHaveAPosition(document: String, expected: [String]) {
    #expect(Self.toml(document) == expected)
  }

  @Test func everyTOMLMistakeIsReportedInOneRunSortedByPosition() {
    let document = """
      [[pools]]
      name = "a100"
      serves = ["reserch"]
      nodes = [{ name = "gpu-1", disk = "3TB" }]

      [[tenants]]
      name = "research"

      [[models]]
      name = "m"
      version = "1"
      sources = ["ftp://mirror/m"]

      [[models.variants.v.files]]
      path = "/abs"
      size = 1
      sha256 = "abc"
      """
    #expect(Self.toml(document) == [
      "d.toml:3:11: error: pool 'a100' serves unknown tenant 'reserch'; did you mean 'research'?",
      "d.toml:4:35: error: 'disk' in node 'gpu-1': unknown unit 'TB'; did you mean 'TiB'?",
      "d.toml:12:12: error: unsupported source 'ftp://mirror/m'; use one of hf://, s3://, https://, http://, file://",
      "d.toml:15:8: error: path '/abs' in variant 'v' of model 'm@1' must be relative, not absolute",
      "d.toml:17:10: error: sha256 must be 64 hex digits, got 3",
    ])
  }
}
