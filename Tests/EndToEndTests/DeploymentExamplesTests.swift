import Foundation
import Testing

@testable import ReconcileCore

/// The deployment support the repository ships, checked with the tools that read it: the
/// desired-state JSON Schema with check-jsonschema (against every example, and against broken
/// files that `reconcile validate` refuses too), the systemd units with `systemd-analyze verify`,
/// and the Kubernetes manifests with the YAML reader.
@Suite struct DeploymentExamplesTests {
  static let root = Binary.packageRoot
  static let schema = root.appendingPathComponent("Schema/desired-state.schema.json").path

  // MARK: The desired-state JSON Schema

  /// Directories under Examples/ that hold no desired state: those of `Repository.notDesiredState`
  /// in ReconcileCoreTests (another target), and the quickstart's mirror of model files.
  static let notDesiredState: Set<String> = ["node-config", "systemd", "kubernetes", "mirror"]

  /// Every desired-state file under Desired/ and Examples/, relative to the repository root.
  static func desiredStateFiles() -> [String] {
    var files: [String] = []
    for top in ["Desired", "Examples"] {
      guard let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent(top).path) else { continue }
      while let name = enumerator.nextObject() as? String {
        let components = name.split(separator: "/").map(String.init)
        guard components.allSatisfy({ !notDesiredState.contains($0) }), DesiredFile.isDesiredStateFile(name) else { continue }
        files.append(top + "/" + name)
      }
    }
    return files.sorted()
  }

  @Test func theSchemaIsAValidDraft07Schema() throws {
    let result = try Binary.external("check-jsonschema", ["--check-metaschema", Self.schema])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("ok -- validation done"), "\(result.stdout)")
  }

  @Test func everyDesiredStateFilePassesTheSchema() throws {
    let files = Self.desiredStateFiles()
    #expect(files.contains("Desired/models.yaml"))
    #expect(files.contains("Examples/fleet/pools.yaml"))
    #expect(files.contains("Examples/fleet-toml/policy.toml"))
    #expect(files.contains("Examples/quickstart/policy.toml"))
    #expect(!files.contains { $0.hasPrefix("Examples/kubernetes/") || $0.hasPrefix("Examples/node-config/") })
    let result = try Binary.external("check-jsonschema", ["--schemafile", Self.schema] + files, in: Self.root)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("ok -- validation done"), "\(result.stdout)")
  }

  /// Forms the validator accepts that the examples do not use: include: variants and their lock,
  /// empty optional keys (read as absent), quoted booleans and numbers, hex and fractional
  /// sizes, combined durations, a size as min_free, label values that are not strings.
  @Test func everyFormTheValidatorAcceptsPassesTheSchema() throws {
    let directory = try TemporaryDirectory()
    let digest = String(repeating: "ab", count: 32)
    try directory.write("models.yaml", """
      models:
        - name: m
          version: 1.0
          sources: [hf://org/m@main, "file:///srv/m/"]
          default_variant:
          pin: "TRUE"
          requires:
          variants:
            fp16:
              vram: 1.5 TiB
              include: ["*.safetensors", "**/*.json"]
            q8:
              vram:
              files:
                - { path: a/b.bin, size: 0x400, sha256: \(digest) }
                - { path: c.bin, size: "2.5 KiB", sha256: \(String(repeating: "cd", count: 32)), git_sha1: }
      tenants:
        - { name: t, tier: pro, group: 1000, quota: { bandwidth: 500MiB/s, models: "3" }, models: ["m@1.0:q8", { model: "m@1.0:fp16", pin: }] }
      pools:
        - name: p
          serves: [t]
          replicas:
          placement:
          nodes: [{ name: n1, disk: 3TiB, draining: false, labels: { zone: eu-1a, rack: 7, gpu: true } }]
      """)
    try directory.write("reconcile.lock.yaml", """
      locks:
        - model: m@1.0
          variant: fp16
          source: hf://org/m@0123456789abcdef0123456789abcdef01234567
          include: ["*.safetensors", "**/*.json"]
          files:
            - { path: model.safetensors, size: 10, sha256: \(String(repeating: "ef", count: 32)) }
      """)
    try directory.write("policy.toml", """
      [policy]
      min_free = "200GiB"
      eviction = "none"
      gc_grace = "1h30m"
      concurrency = "8"
      retry = { attempts = 3, backoff = 1, max_backoff = "2m 30s" }
      fleet = { node_ttl = 90 }

      [policy.tiers]
      pro = { disk = "1TiB", concurrent_downloads = 2, bandwidth = "1GiB/s" }
      """)
    let validate = try Binary.run(["validate", directory.path])
    #expect(validate.status == 0, "reconcile validate accepts the files: \(validate.stderr)")
    let names = ["models.yaml", "reconcile.lock.yaml", "policy.toml"].map { directory.path + "/" + $0 }
    let result = try Binary.external("check-jsonschema", ["--schemafile", Self.schema] + names)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
  }

  /// A broken desired-state file: what check-jsonschema must say, and what `reconcile validate` says.
  struct BrokenFile: Sendable, CustomTestStringConvertible {
    var name: String
    var file: String
    var text: String
    var schemaSays: [String]
    var validatorSays: String
    var testDescription: String { name }
  }

  static let digest = String(repeating: "0f", count: 32)

  /// A one-model file whose only file entry is `entry`.
  static func model(file entry: String, extraKey: String = "") -> String {
    "models:\n  - name: m\n    version: \"1\"\n\(extraKey)    sources: [https://mirror.example/m/]\n    variants:\n      fp16:\n        files:\n          - \(entry)\n"
  }

  static let brokenFiles: [BrokenFile] = [
    BrokenFile(
      name: "unknown key in a model", file: "models.yaml",
      text: model(file: "{ path: a.bin, size: 1, sha256: \(digest) }", extraKey: "    quant: int4\n"),
      schemaSays: ["::$.models[0]: Additional properties are not allowed ('quant' was unexpected)"],
      validatorSays: "error: unknown key 'quant' in model"),
    BrokenFile(
      name: "file without sha256", file: "models.yaml", text: model(file: "{ path: a.bin, size: 1 }"),
      schemaSays: ["::$.models[0].variants.fp16.files[0]: 'sha256' is a required property"],
      validatorSays: "is missing required key 'sha256'"),
    BrokenFile(
      name: "sha256 that is not 64 hex digits", file: "models.yaml", text: model(file: "{ path: a.bin, size: 1, sha256: abc123 }"),
      schemaSays: ["::$.models[0].variants.fp16.files[0].sha256: 'abc123' does not match '^[0-9a-f]{64}$'"],
      validatorSays: "error: sha256 must be 64 hex digits, got 6"),
    BrokenFile(
      name: "negative size", file: "models.yaml", text: model(file: "{ path: a.bin, size: -5, sha256: \(digest) }"),
      schemaSays: ["::$.models[0].variants.fp16.files[0].size: -5 is not valid under any of the given schemas", "-5 is less than the minimum of 0"],
      validatorSays: "must not be negative, got '-5'"),
    BrokenFile(
      name: "size as text", file: "models.yaml", text: model(file: "{ path: a.bin, size: big, sha256: \(digest) }"),
      schemaSays: ["::$.models[0].variants.fp16.files[0].size: 'big' is not valid under any of the given schemas"],
      validatorSays: "expected a size such as 80GiB, got 'big'"),
    BrokenFile(
      name: "size in GB", file: "models.toml",
      text: "[[models]]\nname = \"m\"\nversion = \"1\"\nsources = [\"s3://bucket/m/\"]\n[models.variants.fp16]\nfiles = [{ path = \"a.bin\", size = \"5GB\", sha256 = \"\(digest)\" }]\n",
      schemaSays: ["::$.models[0].variants.fp16.files[0].size: '5GB' is not valid under any of the given schemas"],
      validatorSays: "unknown unit 'GB'; did you mean 'GiB'?"),
    BrokenFile(
      name: "eviction not in the enum", file: "policy.toml", text: "[policy]\nmin_free = \"10%\"\neviction = \"fifo\"\n",
      schemaSays: ["::$.policy.eviction: 'fifo' is not one of ['lru', 'none', None]"],
      validatorSays: "'eviction' in policy must be one of lru, none, got 'fifo'"),
    BrokenFile(
      name: "node bandwidth of 0", file: "policy.yaml", text: "policy:\n  bandwidth: 0MiB/s\n",
      schemaSays: ["::$.policy.bandwidth: '0MiB/s' does not match '[1-9]'"],
      validatorSays: "'bandwidth' in policy must be more than 0 bytes per second"),
    BrokenFile(
      name: "tenant bandwidth of 0", file: "tenants.yaml", text: "tenants:\n  - name: t\n    quota: { bandwidth: 0 }\n",
      schemaSays: ["::$.tenants[0].quota.bandwidth: 0 is less than the minimum of 1"],
      validatorSays: "'bandwidth' in quota of tenant 't' must be more than 0 bytes per second"),
    BrokenFile(
      name: "stall timeout of 0", file: "policy.toml", text: "[policy]\nstall_timeout = 0\n",
      schemaSays: ["::$.policy.stall_timeout: 0 is less than the minimum of 1"],
      validatorSays: "'stall_timeout' in policy must be between 1s and 24h, got '0'"),
    BrokenFile(
      name: "draining: yes", file: "pools.yaml", text: "pools:\n  - name: p\n    nodes:\n      - { name: gpu-1, disk: 1TiB, draining: yes }\n",
      schemaSays: ["::$.pools[0].nodes[0].draining: 'yes' is not valid under any of the given schemas"],
      validatorSays: "'draining' in node 'gpu-1' must be true or false, got 'yes'"),
    BrokenFile(
      name: "unknown top-level key", file: "policy.yaml", text: "polcy:\n  gc_grace: 1h\n",
      schemaSays: ["::$: Additional properties are not allowed ('polcy' was unexpected)"],
      validatorSays: "unknown key 'polcy' in the top level; did you mean 'policy'?"),
  ]

  @Test(arguments: brokenFiles)
  func brokenFileFailsTheSchemaAsItFailsValidation(_ broken: BrokenFile) throws {
    let directory = try TemporaryDirectory()
    let path = try directory.write(broken.file, broken.text)
    let result = try Binary.external("check-jsonschema", ["--schemafile", Self.schema, path])
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("Schema validation errors were encountered."), "\(result.stdout)")
    for message in broken.schemaSays {
      // "::$.path: message" follows the file's name; a "Best Deep Match" line stands alone.
      let expected = message.hasPrefix("::") ? path + message : message
      #expect(result.stdout.contains(expected), "expected '\(expected)' in:\n\(result.stdout)")
    }
    #expect(result.stdout.contains(path + "::$"), "each problem names the file: \(result.stdout)")
    // The schema refuses what reconcile itself refuses, for the same reason.
    let validate = try Binary.run(["validate", directory.path])
    #expect(validate.status == 1, "\(validate.stdout)\(validate.stderr)")
    #expect(validate.stderr.contains(broken.validatorSays), "\(validate.stderr)")
  }

  // MARK: systemd units

  static let unitDirectory = root.appendingPathComponent("Examples/systemd")

  /// The unit files of Examples/systemd.
  static func unitNames() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: unitDirectory.path)
      .filter { $0.hasSuffix(".service") || $0.hasSuffix(".timer") }.sorted()
  }

  /// Copies the units into `directory`, edited by `edit`, with `/usr/local/bin/reconcile` (not
  /// installed here) replaced by the built binary: verify checks that every ExecStart= program
  /// exists. /usr/bin/git and /bin/kill are Debian's own.
  static func stageUnits(in directory: TemporaryDirectory, edit: (String) -> String = { $0 }) throws -> [String] {
    let binary = Binary.path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "no reconcile binary at \(binary): run 'swift build' first")
    return try unitNames().map { name in
      let text = try String(contentsOf: unitDirectory.appendingPathComponent(name), encoding: .utf8)
      return try directory.write(name, edit(text.replacingOccurrences(of: "/usr/local/bin/reconcile", with: binary)))
    }
  }

  /// `systemd-analyze verify` on `paths`: its exit code, and every line it printed. It exits 0
  /// for unknown directives and values it cannot parse (it says "…, ignoring" and goes on), so
  /// a unit is clean only when it prints nothing. In this container, without a running systemd,
  /// it prints nothing else for good units: no line is filtered out as noise.
  static func verify(_ paths: [String]) throws -> (status: Int32, lines: [String]) {
    let result = try Binary.external("systemd-analyze", ["verify", "--man=no"] + paths)
    let lines = (result.stdout + result.stderr).split(separator: "\n").map(String.init)
    return (result.status, lines)
  }

  @Test func unitsPassSystemdAnalyzeVerify() throws {
    let names = try Self.unitNames()
    #expect(names == ["reconcile-agent.service", "reconcile.service", "reconcile.timer"])
    let directory = try TemporaryDirectory()
    let (status, lines) = try Self.verify(try Self.stageUnits(in: directory))
    #expect(status == 0, "\(lines)")
    #expect(lines.isEmpty, "systemd-analyze verify found problems:\n\(lines.joined(separator: "\n"))")
  }

  /// The check above is not vacuous: a typo'd directive and a missing program are both caught.
  @Test func verifyCatchesATypoAndAMissingProgram() throws {
    let directory = try TemporaryDirectory()
    let typo = try Self.stageUnits(in: directory) { $0.replacingOccurrences(of: "\nRestart=on-failure", with: "\nRestrat=on-failure") }
    let (status, lines) = try Self.verify(typo.filter { $0.hasSuffix("reconcile-agent.service") })
    #expect(status == 0, "verify only warns about an unknown key")
    #expect(lines.contains { $0.contains("Unknown key 'Restrat' in section [Service]") }, "\(lines)")

    let missing = try directory.write("missing.service", "[Service]\nType=notify\nExecStart=/nonexistent/reconcile agent\n")
    let (missingStatus, missingLines) = try Self.verify([missing])
    #expect(missingStatus != 0)
    #expect(missingLines.contains { $0.contains("/nonexistent/reconcile is not executable") }, "\(missingLines)")
  }

  /// The `[Service]` settings of a unit, by key (a key set twice keeps every value).
  static func serviceSettings(_ name: String) throws -> [String: [String]] {
    let text = try String(contentsOf: unitDirectory.appendingPathComponent(name), encoding: .utf8)
    var section = ""
    var settings: [String: [String]] = [:]
    for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.hasPrefix("#") && !line.isEmpty {
      if line.hasPrefix("[") {
        section = line
      } else if section == "[Service]", let equals = line.firstIndex(of: "=") {
        settings[String(line[..<equals]), default: []].append(String(line[line.index(after: equals)...]))
      }
    }
    return settings
  }

  @Test func theAgentUnitIsANotifyServiceThatReloadsOnSIGHUP() throws {
    let service = try Self.serviceSettings("reconcile-agent.service")
    #expect(service["Type"] == ["notify"])
    #expect(service["NotifyAccess"] == ["main"])
    #expect(service["ExecStart"] == ["/usr/local/bin/reconcile agent --desired /srv/fleet-config/Desired"])
    #expect(service["ExecReload"] == ["/bin/kill -HUP $MAINPID"])
    #expect(service["Restart"] == ["on-failure"])
    #expect(service["TimeoutStopSec"] == ["30"])
    #expect(service["KillMode"] == nil || service["KillMode"] == ["mixed"])
    // Hardened, and still able to write the node root.
    #expect(service["ProtectSystem"] == ["strict"])
    #expect(service["NoNewPrivileges"] == ["yes"])
    #expect(service["ReadWritePaths"]?.contains("/var/lib/reconcile") == true)
    #expect(service["StateDirectory"] == ["reconcile"])
  }

  // MARK: Kubernetes manifests

  static let kubernetesDirectory = root.appendingPathComponent("Examples/kubernetes")

  /// Every document of every manifest, read with the YAML reader reconcile itself uses.
  static func manifests() throws -> [DocumentNode] {
    let names = try FileManager.default.contentsOfDirectory(atPath: kubernetesDirectory.path).filter { $0.hasSuffix(".yaml") }.sorted()
    try #require(!names.isEmpty)
    var documents: [DocumentNode] = []
    for name in names {
      let text = try String(contentsOf: kubernetesDirectory.appendingPathComponent(name), encoding: .utf8)
      // The reader takes one document at a time; these files put `---` alone between documents.
      let parts = text.components(separatedBy: "\n---\n")
      for (index, part) in parts.enumerated() {
        let document = try YAMLReader.read(part, file: "\(name)#\(index + 1)")
        if case .mapping(let mapping) = document, mapping.entries.isEmpty { continue }
        documents.append(document)
      }
    }
    return documents
  }

  @Test func everyManifestDocumentIsANamespacelessKubernetesObject() throws {
    let documents = try Self.manifests()
    #expect(documents.compactMap { $0["kind"]?.text }.sorted() == ["DaemonSet", "Secret", "Secret"])
    for document in documents {
      #expect(document["apiVersion"]?.text != nil)
      #expect(document["metadata"]?["name"]?.text != nil)
      #expect(document["metadata"]?["namespace"] == nil, "the namespace is chosen at kubectl apply -n")
    }
  }

  @Test func theDaemonSetRunsTheAgentBesideGitSync() throws {
    let documents = try Self.manifests()
    let daemonSet = try #require(documents.first { $0["kind"]?.text == "DaemonSet" })
    let template = try #require(daemonSet["spec"]?["template"])
    let annotations = template["metadata"]?["annotations"]
    #expect(annotations?["prometheus.io/scrape"]?.text == "true")
    #expect(annotations?["prometheus.io/port"]?.text == "9400")
    #expect(annotations?["prometheus.io/path"]?.text == "/metrics")
    let pod = try #require(template["spec"])
    #expect(pod["terminationGracePeriodSeconds"]?.text == "30")
    #expect(pod["tolerations"]?.items.contains { $0["key"]?.text == "nvidia.com/gpu" } == true)
    let containers = pod["containers"]?.items ?? []
    let reconcile = try #require(containers.first { $0["name"]?.text == "reconcile" })
    let gitSync = try #require(containers.first { $0["name"]?.text == "git-sync" })
    #expect(containers.allSatisfy { $0["resources"]?["requests"] != nil && $0["resources"]?["limits"] != nil })

    let args = reconcile["args"]?.items.compactMap(\.text) ?? []
    #expect(args.first == "agent")
    #expect(args == ["agent", "--listen", "0.0.0.0:9400", "--token-file", "/etc/reconcile/token/token"])
    let liveness = reconcile["livenessProbe"]?["httpGet"]
    #expect(liveness?["path"]?.text == "/healthz")
    #expect(liveness?["port"]?.text == "9400")
    let readiness = reconcile["readinessProbe"]?["exec"]?["command"]?.items.compactMap(\.text) ?? []
    #expect(readiness.first?.hasSuffix("reconcile") == true && readiness.dropFirst().first == "check", "\(readiness)")

    let env = Dictionary((reconcile["env"]?.items ?? []).compactMap { item in item["name"]?.text.map { ($0, item) } }) { first, _ in first }
    #expect(env["RECONCILE_NODE"]?["valueFrom"]?["fieldRef"]?["fieldPath"]?.text == "spec.nodeName")
    #expect(env["RECONCILE_ROOT"]?["value"]?.text == "/var/lib/reconcile")
    let registry = env["RECONCILE_REGISTRY"]?["valueFrom"]?["secretKeyRef"]
    #expect(registry?["optional"]?.text == "true")

    // Every volume the containers share is wired: the git checkout, the node root, the token.
    let mounts = { (container: DocumentNode) in
      Dictionary((container["volumeMounts"]?.items ?? []).compactMap { m in m["mountPath"]?.text.map { ($0, m["name"]?.text ?? "") } }) { a, _ in a }
    }
    let volumes = Dictionary((pod["volumes"]?.items ?? []).compactMap { v in v["name"]?.text.map { ($0, v) } }) { a, _ in a }
    let desired = try #require(env["RECONCILE_DESIRED"]?["value"]?.text)
    let checkout = try #require(mounts(reconcile).first { desired.hasPrefix($0.key + "/") }, "RECONCILE_DESIRED \(desired) lies in a mounted volume")
    #expect(volumes[checkout.value]?["emptyDir"] != nil)
    #expect(mounts(gitSync).contains { $0.value == checkout.value }, "git-sync writes the checkout the agent reads")
    let gitArgs = gitSync["args"]?.items.compactMap(\.text) ?? []
    #expect(gitArgs.contains("--root=\(checkout.key)") && desired.hasPrefix(checkout.key + "/current/"), "\(gitArgs)")
    #expect(gitSync["image"]?.text?.hasPrefix("registry.k8s.io/git-sync/git-sync:v4.") == true)
    #expect(volumes[mounts(reconcile)["/var/lib/reconcile"] ?? ""]?["hostPath"]?["path"]?.text == "/var/lib/reconcile")
    let tokenVolume = volumes[mounts(reconcile)["/etc/reconcile/token"] ?? ""]?["secret"]?["secretName"]?.text

    // The Secrets the DaemonSet names are in the manifest, with the keys it reads.
    let secrets = Dictionary(documents.filter { $0["kind"]?.text == "Secret" }.compactMap { s in s["metadata"]?["name"]?.text.map { ($0, s) } }) { a, _ in a }
    #expect(tokenVolume != nil && secrets[tokenVolume ?? ""]?["stringData"]?["token"] != nil)
    let registrySecret = secrets[registry?["name"]?.text ?? ""]
    #expect(registrySecret?["stringData"]?[registry?["key"]?.text ?? ""]?.text?.hasPrefix("postgresql://") == true)
  }
}

extension DocumentNode {
  /// The value of `key` in a mapping; nil for another node or a missing key.
  fileprivate subscript(_ key: String) -> DocumentNode? {
    guard case .mapping(let mapping) = self else { return nil }
    return mapping[key]?.value
  }

  /// A scalar's text.
  fileprivate var text: String? {
    guard case .scalar(let scalar) = self else { return nil }
    return scalar.text
  }

  /// A sequence's items; empty for another node.
  fileprivate var items: [DocumentNode] {
    guard case .sequence(let items, _) = self else { return [] }
    return items
  }
}
