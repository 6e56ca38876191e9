import Testing

@testable import ReconcileCore

/// Every mistake a desired-state file can hold is reported at its exact `file:line:column`.
///
/// Cases live in `DesiredValidationTests+Schema.swift` (keys and types), `+Values.swift` (sizes,
/// digests, paths, names), `+References.swift` (duplicates and cross-references) and `+TOML.swift`
/// (the same checks through the TOML reader). This file holds the helpers, the happy path and the
/// checks that span the whole loader.
@Suite struct DesiredValidationTests {
  // MARK: Helpers

  /// Every diagnostic loading `files` reports, one `description` each (notes on following lines).
  static func diagnostics(_ files: [(path: String, text: String)]) -> [String] {
    do {
      _ = try DesiredStateLoader.load(files.map { DesiredFile(path: $0.path, text: $0.text) })
      return []
    } catch {
      return error.diagnostics.map(\.description)
    }
  }

  /// The diagnostics of one YAML file named `d.yaml`.
  static func yaml(_ text: String) -> [String] { diagnostics([("d.yaml", text)]) }

  /// The diagnostics of one TOML file named `d.toml`.
  static func toml(_ text: String) -> [String] { diagnostics([("d.toml", text)]) }

  /// 64 times `digit`: a well-formed sha256.
  static func hex(_ digit: Character) -> String { String(repeating: digit, count: 64) }

  /// A valid model `m@1` whose one file is `path`, `size` and `sha256`, each on its own line:
  /// the path value is at 8:19, the size value at 9:19 and the sha256 value at 10:21.
  static func fileDocument(path: String = "a.bin", size: String = "1", sha256: String = hex("a")) -> String {
    """
    models:
      - name: m
        version: "1"
        sources: [hf://org/m]
        variants:
          v:
            files:
              - path: \(path)
                size: \(size)
                sha256: \(sha256)
    """
  }

  // MARK: Happy path

  static let happyModels = """
    models:
      - name: wan2.2-t2v-a14b
        version: 2.2.0
        sources:
          - hf://Wan-AI/Wan2.2-T2V-A14B@2b4f0c1
          - s3://models-mirror/wan2.2/t2v-a14b/
        default_variant: fp16
        requires: [umt5-xxl@1.0]
        variants:
          fp8:
            vram: 40GiB
            files:
              - { path: transformer/model-00002.safetensors, size: 2KiB, sha256: \(hex("b")) }
              - { path: transformer/model-00001.safetensors, size: 1024, sha256: \(hex("a")) }
          fp16:
            vram: 80GiB
            files:
              - { path: model.safetensors, size: 1.5GiB, sha256: \(hex("c")) }
      - name: umt5-xxl
        version: "1.0"
        pin: true
        sources: [file:///mnt/nfs/umt5/]
        variants:
          bf16:
            files:
              - { path: umt5.safetensors, size: 11MiB, sha256: \(hex("d")) }
    """

  static let happyTenants = """
    tenants:
      - name: research
        tier: pro
        quota: { disk: 2TiB, models: 20 }
        group: research
        models:
          - wan2.2-t2v-a14b@2.2.0
          - { model: wan2.2-t2v-a14b@2.2.0:fp8, pin: true }
      - name: batch
        models: [umt5-xxl@1.0]
    pools:
      - name: a100
        serves: [research, batch]
        replicas: 2
        placement: least-loaded
        nodes:
          - { name: gpu-a-02, disk: 3TiB, vram: 640GiB, draining: true }
          - { name: gpu-a-01, disk: 3TiB, vram: 640GiB, labels: { zone: eu-1 } }
    policy:
      min_free: 10%
      eviction: lru
      gc_grace: 24h
      concurrency: 8
      retry: { attempts: 3, backoff: 2s, max_backoff: 5m }
      tiers:
        pro: { disk: 4TiB, models: 50, concurrent_downloads: 4, bandwidth: 100MiB/s }
        free: { disk: 100GiB }
    """

  /// The same content as `happyModels` and `happyTenants`, in one TOML file.
  static let happyTOML = """
    [[models]]
    name = "wan2.2-t2v-a14b"
    version = "2.2.0"
    sources = ["hf://Wan-AI/Wan2.2-T2V-A14B@2b4f0c1", "s3://models-mirror/wan2.2/t2v-a14b/"]
    default_variant = "fp16"
    requires = ["umt5-xxl@1.0"]

    [models.variants.fp8]
    vram = "40GiB"
    files = [
      { path = "transformer/model-00002.safetensors", size = "2KiB", sha256 = "\(hex("b"))" },
      { path = "transformer/model-00001.safetensors", size = 1024, sha256 = "\(hex("a"))" },
    ]

    [models.variants.fp16]
    vram = "80GiB"
    files = [{ path = "model.safetensors", size = "1.5GiB", sha256 = "\(hex("c"))" }]

    [[models]]
    name = "umt5-xxl"
    version = "1.0"
    pin = true
    sources = ["file:///mnt/nfs/umt5/"]
    variants.bf16.files = [{ path = "umt5.safetensors", size = "11MiB", sha256 = "\(hex("d"))" }]

    [[tenants]]
    name = "research"
    tier = "pro"
    quota = { disk = "2TiB", models = 20 }
    group = "research"
    models = ["wan2.2-t2v-a14b@2.2.0", { model = "wan2.2-t2v-a14b@2.2.0:fp8", pin = true }]

    [[tenants]]
    name = "batch"
    models = ["umt5-xxl@1.0"]

    [[pools]]
    name = "a100"
    serves = ["research", "batch"]
    replicas = 2
    placement = "least-loaded"

    [[pools.nodes]]
    name = "gpu-a-02"
    disk = "3TiB"
    vram = "640GiB"
    draining = true

    [[pools.nodes]]
    name = "gpu-a-01"
    disk = "3TiB"
    vram = "640GiB"
    labels = { zone = "eu-1" }

    [policy]
    min_free = "10%"
    eviction = "lru"
    gc_grace = "24h"
    concurrency = 8
    retry = { attempts = 3, backoff = "2s", max_backoff = "5m" }

    [policy.tiers]
    pro = { disk = "4TiB", models = 50, concurrent_downloads = 4, bandwidth = "100MiB/s" }
    free = { disk = "100GiB" }
    """

  /// What the happy-path documents declare: sizes in bytes, durations in seconds, names sorted.
  static func happyState() throws -> DesiredState {
    func digest(_ digit: Character) throws -> Digest { try #require(Digest(hex: hex(digit))) }
    let wan = ModelID(name: "wan2.2-t2v-a14b", version: "2.2.0")
    let umt5 = ModelID(name: "umt5-xxl", version: "1.0")
    return DesiredState(
      models: [
        Model(
          name: "umt5-xxl", version: "1.0", sources: [SourceURL(scheme: .file, url: "file:///mnt/nfs/umt5/")],
          variants: [Variant(name: "bf16", files: [FileSpec(path: "umt5.safetensors", size: 11 << 20, sha256: try digest("d"))])],
          pin: true),
        Model(
          name: "wan2.2-t2v-a14b", version: "2.2.0",
          sources: [
            SourceURL(scheme: .hf, url: "hf://Wan-AI/Wan2.2-T2V-A14B@2b4f0c1"),
            SourceURL(scheme: .s3, url: "s3://models-mirror/wan2.2/t2v-a14b/"),
          ],
          defaultVariant: "fp16",
          variants: [
            Variant(name: "fp16", vram: 80 << 30, files: [FileSpec(path: "model.safetensors", size: 1_610_612_736, sha256: try digest("c"))]),
            Variant(
              name: "fp8", vram: 40 << 30,
              files: [
                FileSpec(path: "transformer/model-00001.safetensors", size: 1024, sha256: try digest("a")),
                FileSpec(path: "transformer/model-00002.safetensors", size: 2048, sha256: try digest("b")),
              ]),
          ],
          requires: [ModelReference(model: umt5)]),
      ],
      tenants: [
        Tenant(name: "batch", models: [ModelReference(model: umt5)]),
        Tenant(
          name: "research", tier: "pro", quota: Quota(disk: 2 << 40, models: 20), group: "research",
          models: [ModelReference(model: wan), ModelReference(model: wan, variant: "fp8", pin: true)]),
      ],
      pools: [
        Pool(
          name: "a100", serves: ["research", "batch"], replicas: 2, placement: .leastLoaded,
          nodes: [
            PoolNode(name: "gpu-a-01", disk: 3 << 40, vram: 640 << 30, labels: ["zone": "eu-1"]),
            PoolNode(name: "gpu-a-02", disk: 3 << 40, vram: 640 << 30, draining: true),
          ])
      ],
      policy: Policy(
        minFree: .share(percent: 10), eviction: .lru, gcGrace: 86_400, concurrency: 8,
        retry: RetryPolicy(attempts: 3, backoff: 2, maxBackoff: 300),
        tiers: [
          "pro": Quota(disk: 4 << 40, models: 50, concurrentDownloads: 4, bandwidth: 100 << 20),
          "free": Quota(disk: 100 << 30),
        ]))
  }

  @Test func completeYAMLLoadsToTheExpectedState() throws {
    let loaded = try DesiredStateLoader.load([
      DesiredFile(path: "Desired/tenants.yaml", text: Self.happyTenants),
      DesiredFile(path: "Desired/models.yaml", text: Self.happyModels),
    ])
    #expect(loaded.state == (try Self.happyState()))
    let wan = ModelID(name: "wan2.2-t2v-a14b", version: "2.2.0")
    #expect(loaded.sourceMap.models[wan] == SourceLocation(file: "Desired/models.yaml", line: 2, column: 11))
    #expect(loaded.sourceMap.requires[wan] == [SourceLocation(file: "Desired/models.yaml", line: 8, column: 16)])
    #expect(loaded.sourceMap.tenantModels["research"]?.map(\.description) == ["Desired/tenants.yaml:7:9", "Desired/tenants.yaml:8:18"])
    #expect(loaded.sourceMap.nodes["gpu-a-01"]?.description == "Desired/tenants.yaml:18:17")
    #expect(loaded.sourceMap.policy?.description == "Desired/tenants.yaml:19:1")
  }

  @Test func completeTOMLLoadsToTheSameState() throws {
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "Desired/fleet.toml", text: Self.happyTOML)])
    #expect(loaded.state == (try Self.happyState()))
    #expect(loaded.sourceMap.tenants["batch"]?.description == "Desired/fleet.toml:34:8")
  }

  @Test func yamlAndTOMLFilesMergeIntoOneState() throws {
    let toml = Self.happyTOML.split(separator: "\n[[tenants]]", maxSplits: 1).first.map(String.init) ?? ""
    let loaded = try DesiredStateLoader.load([
      DesiredFile(path: "b/tenants.yaml", text: Self.happyTenants),
      DesiredFile(path: "a/models.toml", text: toml),
    ])
    #expect(loaded.state == (try Self.happyState()))
  }

  @Test func anEmptyDirectoryIsAnEmptyState() throws {
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "empty.yaml", text: ""), DesiredFile(path: "empty.toml", text: "")])
    #expect(loaded.state == DesiredState())
  }

  // MARK: Whole-run behaviour

  @Test func everyMistakeIsReportedInOneRunSortedByPosition() {
    let document = """
      pools:
        - name: a100
          serves: [reserch]
          nodes:
            - { name: gpu-1, disk: 3TB }
      tenants:
        - name: research
      models:
        - name: m
          version: "1"
          sources: [ftp://mirror/m]
          variants:
            v:
              files:
                - path: /abs
                  size: 1
                  sha256: abc
      """
    #expect(Self.yaml(document) == [
      "d.yaml:3:14: error: pool 'a100' serves unknown tenant 'reserch'; did you mean 'research'?",
      "d.yaml:5:30: error: 'disk' in node 'gpu-1': unknown unit 'TB'; did you mean 'TiB'?",
      "d.yaml:11:15: error: unsupported source 'ftp://mirror/m'; use one of hf://, s3://, https://, http://, file://",
      "d.yaml:15:19: error: path '/abs' in variant 'v' of model 'm@1' must be relative, not absolute",
      "d.yaml:17:21: error: sha256 must be 64 hex digits, got 3",
    ])
  }

  @Test func mistakesInSeveralFilesAreReportedTogetherInFileOrder() {
    let diagnostics = Self.diagnostics([
      ("z.yaml", "pools:\n  - name: p\n    placement: random\n    nodes: []\n"),
      ("a.toml", "[policy]\nconcurrency = 0\n"),
      ("m.yaml", "models: [\n"),
    ])
    #expect(diagnostics == [
      "a.toml:2:15: error: 'concurrency' in policy must be between 1 and 256, got 0",
      "m.yaml:2:1: error: did not find expected node content",
      "z.yaml:3:16: error: 'placement' in pool 'p' must be one of spread, least-loaded, binpack, got 'random'",
    ])
  }

  @Test func aNameOrVersionMistakeDoesNotHideTheRestOfTheEntry() {
    let document = """
      models:
        - name: Wan
          version: 1/2
          sources: hf://org/m
          variants: { FP16: { files: [ { path: ../a, size: 1, sha256: abc } ] } }
      pools:
        - name: Pool
          nodes:
            - { name: n, disk: 1TB }
      """
    #expect(Self.yaml(document) == [
      "d.yaml:2:11: error: name 'Wan' must use only a-z, 0-9, '.', '_' and '-'",
      "d.yaml:3:14: error: version '1/2' of model must be non-empty without '/', '@' or ':'",
      "d.yaml:4:14: error: 'sources' in model must be a list, got a string",
      "d.yaml:5:17: error: variant name 'FP16' must use only a-z, 0-9, '.', '_' and '-'",
      "d.yaml:5:42: error: path '../a' in variant 'FP16' of model must not contain '..'",
      "d.yaml:5:65: error: sha256 must be 64 hex digits, got 3",
      "d.yaml:7:11: error: name 'Pool' must use only a-z, 0-9, '.', '_' and '-'",
      "d.yaml:9:26: error: 'disk' in node 'n': unknown unit 'TB'; did you mean 'TiB'?",
    ])
  }

  // MARK: Syntax

  @Test(arguments: [
    ("models:\n  - name: a\n   version: 1\n", "d.yaml:3:4: error: did not find expected '-' indicator\nd.yaml:2:3: note: while parsing a block collection"),
    ("models: [a, b\ntenants: []\n", "d.yaml:2:8: error: did not find expected ',' or ']'\nd.yaml:1:9: note: while parsing a flow sequence"),
    ("models:\n  - name: \"a\n", "d.yaml:3:1: error: found unexpected end of stream\nd.yaml:2:11: note: while scanning a quoted scalar"),
    ("models:\n\t- name: a\n", "d.yaml:2:1: error: found character that cannot start any token"),
    ("a: b: c\n", "d.yaml:1:5: error: mapping values are not allowed in this context"),
    ("models: *undefined\n", "d.yaml:1:9: error: found undefined alias 'undefined'"),
    ("models: []\npolicy:\n  gc_grace: 1\u{7}h\n", "d.yaml:3:14: error: control characters are not allowed (U+0007)"),
  ])
  func yamlSyntaxErrorsHaveAPosition(document: String, expected: String) {
    #expect(Self.yaml(document) == [expected])
  }

  @Test func aSyntaxErrorInOneFileDoesNotHideMistakesInAnother() {
    let diagnostics = Self.diagnostics([("a.yaml", "models: [\n"), ("b.yaml", "tenants:\n  - name: T\n")])
    #expect(diagnostics.count == 2)
    #expect(diagnostics.last == "b.yaml:2:11: error: name 'T' must use only a-z, 0-9, '.', '_' and '-'")
  }
}
