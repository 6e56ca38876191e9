import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Nodes in a fleet registry on a real PostgreSQL cluster, on the built binary: apply and plan
/// report heartbeats and holdings, `reconcile nodes` lists them, a stopped database is a
/// warning (the node keeps working on its local ledger), and `nodes remove` deregisters.
@Suite(.serialized) struct FleetTests {
  /// Runs the binary as `node` on its own root, in the fleet `registry`.
  static func run(_ fixture: ApplyFixture, _ command: [String], node: String, registry: String?) throws -> Binary.Result {
    let root = fixture.directory.path + "/root-\(node)"
    return try Binary.run(
      command + ["--desired", fixture.desired, "--root", root, "--node", node], environment: registry.map { ["RECONCILE_REGISTRY": $0] } ?? [:],
      in: fixture.directory.url)
  }

  static func nodes(_ registry: String, in fixture: ApplyFixture) throws -> [[String: Any]] {
    let listed = try Binary.run(["nodes", "--json"], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    #expect(listed.status == 0, "\(listed.stdout)\(listed.stderr)")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
    return try #require(document["nodes"] as? [[String: Any]])
  }

  static func holdings(_ node: [String: Any]) -> [String] {
    ((node["node"] as? [String: Any])?["holdings"] as? [[String: Any]] ?? []).compactMap { $0["variant"] as? String }
  }

  @Test func nodesReportToTheRegistryAndKeepWorkingWhenItIsDown() throws {
    let server = try PostgresServer()
    defer { server.stop() }
    let base = try server.createDatabase("fleet")
    // The password is ignored by the test cluster (trust) but must never be printed.
    let registry = base.replacingOccurrences(of: "postgres@", with: "postgres:pw-do-not-print@")
    let fixture = try ApplyFixture()
    let files = try ApplyTests.alpha(fixture)

    let migrated = try Binary.run(["registry", "migrate"], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    #expect(migrated.status == 0 && migrated.stdout.contains("migrated to schema version \(PostgresMigrations.latest)"), "\(migrated.stdout)\(migrated.stderr)")
    #expect(!migrated.stdout.contains("pw-do-not-print") && migrated.stdout.contains("postgres:***@"), "\(migrated.stdout)")

    for node in ["gpu-a", "gpu-b"] {
      let applied = try Self.run(fixture, ["apply", "--auto-approve"], node: node, registry: registry)
      #expect(applied.status == 0, "\(node): \(applied.stdout)\(applied.stderr)")
    }
    var listed = try Self.nodes(registry, in: fixture)
    #expect(listed.compactMap { ($0["node"] as? [String: Any])?["heartbeat"] as? [String: Any] }.compactMap { $0["node"] as? String } == ["gpu-a", "gpu-b"])
    #expect(listed.allSatisfy { Self.holdings($0) == ["alpha@1:fp16"] && $0["state"] as? String == "ready" }, "\(listed)")
    let text = try Binary.run(["nodes"], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    #expect(text.stdout.hasPrefix("NODE   POOL  STATE  HEARTBEAT"), "\(text.stdout)")
    #expect(text.stdout.contains("ok "), "the last apply's outcome: \(text.stdout)")

    // The database stops: apply still converges on the node's own ledger, and says so.
    try server.halt()
    let beta = try fixture.makeFile("beta/weights.bin", size: 64 << 10)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": files]),
      ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["raw": ["weights.bin": beta]]),
    ])
    let offline = try Self.run(fixture, ["apply", "--auto-approve"], node: "gpu-a", registry: registry)
    #expect(offline.status == 0, "\(offline.stdout)\(offline.stderr)")
    #expect(offline.stderr.contains("warning: registry postgresql://postgres:***@127.0.0.1"), "\(offline.stderr)")
    #expect(offline.stderr.contains("this run uses the node's local ledger"), "\(offline.stderr)")
    #expect(offline.stdout.contains("fleet registry unreachable: placed on the snapshot cached ") && offline.stdout.contains(" ago; nothing placed elsewhere is evicted"), "\(offline.stdout)")
    #expect(!(offline.stdout + offline.stderr).contains("pw-do-not-print"))
    #expect(Stat(fixture.directory.path + "/root-gpu-a/models/beta/1/raw/weights.bin") != nil)

    // Back up: the next plan reports what the node holds now.
    try server.start()
    let plan = try Self.run(fixture, ["plan"], node: "gpu-a", registry: registry)
    #expect(plan.status == 0 && plan.stdout.contains("No changes."), "\(plan.stdout)\(plan.stderr)")
    listed = try Self.nodes(registry, in: fixture)
    #expect(Self.holdings(listed[0]) == ["alpha@1:fp16", "beta@1:raw"], "\(listed)")

    let removed = try Binary.run(["nodes", "remove", "gpu-b"], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    #expect(removed.status == 0 && removed.stdout.contains("Removed node gpu-b"), "\(removed.stdout)\(removed.stderr)")
    #expect(try Self.nodes(registry, in: fixture).count == 1)
    let again = try Binary.run(["nodes", "remove", "gpu-b"], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    #expect(again.status == 1 && again.stderr.contains("error: node 'gpu-b' is not registered in"), "\(again.stderr)")
  }

  /// Which live nodes hold each variant verified, from `reconcile nodes --json`.
  static func copies(_ registry: String, in fixture: ApplyFixture) throws -> [String: Set<String>] {
    var copies: [String: Set<String>] = [:]
    for node in try nodes(registry, in: fixture) {
      guard let name = ((node["node"] as? [String: Any])?["heartbeat"] as? [String: Any])?["node"] as? String, node["state"] as? String != "not-ready" else { continue }
      for variant in holdings(node) { copies[variant, default: []].insert(name) }
    }
    return copies
  }

  @Test func aDrainKeepsEveryVariantOnALiveNodeThroughout() throws {
    let server = try PostgresServer()
    defer { server.stop() }
    let registry = try server.createDatabase("drain")
    let fixture = try ApplyFixture()
    let alpha = try fixture.makeFile("alpha/weights.bin", size: 256 << 10)
    let beta = try fixture.makeFile("beta/weights.bin", size: 128 << 10)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["raw": ["weights.bin": alpha]]),
      ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["raw": ["weights.bin": beta]]),
    ])
    // Six node processes, each its own root and name, two replicas of each variant.
    let names = (1...6).map { "n\($0)" }
    func pools(draining: String?) throws {
      let nodes = names.map { "{ name: \($0), disk: 1TiB\($0 == draining ? ", draining: true" : "") }" }
      try fixture.directory.write("desired/pools.yaml", "pools:\n  - { name: p, replicas: 2, placement: spread, nodes: [\(nodes.joined(separator: ", "))] }\n")
    }
    try pools(draining: nil)
    let variants = ["alpha@1:raw", "beta@1:raw"]
    func catalog(_ arguments: [String] = []) throws -> Binary.Result {
      try Binary.run(["catalog", "--desired", fixture.desired] + arguments, environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    }
    let migrated = try Binary.run(["registry", "migrate"], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    #expect(migrated.status == 0, "\(migrated.stderr)")
    let empty = try catalog()
    #expect(empty.status == 2 && empty.stdout.contains("2 under-replicated"), "nothing holds anything yet: \(empty.stdout)\(empty.stderr)")
    for _ in 0..<2 {
      for node in names {
        let applied = try Self.run(fixture, ["apply", "--auto-approve"], node: node, registry: registry)
        #expect(applied.status == 0, "\(node): \(applied.stdout)\(applied.stderr)")
      }
    }
    let settled = try Self.copies(registry, in: fixture)
    #expect(variants.allSatisfy { settled[$0]?.count == 2 }, "two replicas each: \(settled)")
    let drained = try #require(settled["alpha@1:raw"]?.sorted().first)
    let healthy = try catalog(["--json"])
    #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
    #expect(healthy.stdout.contains("\"status\" : \"ok\"") && !healthy.stdout.contains("under-replicated"), "\(healthy.stdout)")
    let picked = try catalog(["alpha", "--pick", "least-loaded"])
    #expect(picked.status == 0 && settled["alpha@1:raw"]?.contains(picked.stdout.trimmingCharacters(in: .newlines)) == true, "\(picked.stdout)\(picked.stderr)")

    // A node holding alpha drains: it keeps alpha until another node verified it, and at every
    // moment between runs each variant keeps at least its two verified copies on live nodes.
    try pools(draining: drained)
    // A reviewer's view before anything moves: the drained node drops alpha once its new node verified it.
    let review = try Binary.run(["plan", "--fleet", "--detailed-exitcode", "--desired", fixture.desired], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    #expect(review.status == 2, "\(review.stdout)\(review.stderr)")
    #expect(review.stdout.contains("\(drained) (pool p, draining): 0 variants\n    - alpha@1:raw  (after n"), "\(review.stdout)")
    for round in 0..<3 {
      // The drained node runs first in the first round, before any new holder could have verified.
      for node in round == 0 ? [drained] + names.filter({ $0 != drained }) : names {
        let applied = try Self.run(fixture, ["apply", "--auto-approve"], node: node, registry: registry)
        #expect(applied.status == 0, "round \(round) \(node): \(applied.stdout)\(applied.stderr)")
        if node == drained, round == 0 {
          #expect(applied.stdout.contains("kept: alpha@1:raw (waiting for ") && applied.stdout.contains("to verify it)"), "the drain waits: \(applied.stdout)")
        }
        let copies = try Self.copies(registry, in: fixture)
        for variant in variants {
          #expect((copies[variant]?.count ?? 0) >= 2, "round \(round) after \(node): \(variant) has fewer than 2 verified copies: \(copies)")
        }
      }
    }
    let final = try Self.copies(registry, in: fixture)
    #expect(!(final["alpha@1:raw"] ?? []).contains(drained) && final["alpha@1:raw"]?.count == 2, "\(final)")
    #expect(Stat(fixture.directory.path + "/root-\(drained)/models/alpha/1/raw/weights.bin") == nil, "the drained node evicted alpha")

    // The drained node leaves pools.yaml: it is leaving, holds nothing, and deregisters.
    let remaining = names.filter { $0 != drained }.map { "{ name: \($0), disk: 1TiB }" }
    try fixture.directory.write("desired/pools.yaml", "pools:\n  - { name: p, replicas: 2, placement: spread, nodes: [\(remaining.joined(separator: ", "))] }\n")
    let plan = try Self.run(fixture, ["plan"], node: drained, registry: registry)
    #expect(plan.status == 0 && plan.stdout.contains("node \(drained) is leaving the fleet (no pool declares it)"), "\(plan.stdout)\(plan.stderr)")
    let left = try Self.run(fixture, ["apply", "--auto-approve"], node: drained, registry: registry)
    #expect(left.status == 0, "\(left.stdout)\(left.stderr)")
    let registered = try Self.nodes(registry, in: fixture).compactMap { (($0["node"] as? [String: Any])?["heartbeat"] as? [String: Any])?["node"] as? String }
    #expect(!registered.contains(drained) && registered.count == 5, "\(registered)")
    // Known to neither the desired state nor the registry now: today's clear error.
    let unknown = try Self.run(fixture, ["plan"], node: drained, registry: registry)
    #expect(unknown.status == 1 && unknown.stderr.contains("error: node '\(drained)' is not in any pool"), "\(unknown.stderr)")
  }

  /// Live holders of each variant as `catalog --json` counts them (with the policy's node_ttl).
  static func catalogHolders(_ registry: String, in fixture: ApplyFixture) throws -> [String: Set<String>] {
    let result = try Binary.run(["catalog", "--json", "--desired", fixture.desired], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
    var holders: [String: Set<String>] = [:]
    for entry in document["variants"] as? [[String: Any]] ?? [] {
      if let variant = entry["variant"] as? String { holders[variant] = Set(entry["holders"] as? [String] ?? []) }
    }
    return holders
  }

  @Test func aSilentNodesReplicasGoElsewhereAndComeBackWithoutRefetching() throws {
    let server = try PostgresServer()
    defer { server.stop() }
    let registry = try server.createDatabase("ttl")
    let fixture = try ApplyFixture()
    let alpha = try fixture.makeFile("alpha/weights.bin", size: 256 << 10)
    let beta = try fixture.makeFile("beta/weights.bin", size: 128 << 10)
    try fixture.writeDesired(
      [
        ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["raw": ["weights.bin": alpha]]),
        ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["raw": ["weights.bin": beta]]),
      ], policy: ApplyFixture.fastPolicy + "\n  fleet: { node_ttl: 6s }")
    try fixture.directory.write(
      "desired/pools.yaml", "pools:\n  - { name: p, replicas: 1, placement: spread, nodes: [{ name: n1, disk: 1TiB }, { name: n2, disk: 1TiB }, { name: n3, disk: 1TiB }] }\n")
    let all = ["n1", "n2", "n3"]
    func round(_ nodes: [String]) throws -> [String: String] {
      var outputs: [String: String] = [:]
      for node in nodes {
        let applied = try Self.run(fixture, ["apply", "--auto-approve"], node: node, registry: registry)
        #expect(applied.status == 0, "\(node): \(applied.stdout)\(applied.stderr)")
        outputs[node] = applied.stdout + applied.stderr
      }
      return outputs
    }
    // Bytes moved: every download any node made, by the files' sizes.
    func bytesMoved(_ rounds: [[String: String]]) -> Int {
      rounds.flatMap(\.values).reduce(0) { total, output in
        total + output.components(separatedBy: "download alpha@1:raw file weights.bin: done").count * alpha.size - alpha.size
          + output.components(separatedBy: "download beta@1:raw file weights.bin: done").count * beta.size - beta.size
      }
    }
    _ = try round(all)
    _ = try round(all)
    let before = try Self.copies(registry, in: fixture)
    let silent = try #require(before["alpha@1:raw"]?.first)
    let others = all.filter { $0 != silent }
    let silentHeld = (before["alpha@1:raw"]?.contains(silent) == true ? alpha.size : 0) + (before["beta@1:raw"]?.contains(silent) == true ? beta.size : 0)

    // The silent node misses its runs past the TTL: the others place its replicas among themselves.
    Thread.sleep(forTimeInterval: 7)
    let away = [try round(others), try round(others)]
    #expect(bytesMoved(away) == silentHeld, "exactly what the silent node held moves: \(bytesMoved(away)) bytes, it held \(silentHeld)")
    let moved = try Self.catalogHolders(registry, in: fixture)
    #expect(moved["alpha@1:raw"]?.count == 1 && moved["alpha@1:raw"]?.contains(silent) == false, "alpha lives on a live node: \(moved)")
    let catalog = try Binary.run(["catalog", "--desired", fixture.desired], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url)
    #expect(catalog.status == 0, "no variant under-replicated: \(catalog.stdout)\(catalog.stderr)")

    // It returns: it still holds alpha verified, fetches nothing, and the fleet settles on one copy.
    let back = try round([silent] + others)
    #expect(!(back[silent] ?? "").contains("download "), "the returning node refetches nothing: \(back[silent] ?? "")")
    let settling = try round(all)
    #expect(bytesMoved([back, settling]) == 0, "settling again moves no bytes")
    let settled = try Self.catalogHolders(registry, in: fixture)
    #expect(settled["alpha@1:raw"]?.count == 1 && settled["beta@1:raw"]?.count == 1, "one copy each again: \(settled)")
  }

  @Test func twoNodesApplyAtOnceAndTheDatabaseStopsMidRun() throws {
    let server = try PostgresServer()
    defer { server.stop() }
    let registry = try server.createDatabase("midrun")
    let fixture = try ApplyFixture()
    let alpha = try fixture.makeFile("alpha/weights.bin", size: 3 << 20)
    let beta = try fixture.makeFile("beta/weights.bin", size: 64 << 10)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["raw": ["weights.bin": alpha]]),
      ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["raw": ["weights.bin": beta]]),
    ])
    // 1 MiB/s: alpha takes about three seconds, long enough to stop the database under it.
    try fixture.directory.write("desired/tenants.yaml", "tenants:\n  - { name: t, quota: { bandwidth: 1MiB/s }, models: [alpha@1, beta@1] }\n")
    let environment = ["RECONCILE_REGISTRY": registry]
    #expect(try Binary.run(["registry", "migrate"], environment: environment, in: fixture.directory.url).status == 0)
    let runs = try ["gpu-a", "gpu-b"].map { node in
      try ReconcileProcess(
        ["apply", "--auto-approve", "--desired", fixture.desired, "--root", fixture.directory.path + "/root-\(node)", "--node", node],
        in: fixture.directory.url, environment: environment)
    }
    Thread.sleep(forTimeInterval: 1.2)
    try server.halt()
    for (node, run) in zip(["gpu-a", "gpu-b"], runs) {
      let result = try run.wait(timeout: 60)
      #expect(result.status == 0, "\(node) converges without its registry: \(result.stdout)\(result.stderr)")
      #expect(result.stderr.contains("warning: cannot report"), "\(node) says what it could not report: \(result.stderr)")
      #expect(Stat(fixture.directory.path + "/root-\(node)/models/alpha/1/raw/weights.bin") != nil)
    }
    // Back up: the next run of each reports what it holds.
    try server.start()
    for node in ["gpu-a", "gpu-b"] {
      #expect(try Self.run(fixture, ["plan"], node: node, registry: registry).status == 0)
    }
    let listed = try Self.nodes(registry, in: fixture)
    #expect(listed.count == 2 && listed.allSatisfy { Self.holdings($0) == ["alpha@1:raw", "beta@1:raw"] }, "\(listed)")
  }

  @Test func heartbeatAgeIsAMetricAndAStaleHeartbeatFailsCheck() throws {
    let server = try PostgresServer()
    defer { server.stop() }
    let registry = try server.createDatabase("health")
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 4096)
    try fixture.writeDesired(
      [ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])],
      policy: ApplyFixture.fastPolicy + "\n  fleet: { node_ttl: 3s }")
    #expect(try Binary.run(["registry", "migrate"], environment: ["RECONCILE_REGISTRY": registry], in: fixture.directory.url).status == 0)

    let metrics = fixture.directory.path + "/fleet.prom"
    let applied = try Self.run(fixture, ["apply", "--auto-approve", "--metrics-file", metrics], node: "gpu-a", registry: registry)
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    let samples = OperationsTests.samples(try String(contentsOfFile: metrics, encoding: .utf8))
    let age = try #require(samples["reconcile_fleet_heartbeat_age_seconds"], "\(samples)")
    #expect(age >= 0 && age < 3)
    let healthy = try Self.run(fixture, ["check"], node: "gpu-a", registry: registry)
    #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")

    Thread.sleep(forTimeInterval: 3.5)
    let stale = try Self.run(fixture, ["check"], node: "gpu-a", registry: registry)
    #expect(stale.status == 1)
    #expect(stale.stdout.contains("unhealthy: the fleet heartbeat is 3 s old, more than 3 s") || stale.stdout.contains("unhealthy: the fleet heartbeat is 4 s old, more than 3 s"), "\(stale.stdout)")
  }

  @Test func nodesWithoutARegistrySaysHowToConfigureOne() throws {
    let fixture = try ApplyFixture()
    let result = try Binary.run(["nodes"], in: fixture.directory.url)
    #expect(result.status == 1)
    #expect(result.stderr == "error: no fleet registry is configured; set registry = \"postgresql://…\" in the node config, or RECONCILE_REGISTRY\n", "\(result.stderr)")
  }
}
