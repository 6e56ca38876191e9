import Testing

@testable import ReconcileCore

/// Duplicates within and across files, and references between models, tenants, pools and tiers.
extension DesiredValidationTests {
  /// A model entry at column 3 whose name is on the entry's first line, column 11.
  static func modelEntry(_ name: String, version: String = "1", variants: [String] = ["v"], extra: String = "") -> String {
    let variantLines = variants.map { "      \($0): { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] }\n" }.joined()
    return "  - name: \(name)\n    version: \"\(version)\"\n    sources: [hf://org/\(name)]\n\(extra)    variants:\n\(variantLines)"
  }

  // MARK: Duplicates across files

  @Test(arguments: [
    ("models:\n" + modelEntry("m"), "models:\n" + modelEntry("other") + modelEntry("m"),
     "b.yaml:7:11: error: duplicate model 'm@1'\na.yaml:2:11: note: first defined here"),
    ("tenants:\n  - name: research\n", "tenants:\n  - name: batch\n  - name: research\n",
     "b.yaml:3:11: error: duplicate tenant 'research'\na.yaml:2:11: note: first defined here"),
    ("pools:\n  - name: a100\n    nodes: []\n", "pools:\n  - { name: a100, nodes: [] }\n",
     "b.yaml:2:13: error: duplicate pool 'a100'\na.yaml:2:11: note: first defined here"),
    ("pools:\n  - name: a100\n    nodes: [{ name: gpu-1, disk: 1TiB }]\n", "pools:\n  - name: h100\n    nodes:\n      - { name: gpu-1, disk: 1TiB }\n",
     "b.yaml:4:17: error: duplicate node 'gpu-1'\na.yaml:3:21: note: first defined here"),
    ("policy:\n  concurrency: 2\n", "models: []\npolicy:\n  concurrency: 3\n",
     "b.yaml:2:1: error: duplicate policy\na.yaml:1:1: note: first defined here"),
  ])
  func aNameDeclaredInTwoFilesIsReportedAtBoth(first: String, second: String, expected: String) {
    #expect(Self.diagnostics([("b.yaml", second), ("a.yaml", first)]) == [expected])
  }

  @Test(arguments: [
    ("models:\n" + modelEntry("m") + modelEntry("m"), "d.yaml:7:11: error: duplicate model 'm@1'\nd.yaml:2:11: note: first defined here"),
    ("tenants:\n  - name: t\n  - name: t\n", "d.yaml:3:11: error: duplicate tenant 't'\nd.yaml:2:11: note: first defined here"),
    ("pools:\n  - name: p\n    nodes: []\n  - name: p\n    nodes: []\n", "d.yaml:4:11: error: duplicate pool 'p'\nd.yaml:2:11: note: first defined here"),
    ("pools:\n  - name: p\n    nodes:\n      - { name: n, disk: 1 }\n      - { name: n, disk: 2 }\n",
     "d.yaml:5:17: error: duplicate node 'n'\nd.yaml:4:17: note: first defined here"),
  ])
  func aNameDeclaredTwiceInOneFileIsReportedAtBoth(document: String, expected: String) {
    #expect(Self.yaml(document) == [expected])
  }

  @Test func theSameModelNameAtTwoVersionsIsNoDuplicate() throws {
    let loaded = try DesiredStateLoader.load([
      DesiredFile(path: "a.yaml", text: "models:\n" + Self.modelEntry("m", version: "2")),
      DesiredFile(path: "b.yaml", text: "models:\n" + Self.modelEntry("m", version: "1")),
    ])
    #expect(loaded.state.models.map(\.id.description) == ["m@1", "m@2"])
  }

  // MARK: Duplicate keys in one YAML mapping

  @Test(arguments: [
    ("models:\n  - name: m\n    version: \"1\"\n    name: n\n", "d.yaml:4:5: error: duplicate key 'name'\nd.yaml:2:5: note: first defined here"),
    ("policy:\n  concurrency: 2\npolicy:\n  concurrency: 3\n", "d.yaml:3:1: error: duplicate key 'policy'\nd.yaml:1:1: note: first defined here"),
    ("policy:\n  retry: { attempts: 1, attempts: 2 }\n", "d.yaml:2:25: error: duplicate key 'attempts'\nd.yaml:2:12: note: first defined here"),
    ("policy:\n  retry: {attempts: 1,attempts: 2}\n", "d.yaml:2:23: error: duplicate key 'attempts'\nd.yaml:2:11: note: first defined here"),
    ("models:\n  - name: m\n    variants:\n      fp16: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] }\n      fp8: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] }\n      fp16: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] }\n",
     "d.yaml:6:7: error: duplicate key 'fp16'\nd.yaml:4:7: note: first defined here"),
    ("policy:\r\n  concurrency: 2\r\n  concurrency: 3\r\n", "d.yaml:3:3: error: duplicate key 'concurrency'\nd.yaml:2:3: note: first defined here"),
  ])
  func aKeyRepeatedInOneMappingIsReportedAtBoth(document: String, expected: String) {
    #expect(Self.yaml(document) == [expected])
  }

  // MARK: References

  /// Models `one@1` (variants fp16 and fp8, no default) and `solo@1` (one variant), at lines 1–12.
  static let referenced = "models:\n" + modelEntry("one", variants: ["fp16", "fp8"]) + modelEntry("solo", variants: ["q4"])

  @Test(arguments: [
    ("one@1:fp8", nil),
    ("solo@1", nil),
    ("one@2", "tenant 't' refers to unknown model 'one@2'; declared versions: 1"),
    ("onw@1", "tenant 't' refers to unknown model 'onw@1'; did you mean 'one'?"),
    ("zzz@1", "tenant 't' refers to unknown model 'zzz@1'"),
    ("one@1:int4", "tenant 't' refers to unknown variant 'int4' of model 'one@1'; its variants: fp16, fp8"),
    ("one@1", "tenant 't' refers to model 'one@1' without a variant, and it has several (fp16, fp8) and no default_variant; write 'one@1:fp16'"),
    ("one", "model reference 'one' of tenant 't' must be name@version or name@version:variant"),
    ("\"one@1:\"", "model reference 'one@1:' of tenant 't' must be name@version or name@version:variant"),
  ] as [(String, String?)])
  func tenantReferencesAreChecked(reference: String, problem: String?) {
    let plain = Self.referenced + "tenants:\n  - name: t\n    models: [\(reference)]\n"
    let mapping = Self.referenced + "tenants:\n  - name: t\n    models:\n      - { model: \(reference), pin: true }\n"
    #expect(Self.yaml(plain) == (problem.map { ["d.yaml:15:14: error: \($0)"] } ?? []))
    #expect(Self.yaml(mapping) == (problem.map { ["d.yaml:16:18: error: \($0)"] } ?? []))
  }

  @Test(arguments: [
    ("one@2", "model 'user@1' refers to unknown model 'one@2'; declared versions: 1"),
    ("one@1:int4", "model 'user@1' refers to unknown variant 'int4' of model 'one@1'; its variants: fp16, fp8"),
    ("one@1", "model 'user@1' refers to model 'one@1' without a variant, and it has several (fp16, fp8) and no default_variant; write 'one@1:fp16'"),
    ("one", "requires 'one' of model 'user@1' must be name@version or name@version:variant"),
  ])
  func requiredModelsAreChecked(reference: String, problem: String) {
    let document = Self.referenced + Self.modelEntry("user", extra: "    requires: [solo@1, \(reference)]\n")
    #expect(Self.yaml(document) == ["d.yaml:16:24: error: \(problem)"])
  }

  @Test func aDefaultVariantMakesAReferenceWithoutVariantValid() throws {
    let document = "models:\n" + Self.modelEntry("one", variants: ["fp16", "fp8"], extra: "    default_variant: fp8\n")
      + "tenants:\n  - name: t\n    models: [one@1]\n"
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: document)])
    #expect(loaded.state.model(ModelID(name: "one", version: "1"))?.implicitVariant == "fp8")
  }

  @Test func anUnknownDefaultVariantIsReported() {
    let document = "models:\n" + Self.modelEntry("one", variants: ["fp16", "fp8"], extra: "    default_variant: fp32\n")
    #expect(Self.yaml(document) == ["d.yaml:5:22: error: default_variant 'fp32' of model 'one@1' is not one of its variants (fp16, fp8)"])
  }

  @Test func referencesAcrossFilesAreResolvedAndReportedInTheReferringFile() {
    let diagnostics = Self.diagnostics([
      ("models.yaml", Self.referenced),
      ("tenants.yaml", "tenants:\n  - name: t\n    models: [solo@1, one@1:fp4]\n"),
    ])
    #expect(diagnostics == ["tenants.yaml:3:22: error: tenant 't' refers to unknown variant 'fp4' of model 'one@1'; its variants: fp16, fp8"])
  }

  // MARK: Pools and tiers

  @Test(arguments: [
    ("[research]", []),
    ("[reserch]", ["d.yaml:5:14: error: pool 'p' serves unknown tenant 'reserch'; did you mean 'research'?"]),
    ("[research, nobody]", ["d.yaml:5:24: error: pool 'p' serves unknown tenant 'nobody'"]),
  ])
  func poolsServeOnlyDeclaredTenants(serves: String, expected: [String]) {
    let document = "tenants:\n  - name: research\npools:\n  - name: p\n    serves: \(serves)\n    nodes: []\n"
    #expect(Self.yaml(document) == expected)
  }

  @Test(arguments: [
    (1, 1, []), (2, 2, []),
    (2, 1, ["d.yaml:3:15: error: pool 'p' wants 2 replicas but has 1 node"]),
    (3, 2, ["d.yaml:3:15: error: pool 'p' wants 3 replicas but has 2 nodes"]),
  ])
  func replicasCannotExceedThePoolsNodes(replicas: Int, nodes: Int, expected: [String]) {
    let nodeLines = (0..<nodes).map { "      - { name: n\($0), disk: 1TiB }\n" }.joined()
    let document = "pools:\n  - name: p\n    replicas: \(replicas)\n    nodes:\n" + nodeLines
    #expect(Self.yaml(document) == expected)
  }

  @Test(arguments: [
    ("pro", []),
    ("por", ["d.yaml:3:11: error: tenant 't' uses unknown tier 'por'; did you mean 'pro'?"]),
    ("gold", ["d.yaml:3:11: error: tenant 't' uses unknown tier 'gold'; known tiers: free, pro"]),
  ])
  func tenantsUseDeclaredTiers(tier: String, expected: [String]) {
    let document = "tenants:\n  - name: t\n    tier: \(tier)\npolicy:\n  tiers:\n    pro: { disk: 1TiB }\n    free: { disk: 1GiB }\n"
    #expect(Self.yaml(document) == expected)
  }

  @Test func aTierWithoutAnyDeclaredTiersSaysWhereToDeclareIt() {
    #expect(Self.yaml("tenants:\n  - name: t\n    tier: pro\n") == ["d.yaml:3:11: error: tenant 't' uses unknown tier 'pro'; declare it under policy.tiers"])
  }

  // MARK: Cycles

  @Test func aRequiresCycleIsPrinted() {
    let document = "models:\n" + Self.modelEntry("a", extra: "    requires: [b@1]\n") + Self.modelEntry("b", extra: "    requires: [a@1:v]\n")
    #expect(Self.yaml(document) == ["d.yaml:11:16: error: requires cycle: a@1 -> b@1 -> a@1"])
  }

  @Test func aModelThatRequiresItselfIsACycle() {
    let document = "models:\n" + Self.modelEntry("a", extra: "    requires: [a@1]\n")
    #expect(Self.yaml(document) == ["d.yaml:5:16: error: requires cycle: a@1 -> a@1"])
  }

  @Test func aLongerCycleAcrossFilesIsReportedOnce() {
    let diagnostics = Self.diagnostics([
      ("a.yaml", "models:\n" + Self.modelEntry("a", extra: "    requires: [b@1]\n")),
      ("b.yaml", "models:\n" + Self.modelEntry("b", extra: "    requires: [c@1]\n")),
      ("c.yaml", "models:\n" + Self.modelEntry("c", extra: "    requires: [d@1, a@1]\n") + Self.modelEntry("d")),
    ])
    #expect(diagnostics == ["c.yaml:5:21: error: requires cycle: a@1 -> b@1 -> c@1 -> a@1"])
  }

  @Test func sharedRequirementsWithoutACycleAreFine() throws {
    let document = "models:\n" + Self.modelEntry("a", extra: "    requires: [b@1, c@1]\n")
      + Self.modelEntry("b", extra: "    requires: [c@1]\n") + Self.modelEntry("c")
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: document)])
    #expect(loaded.state.models.count == 3)
  }
}
