import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// `validate`, `plan` and `status` on the built binary: stdout, stderr, exit codes and files.
@Suite struct CommandLineTests {
  @Test func validateQuickstart() throws {
    let result = try Binary.run(["validate", "Examples/quickstart"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == "Examples/quickstart: valid — 2 models, 3 variants, 9 files, 389.2 KiB unique, 0 tenants, 0 pools, 0 nodes\n")
    #expect(result.stderr.isEmpty)
  }

  @Test(arguments: ["validate", "plan"])
  func sizesAddingUpPastEveryBoundAreAnErrorNotACrash(_ command: String) throws {
    let directory = try TemporaryDirectory()
    let files = ["a", "b", "c"].map { "        - { path: \($0).bin, size: 9223372036854775807, sha256: \(String(repeating: $0, count: 64)) }" }
    try directory.write("models.yaml", "models:\n  - name: m\n    version: \"1\"\n    sources: [https://x/]\n    variants:\n      v:\n        files:\n" + files.joined(separator: "\n") + "\n")
    let arguments = command == "validate" ? [command, directory.path] : [command, "--desired", directory.path, "--root", directory.path + "/root", "--node", "n"]
    let result = try Binary.run(arguments)
    #expect(result.status == 1, "exit 1, not a signal: \(result.status) \(result.stderr)")
    #expect(result.stderr.contains("models.yaml:8:") && result.stderr.contains("error: size 9223372036854775807 of m@1:v a.bin is too large"), "\(result.stderr)")
  }

  @Test func validateReportsEveryErrorWithPositionsAndExits1() throws {
    let directory = try TemporaryDirectory()
    try directory.write("models.yaml", """
      models:
        - name: a
          version: "1"
          sources: [ftp://example/a]
          variants:
            fp16:
              files:
                - { path: ../etc/passwd, size: 1, sha256: abc }
      """)
    try directory.write("tenants.toml", """
      [[tenants]]
      name = "t"
      modles = ["a@1"]
      """)
    let result = try Binary.run(["validate", directory.path])
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    let lines = result.stderr.split(separator: "\n").map(String.init)
    #expect(lines.contains("\(directory.path)/models.yaml:4:15: error: unsupported source 'ftp://example/a'; use one of hf://, s3://, https://, http://, file://"))
    #expect(lines.contains { $0.hasPrefix("\(directory.path)/models.yaml:8:21: error: path '../etc/passwd'") })
    #expect(lines.contains("\(directory.path)/models.yaml:8:53: error: sha256 must be 64 hex digits, got 3"))
    #expect(lines.contains("\(directory.path)/tenants.toml:3:1: error: unknown key 'modles' in tenant; did you mean 'models'?"))
    #expect(lines.last == "4 errors in the desired state; nothing was changed.")
  }

  @Test func validateUsesDesiredFromEnvironment() throws {
    let result = try Binary.run(["validate"], environment: ["RECONCILE_DESIRED": "Examples/fleet"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasPrefix("Examples/fleet: valid — 4 models, 5 variants, 19 files, 72.1 GiB unique, 2 tenants, 2 pools, 4 nodes"))
  }

  @Test func missingDesiredDirectorySaysWhatToDo() throws {
    let result = try Binary.run(["validate", "/nonexistent/desired"])
    #expect(result.status == 1)
    #expect(result.stderr == "error: desired state '/nonexistent/desired' does not exist; pass --desired DIR or set RECONCILE_DESIRED\n")
  }

  @Test func planOnAFreshRootListsDownloadsAndTouchesNothing() throws {
    let root = try TemporaryDirectory()
    let result = try Binary.run(["plan", "--desired", "Examples/quickstart", "--root", root.path + "/node", "--node", "demo"])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0].hasPrefix("reconcile plan — node demo · Examples/quickstart"))
    #expect(lines.contains("  + download  embed-mini@0.3:fp32  3 files  101.0 KiB  from file://./mirror/embed-mini/"))
    #expect(lines.contains("Plan: 3 to download (389.2 KiB)."))
    #expect(!FileManager.default.fileExists(atPath: root.path + "/node"), "plan must not create the root")
  }

  @Test(arguments: [("gpu-a-01", Int32(2)), ("gpu-a-03", Int32(0))])
  func detailedExitcode(node: String, status: Int32) throws {
    let root = try TemporaryDirectory()
    let fleet = try ScaledFleet()
    let result = try Binary.run(["plan", "--desired", fleet.path, "--root", root.path, "--node", node, "--detailed-exitcode"])
    #expect(result.status == status, "\(result.stderr)")
  }

  @Test func planJSONAndSavedPlanAreTheSameDocument() throws {
    let root = try TemporaryDirectory()
    let saved = root.path + "/plan.json"
    let fleet = try ScaledFleet()
    let result = try Binary.run(["plan", "--desired", fleet.path, "--root", root.path + "/node", "--node", "gpu-l-01", "--json", "-o", saved])
    #expect(result.status == 0, "\(result.stderr)")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(document["formatVersion"] as? Int == 2)
    #expect(document["node"] as? String == "gpu-l-01")
    // 9 downloads and links, and since format 2 the 2 tenant views they make.
    #expect((document["changes"] as? [Any])?.count == 11)
    #expect(try String(contentsOfFile: saved, encoding: .utf8) == result.stdout)
    let plan = try PlanRenderer.decode(Data(result.stdout.utf8))
    #expect(plan.desired.digest.count == 64)
    #expect(plan.observedDigest.count == 64)
  }

  @Test func unknownNodeNamesThePoolsNodes() throws {
    let result = try Binary.run(["plan", "--desired", "Examples/fleet", "--root", "/nonexistent", "--node", "gpu-z-99"])
    #expect(result.status == 1)
    #expect(result.stderr == "error: node 'gpu-z-99' is not in any pool (a100: gpu-a-01, gpu-a-02, gpu-a-03; l4: gpu-l-01); pass --node with one of these names or add the node to a pool\n")
  }

  @Test func planThatDoesNotFitFailsWithNodeAndNumbers() throws {
    let directory = try TemporaryDirectory()
    for name in ["models.yaml", "tenants.yaml", "policy.yaml"] {
      try directory.write(name, try String(contentsOf: Binary.packageRoot.appendingPathComponent("Examples/fleet/\(name)"), encoding: .utf8))
    }
    try directory.write("pools.yaml", """
      pools:
        - name: small
          serves: [serving]
          nodes: [{ name: tiny, disk: 20GiB }]
      """)
    let result = try Binary.run(["plan", "--desired", directory.path, "--root", directory.path + "/root", "--node", "tiny"])
    #expect(result.status == 1)
    #expect(result.stderr == "\(directory.path)/pools.yaml:4:21: error: node 'tiny' needs 21.20 GiB (22761510166 bytes) for its desired models but has 18.00 GiB (19327352832 bytes) available (disk 20.00 GiB minus min_free 10%); add disk, lower replicas, or move tenants to another pool\n")
  }

  @Test func configFileSuppliesDefaults() throws {
    let directory = try TemporaryDirectory()
    let fleet = try ScaledFleet()
    let config = try directory.write("config.toml", """
      desired = "\(fleet.path)"
      root = "\(directory.path)/root"
      node = "gpu-l-01"
      """)
    let result = try Binary.run(["plan"], environment: ["RECONCILE_CONFIG": config])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasPrefix("reconcile plan — node gpu-l-01 (pool l4)"))
    let flagWins = try Binary.run(["plan", "--node", "gpu-a-03"], environment: ["RECONCILE_CONFIG": config])
    #expect(flagWins.stdout.hasPrefix("reconcile plan — node gpu-a-03 (pool a100)"))
    let bad = try directory.write("bad.toml", "nodes = \"x\"\n")
    let refused = try Binary.run(["plan"], environment: ["RECONCILE_CONFIG": bad])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("bad.toml:1:1: error: unknown key 'nodes' in config"))
  }
}

/// Examples/fleet with every size divided by 2^20, so that plans which check the filesystem's
/// free space pass on any test machine; the structure (models, variants, files, placement) is
/// unchanged.
final class ScaledFleet {
  let directory: TemporaryDirectory
  var path: String { directory.path }

  init() throws {
    directory = try TemporaryDirectory()
    let source = Binary.packageRoot.appendingPathComponent("Examples/fleet")
    for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where name.hasSuffix(".yaml") {
      var text = try String(contentsOf: source.appendingPathComponent(name), encoding: .utf8)
      let pattern = try NSRegularExpression(pattern: "size: ([0-9]+)")
      for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
        guard let range = Range(match.range(at: 1), in: text), let size = Int64(text[range]) else { continue }
        text.replaceSubrange(range, with: String(max(1, size >> 20)))
      }
      try directory.write(name, text)
    }
  }
}
