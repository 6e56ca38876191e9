import Testing

@testable import ReconcileCore

/// Keys and types: unknown keys with a suggestion, missing required keys, values of the wrong kind.
extension DesiredValidationTests {
  /// A model `m@1` with one variant `v` and one file, for cases that change one line of it.
  static let model = """
    models:
      - name: m
        version: "1"
        sources: [hf://org/m]
        variants:
          v:
            files:
              - { path: a.bin, size: 1, sha256: \(hex("a")) }

    """

  // MARK: Unknown keys

  @Test(arguments: [
    // Top level.
    ("modles: []\n", ["d.yaml:1:1: error: unknown key 'modles' in the top level; did you mean 'models'?"]),
    ("secrets: {}\n", ["d.yaml:1:1: error: unknown key 'secrets' in the top level; expected one of: models, tenants, pools, policy, locks"]),
    // Model.
    (model.replacing("    version: \"1\"\n", with: "    version: \"1\"\n    verison: \"2\"\n"),
     ["d.yaml:4:5: error: unknown key 'verison' in model; did you mean 'version'?"]),
    (model.replacing("    variants:\n", with: "    default: v\n    variants:\n"),
     ["d.yaml:5:5: error: unknown key 'default' in model; did you mean 'default_variant'?"]),
    // Variant.
    (model.replacing("      v:\n", with: "      v:\n        vrma: 1GiB\n"),
     ["d.yaml:7:9: error: unknown key 'vrma' in variant 'v' of model 'm@1'; did you mean 'vram'?"]),
    // File.
    (model.replacing("size: 1,", with: "size: 1, mode: 644,"),
     ["d.yaml:8:37: error: unknown key 'mode' in file of variant 'v' of model 'm@1'; expected one of: path, size, sha256, git_sha1"]),
    (model.replacing("sha256:", with: "sha:"),
     ["d.yaml:8:13: error: file of variant 'v' of model 'm@1' is missing required key 'sha256'",
      "d.yaml:8:37: error: unknown key 'sha' in file of variant 'v' of model 'm@1'; did you mean 'sha256'?"]),
    // Tenant, its model references and its quota.
    ("tenants:\n  - name: t\n    teir: pro\n", ["d.yaml:3:5: error: unknown key 'teir' in tenant; did you mean 'tier'?"]),
    (model + "tenants:\n  - name: t\n    models: [{ model: m@1, pinned: true }]\n",
     ["d.yaml:11:28: error: unknown key 'pinned' in model reference of tenant 't'; did you mean 'pin'?"]),
    ("tenants:\n  - name: t\n    quota: { dsk: 1TiB }\n", ["d.yaml:3:14: error: unknown key 'dsk' in quota of tenant 't'; did you mean 'disk'?"]),
    // Pool and node.
    ("pools:\n  - name: p\n    replica: 1\n    nodes: []\n", ["d.yaml:3:5: error: unknown key 'replica' in pool; did you mean 'replicas'?"]),
    ("pools:\n  - name: p\n    nodes:\n      - { name: n, disk: 1TiB, drain: true }\n",
     ["d.yaml:4:32: error: unknown key 'drain' in node of pool 'p'; did you mean 'draining'?"]),
    ("pools:\n  - name: p\n    nodes:\n      - name: n\n        disk: 1TiB\n        gpus: 8\n",
     ["d.yaml:6:9: error: unknown key 'gpus' in node of pool 'p'; expected one of: name, disk, vram, draining, labels"]),
    // Policy, retry and tiers.
    ("policy:\n  minfree: 10%\n", ["d.yaml:2:3: error: unknown key 'minfree' in policy; did you mean 'min_free'?"]),
    ("policy:\n  gc-grace: 1h\n", ["d.yaml:2:3: error: unknown key 'gc-grace' in policy; did you mean 'gc_grace'?"]),
    ("policy:\n  retry:\n    attempt: 3\n", ["d.yaml:3:5: error: unknown key 'attempt' in policy.retry; did you mean 'attempts'?"]),
    ("policy:\n  retry: { attempts: 3, jitter: 1s }\n",
     ["d.yaml:2:25: error: unknown key 'jitter' in policy.retry; expected one of: attempts, backoff, max_backoff"]),
    ("policy:\n  tiers:\n    pro: { disk: 1TiB, modles: 3 }\n", ["d.yaml:3:24: error: unknown key 'modles' in tier 'pro'; did you mean 'models'?"]),
  ])
  func unknownKeysAreReportedWithASuggestion(document: String, expected: [String]) {
    #expect(Self.yaml(document) == expected)
  }

  // MARK: Missing keys

  @Test(arguments: [
    (model.replacing("  - name: m\n    version", with: "  - version"), "d.yaml:2:5: error: model is missing required key 'name'"),
    (model.replacing("    version: \"1\"\n", with: ""), "d.yaml:2:5: error: model is missing required key 'version'"),
    (model.replacing("    sources: [hf://org/m]\n", with: ""), "d.yaml:2:5: error: model 'm@1' is missing required key 'sources'"),
    ("models:\n  - name: m\n    version: \"1\"\n    sources: [hf://org/m]\n", "d.yaml:2:5: error: model 'm@1' is missing required key 'variants'"),
    (model.replacing("        files:\n          - { path: a.bin, size: 1, sha256: \(hex("a")) }\n", with: "        vram: 1GiB\n"),
     "d.yaml:7:9: error: variant 'v' of model 'm@1' is missing required key 'files'"),
    (model.replacing("path: a.bin, ", with: ""), "d.yaml:8:13: error: file of variant 'v' of model 'm@1' is missing required key 'path'"),
    (model.replacing("size: 1, ", with: ""), "d.yaml:8:13: error: file of variant 'v' of model 'm@1' is missing required key 'size'"),
    (model.replacing(", sha256: \(hex("a"))", with: ""), "d.yaml:8:13: error: file of variant 'v' of model 'm@1' is missing required key 'sha256'"),
    (model.replacing("sha256: \(hex("a"))", with: "sha256:"), "d.yaml:8:37: error: 'sha256' in file of variant 'v' of model 'm@1' must not be empty"),
    ("tenants:\n  - tier: pro\n", "d.yaml:2:5: error: tenant is missing required key 'name'"),
    ("pools:\n  - nodes: []\n", "d.yaml:2:5: error: pool is missing required key 'name'"),
    ("pools:\n  - name: p\n", "d.yaml:2:5: error: pool 'p' is missing required key 'nodes'"),
    ("pools:\n  - name: p\n    nodes:\n      - { disk: 1TiB }\n", "d.yaml:4:9: error: node of pool 'p' is missing required key 'name'"),
    ("pools:\n  - name: p\n    nodes:\n      - name: n\n        vram: 80GiB\n", "d.yaml:4:9: error: node 'n' is missing required key 'disk'"),
    ("pools:\n  - name:\n    nodes: []\n", "d.yaml:2:5: error: 'name' in pool must not be empty"),
    ("tenants:\n  - name: ~\n", "d.yaml:2:5: error: 'name' in tenant must not be empty"),
  ])
  func missingRequiredKeysAreReportedAtTheirMapping(document: String, expected: String) {
    #expect(Self.yaml(document) == [expected])
  }

  // MARK: Wrong types

  @Test(arguments: [
    // A list where a mapping is expected, and the reverse.
    ("- name: m\n", "d.yaml:1:1: error: the top level must be a mapping, got a list"),
    ("models:\n  name: m\n", "d.yaml:2:3: error: 'models' in the top level must be a list, got a mapping"),
    ("models: [m]\n", "d.yaml:1:10: error: model must be a mapping, got a string"),
    (model.replacing("      v:\n        files:\n          - { path: a.bin, size: 1, sha256: \(hex("a")) }\n", with: "      v: [a.bin]\n"),
     "d.yaml:6:10: error: variant 'v' of model 'm@1' must be a mapping, got a list"),
    (model.replacing("    variants:\n      v:\n        files:\n          - { path: a.bin, size: 1, sha256: \(hex("a")) }\n", with: "    variants: [v]\n"),
     "d.yaml:5:15: error: 'variants' in model 'm@1' must be a mapping, got a list"),
    (model.replacing("          - { path", with: "          - [ path").replacing("\(hex("a")) }", with: "\(hex("a")) ]"),
     "d.yaml:8:13: error: file of variant 'v' of model 'm@1' must be a mapping, got a list"),
    ("tenants:\n  - name: t\n    quota: [1TiB]\n", "d.yaml:3:12: error: quota of tenant 't' must be a mapping, got a list"),
    ("policy:\n  retry: 3\n", "d.yaml:2:10: error: policy.retry must be a mapping, got an integer"),
    ("policy:\n  tiers: [pro]\n", "d.yaml:2:10: error: 'tiers' in policy must be a mapping, got a list"),
    ("pools:\n  - name: p\n    nodes: { name: n }\n", "d.yaml:3:12: error: 'nodes' in pool 'p' must be a list, got a mapping"),
    ("pools:\n  - name: p\n    serves: research\n    nodes: []\n", "d.yaml:3:13: error: 'serves' in pool 'p' must be a list, got a string"),
    (model.replacing("sources: [hf://org/m]", with: "sources: hf://org/m"), "d.yaml:4:14: error: 'sources' in model 'm@1' must be a list, got a string"),
    // A mapping where a string or a size is expected.
    (model.replacing("name: m", with: "name: { m: 1 }"), "d.yaml:2:11: error: 'name' in model must be a string, got a mapping"),
    (model.replacing("version: \"1\"", with: "version: [1]"), "d.yaml:3:14: error: 'version' in model must be a string, got a list"),
    (model.replacing("size: 1,", with: "size: { gib: 1 },"), "d.yaml:8:34: error: 'size' in file of variant 'v' of model 'm@1' must be a size such as 80GiB, got a mapping"),
    (model.replacing("path: a.bin", with: "path: { a: b }"), "d.yaml:8:21: error: 'path' in file of variant 'v' of model 'm@1' must be a string, got a mapping"),
    (model.replacing("sources: [hf://org/m]", with: "sources: [{ hf: org/m }]"), "d.yaml:4:15: error: sources of model 'm@1' must be URLs, got a mapping"),
    ("tenants:\n  - name: t\n    group: { gid: 100 }\n", "d.yaml:3:12: error: 'group' in tenant 't' must be a string, got a mapping"),
    ("tenants:\n  - name: t\n    quota: { disk: true }\n", "d.yaml:3:20: error: 'disk' in quota of tenant 't' must be a size such as 80GiB, got a boolean"),
    ("pools:\n  - name: p\n    nodes:\n      - { name: n, disk: 1TiB, labels: { zone: [a] } }\n",
     "d.yaml:4:48: error: label 'zone' of node 'n' must be a string, got a list"),
    ("policy:\n  gc_grace: { h: 1 }\n", "d.yaml:2:13: error: 'gc_grace' in policy must be a duration such as 24h, got a mapping"),
    // Booleans.
    (model.replacing("    sources:", with: "    pin: 1\n    sources:"), "d.yaml:4:10: error: 'pin' in model 'm@1' must be true or false, got an integer"),
    (model.replacing("    sources:", with: "    pin: yes\n    sources:"), "d.yaml:4:10: error: 'pin' in model 'm@1' must be true or false, got 'yes'"),
    ("pools:\n  - name: p\n    nodes:\n      - { name: n, disk: 1TiB, draining: \"no\" }\n",
     "d.yaml:4:42: error: 'draining' in node 'n' must be true or false, got 'no'"),
    // Integers.
    ("pools:\n  - name: p\n    replicas: two\n    nodes: []\n", "d.yaml:3:15: error: 'replicas' in pool 'p' must be an integer, got 'two'"),
    ("pools:\n  - name: p\n    replicas: 1.5\n    nodes: []\n", "d.yaml:3:15: error: 'replicas' in pool 'p' must be an integer, got '1.5'"),
    ("pools:\n  - name: p\n    replicas: 0\n    nodes: []\n", "d.yaml:3:15: error: 'replicas' in pool 'p' must be between 1 and 2147483647, got 0"),
    ("policy:\n  concurrency: 1000\n", "d.yaml:2:16: error: 'concurrency' in policy must be between 1 and 256, got 1000"),
    ("policy:\n  retry: { attempts: 0 }\n", "d.yaml:2:22: error: 'attempts' in policy.retry must be between 1 and 100, got 0"),
    ("tenants:\n  - name: t\n    quota: { models: many }\n", "d.yaml:3:22: error: 'models' in quota of tenant 't' must be an integer, got 'many'"),
    ("tenants:\n  - name: t\n    quota: { models: -1 }\n", "d.yaml:3:22: error: 'models' in quota of tenant 't' must be between 0 and 2147483647, got -1"),
    // Choices.
    ("pools:\n  - name: p\n    placement: sprad\n    nodes: []\n",
     "d.yaml:3:16: error: 'placement' in pool 'p' must be one of spread, least-loaded, binpack, got 'sprad'; did you mean 'spread'?"),
    ("policy:\n  eviction: fifo\n", "d.yaml:2:13: error: 'eviction' in policy must be one of lru, none, got 'fifo'"),
  ])
  func valuesOfTheWrongTypeAreReportedAtTheValue(document: String, expected: String) {
    #expect(Self.yaml(document) == [expected])
  }
}
