import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// The simulated apply of the convergence tests must not drift from the real one: for a handful
/// of generated fleets, one node's plan runs through the real applier on a temporary root with
/// `file://` sources, the root is scanned, and both the scan and the simulation must hold the
/// same views, blobs and tenant views; planning again gives no changes. A second round drops a
/// model and a tenant after their grace, so evictions and unlinks run for real too.
@Suite(.serialized) struct RealApplyConvergenceTests {
  /// A generated desired state made real: every digest is the SHA-256 of bytes written to a
  /// mirror, and every model's only source is its folder there.
  struct RealFleet {
    var desired: DesiredState
    var directory: URL
  }

  static func realFleet(_ desired: DesiredState, seed: UInt64) throws -> RealFleet {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-real-apply-\(seed)-\(UUID().uuidString)")
    let mirror = directory.appendingPathComponent("mirror")
    var real: [Digest: (Digest, Data)] = [:]
    var desired = desired
    for model in desired.models.indices {
      let folder = mirror.appendingPathComponent("\(desired.models[model].name)-\(desired.models[model].version)")
      desired.models[model].sources = [SourceURL(scheme: .file, url: "file://\(folder.path)/")]
      // One content per path in a source folder: a path two variants fill differently is
      // renamed in all but the first.
      var contents: [String: Digest] = [:]
      for variant in desired.models[model].variants.indices {
        for file in desired.models[model].variants[variant].files.indices {
          var spec = desired.models[model].variants[variant].files[file]
          if let other = contents[spec.path], other != spec.sha256 {
            spec.path = "\(desired.models[model].variants[variant].name)-\(spec.path)"
            desired.models[model].variants[variant].files[file].path = spec.path
          }
          contents[spec.path] = spec.sha256
          if real[spec.sha256] == nil {
            var generator = SeededGenerator(seed: UInt64(spec.size) &* 31 &+ (UInt64(spec.sha256.hex.suffix(8), radix: 16) ?? 0))
            let bytes = Data((0..<spec.size).map { _ in UInt8.random(in: 0...255, using: &generator) })
            real[spec.sha256] = (SHA256Hasher.digest(bytes), bytes)
          }
          guard let (digest, bytes) = real[spec.sha256] else { continue }
          desired.models[model].variants[variant].files[file].sha256 = digest
          let target = folder.appendingPathComponent(spec.path)
          try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
          try bytes.write(to: target)
        }
      }
    }
    return RealFleet(desired: desired, directory: directory)
  }

  /// Scans `root` as a session does: store, views, tenant views, with the registry's records.
  static func observe(_ root: NodeRoot, _ registry: SQLiteRegistry, _ ledger: any NodeLedger) throws -> ObservedState {
    let scanner = NodeRootScanner(root: root)
    var observed = scanner.scan(verified: try registry.verifiedDigests(), lastUse: try ledger.lastUse(), unwantedSince: try ledger.unwantedSince())
    observed.tenantViews = scanner.scanTenantViews(groups: [])
    return observed
  }

  /// Plans, simulates, applies for real, and checks the two agree and that nothing is left to do.
  static func round(_ desired: DesiredState, node: String, at now: Date, root: NodeRoot, registry: SQLiteRegistry, seed: UInt64) throws {
    let ledger = try registry.ledger(node: node)
    let before = try observe(root, registry, ledger)
    let plan = try Planner.plan(desired, before, on: node, at: now)
    let simulated = simulateApply(plan, desired, before)
    let options = ApplyOptions(concurrency: 2, retry: RetryPolicy(attempts: 1, backoff: 0, maxBackoff: 0), user: "test", command: "test", sourceBase: "/")
    let applier = Applier(root: root, cache: registry, ledger: ledger, transfers: [.file: FileTransfer()], options: options, clock: { now }, events: { _ in })
    let summary = try applier.apply(plan, observed: before)
    #expect(summary.isSuccess, "seed \(seed): \(summary.failures.map(\.cause))")
    let after = try observe(root, registry, ledger)
    func views(_ state: ObservedState) -> [String: Set<String>] {
      Dictionary(uniqueKeysWithValues: state.variants.map { ($0.key.description, Set($0.value.files.keys)) })
    }
    #expect(views(after) == views(simulated), "seed \(seed): views differ from the simulation")
    #expect(Set(after.blobs.keys) == Set(simulated.blobs.keys), "seed \(seed): blobs differ from the simulation")
    #expect(Set(after.tenantViews.files.keys) == Set(simulated.tenantViews.files.keys), "seed \(seed): tenant views differ from the simulation")
    #expect(after.blobs.values.allSatisfy { $0.verification == .verified }, "seed \(seed): every blob is recorded verified")
    let again = try Planner.plan(desired, after, on: node, at: now)
    #expect(again.changes.map(ChangeLine.init) == [], "seed \(seed) node \(node): first plan \(plan.changes.map(ChangeLine.init))")
  }

  @Test(arguments: Array(UInt64(1)...6))
  func theRealApplierConvergesLikeTheSimulation(seed: UInt64) throws {
    var generator = FleetGenerator(seed: seed)
    let fleet = try Self.realFleet(generator.fleet().desired, seed: seed)
    defer { try? FileManager.default.removeItem(at: fleet.directory) }
    let nodes = fleet.desired.pools.isEmpty ? ["solo"] : fleet.desired.pools.flatMap { $0.nodes.map(\.name) }
    guard let node = nodes.first(where: { (try? Planner.plan(fleet.desired, ObservedState(), on: $0, at: PlanFixture.now)) != nil }) else { return }
    let root = NodeRoot(fleet.directory.appendingPathComponent("root").path)
    try FileManager.default.createDirectory(atPath: root.state, withIntermediateDirectories: true)
    let registry = try SQLiteRegistry(path: root.registry)
    try Self.round(fleet.desired, node: node, at: PlanFixture.now, root: root, registry: registry, seed: seed)

    // A model and a tenant dropped, two days later: evictions and unlinks run for real.
    var smaller = fleet.desired
    if smaller.models.count > 1 { smaller.models.removeLast() }
    smaller.tenants = Array(smaller.tenants.dropLast()).map { tenant in
      var tenant = tenant
      tenant.models = tenant.models.filter { reference in smaller.models.contains { $0.id == reference.model } }
      return tenant
    }
    for index in smaller.models.indices {
      smaller.models[index].requires = smaller.models[index].requires.filter { reference in smaller.models.contains { $0.id == reference.model } }
    }
    guard (try? Planner.plan(smaller, ObservedState(), on: node, at: PlanFixture.now)) != nil else { return }
    try Self.round(smaller, node: node, at: PlanFixture.now.addingTimeInterval(49 * PlanFixture.hour), root: root, registry: registry, seed: seed)
  }
}
