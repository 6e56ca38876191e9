import Foundation
import Testing
@testable import ReconcileCore

/// Tenant quotas: tier defaults, overrides field by field, how shared bytes are charged, and the
/// planner's errors with their exact numbers.
@Suite struct QuotaTests {
  typealias F = PlanFixture
  static let tib: Int64 = 1 << 40
  static let pro = Quota(disk: tib, models: 10, concurrentDownloads: 2, bandwidth: 1 << 30)
  static let policy = Policy(tiers: ["pro": pro, "basic": Quota(disk: 500 << 30, models: 1)])

  /// wan@1:fp8 (2 TB + a 1000 B config shared with llama) requires umt5@1:bf16 (539 GB);
  /// llama@1:bf16 is 16 GB plus the shared config.
  static let models = [
    F.model("wan", [Variant(name: "fp8", files: [F.file("big.bin", 1, 2_000_000_000_000), F.file("config.json", 9, 1000)])], requires: [F.ref("umt5", "1.0", "bf16")]),
    F.model("umt5", [Variant(name: "bf16", files: [F.file("enc.bin", 2, 539_000_000_000)])]),
    F.model("llama", [Variant(name: "bf16", files: [F.file("l.bin", 3, 16_000_000_000), F.file("config.json", 9, 1000)])]),
  ]

  static func desired(_ tenants: [Tenant], pools: [Pool] = []) -> DesiredState {
    DesiredState(models: models, tenants: tenants, pools: pools, policy: policy)
  }

  static let research = Tenant(name: "research", tier: "pro", quota: Quota(disk: 2 * tib, models: 20), models: [F.ref("wan", "1.0", "fp8")])
  static let serving = Tenant(name: "serving", models: [F.ref("llama")])

  struct QuotaCase: Sendable, CustomTestStringConvertible {
    var name: String
    var tenant: Tenant
    var field: QuotaField
    var value: Int64?
    var origin: String?
    var testDescription: String { name }
  }

  @Test(arguments: [
    QuotaCase(name: "the tier's default applies", tenant: Tenant(name: "t", tier: "pro"), field: .disk, value: tib, origin: "tier pro"),
    QuotaCase(name: "quota: overrides the tier's field", tenant: Tenant(name: "t", tier: "pro", quota: Quota(disk: 2 * tib)), field: .disk, value: 2 * tib, origin: "tier pro, overridden by its quota:"),
    QuotaCase(name: "other fields keep the tier's", tenant: Tenant(name: "t", tier: "pro", quota: Quota(disk: 2 * tib)), field: .models, value: 10, origin: "tier pro"),
    QuotaCase(name: "quota: sets what the tier leaves open", tenant: Tenant(name: "t", tier: "basic", quota: Quota(bandwidth: 20 << 20)), field: .bandwidth, value: 20 << 20, origin: "its quota:"),
    QuotaCase(name: "a tenant without tier has its own quota", tenant: Tenant(name: "t", quota: Quota(concurrentDownloads: 3)), field: .concurrentDownloads, value: 3, origin: "its quota:"),
    QuotaCase(name: "neither sets it: unlimited", tenant: Tenant(name: "t", tier: "basic"), field: .bandwidth, value: nil, origin: nil),
    QuotaCase(name: "no tier, no quota: unlimited", tenant: Tenant(name: "t"), field: .disk, value: nil, origin: nil),
  ])
  func effectiveQuota(_ row: QuotaCase) {
    let quota = EffectiveQuota(row.tenant, policy: Self.policy)
    #expect(quota[row.field]?.value == row.value)
    #expect(quota.origin(of: row.field) == row.origin)
  }

  @Test func anOverrideRemembersTheTierValueItReplaces() {
    let quota = EffectiveQuota(Self.research, policy: Self.policy)
    #expect(quota.disk == QuotaLimit(value: 2 * Self.tib, source: .quota, overrides: Self.tib))
    #expect(quota.concurrentDownloads == QuotaLimit(value: 2, source: .tier))
  }

  @Test func eachTenantIsChargedTheFullSizeOfSharedFiles() throws {
    let usage = TenantUsage.compute(Self.desired([Self.serving, Self.research]))
    #expect(usage.map(\.tenant) == ["research", "serving"])
    // The 1000-byte config is stored once on a node but charged to both tenants.
    #expect(usage[0].bytes == 2_000_000_000_000 + 1000 + 539_000_000_000)
    #expect(usage[1].bytes == 16_000_000_000 + 1000)
  }

  @Test func aFileSharedByTwoVariantsOfOneTenantIsChargedOnce() {
    let both = Tenant(name: "both", models: [F.ref("wan", "1.0", "fp8"), F.ref("llama")])
    let usage = TenantUsage.of(both, in: Self.desired([both]))
    #expect(usage.bytes == 2_000_000_000_000 + 539_000_000_000 + 16_000_000_000 + 1000)
    #expect(usage.models == 3)
  }

  @Test func requiredModelsAreChargedAndCounted() {
    let usage = TenantUsage.of(Self.research, in: Self.desired([Self.research]))
    #expect(usage.referenced == [F.id("wan", "fp8")])
    #expect(usage.variants == [F.id("umt5", "bf16"), F.id("wan", "fp8")])
    #expect(usage.models == 2)
  }

  @Test func aTenantOverItsDiskQuotaFailsThePlanWithExactNumbers() {
    let tight = Tenant(name: "research", tier: "pro", quota: Quota(disk: 2 * Self.tib), models: [F.ref("wan", "1.0", "fp8")])
    let expected = PlanError.quotaExceeded(tenant: "research", what: .disk, needed: 2_539_000_001_000, limit: 2_199_023_255_552, origin: "tier pro, overridden by its quota:")
    #expect(throws: expected) { try Planner.plan(Self.desired([tight, Self.serving]), ObservedState(), on: "solo", at: F.now) }
    #expect(expected.description == "tenant 'research' needs 2.31 TiB (2539000001000 bytes) for its models but its disk quota is 2.00 TiB (2199023255552 bytes; tier pro, overridden by its quota:); raise the quota or drop models")
  }

  @Test func aTenantOverItsModelQuotaFailsThePlan() {
    let tight = Tenant(name: "research", tier: "basic", quota: Quota(disk: 4 * Self.tib), models: [F.ref("wan", "1.0", "fp8")])
    let expected = PlanError.quotaExceeded(tenant: "research", what: .models, needed: 2, limit: 1, origin: "tier basic")
    #expect(throws: expected) { try Planner.plan(Self.desired([tight]), ObservedState(), on: "solo", at: F.now) }
    #expect(expected.description == "tenant 'research' needs 2 model variants (with what they require) but its model quota is 1 (tier basic); raise the quota or drop models")
  }

  @Test func usageExactlyAtTheLimitFits() throws {
    let exact = Tenant(name: "research", quota: Quota(disk: 2_539_000_001_000, models: 2), models: [F.ref("wan", "1.0", "fp8")])
    let plan = try Planner.plan(Self.desired([exact]), ObservedState(), on: "solo", at: F.now)
    #expect(plan.changes(.download).count == 3)
  }

  @Test func onlyTenantsTheNodesPoolServesAreChecked() throws {
    let tight = Tenant(name: "research", quota: Quota(disk: Self.tib), models: [F.ref("wan", "1.0", "fp8")])
    let pools = [
      Pool(name: "a", serves: ["research"], nodes: [F.node("gpu-a", disk: 100 * Self.tib)]),
      Pool(name: "b", serves: ["serving"], nodes: [F.node("gpu-b", disk: 100 * Self.tib)]),
    ]
    let desired = Self.desired([tight, Self.serving], pools: pools)
    #expect(try Planner.plan(desired, ObservedState(), on: "gpu-b", at: F.now).changes(.download).count == 2)
    #expect(throws: PlanError.quotaExceeded(tenant: "research", what: .disk, needed: 2_539_000_001_000, limit: Self.tib, origin: "its quota:")) {
      try Planner.plan(desired, ObservedState(), on: "gpu-a", at: F.now)
    }
  }

  @Test func everyNodeServingTheTenantReportsTheSameError() {
    let tight = Tenant(name: "research", quota: Quota(models: 1), models: [F.ref("wan", "1.0", "fp8")])
    let pool = Pool(name: "a", serves: ["research"], replicas: 1, nodes: [F.node("gpu-1"), F.node("gpu-2"), F.node("gpu-3", draining: true)])
    let desired = Self.desired([tight], pools: [pool])
    let messages = ["gpu-1", "gpu-2", "gpu-3"].map { node in
      Result { () throws(PlanError) in try Planner.plan(desired, ObservedState(), on: node, at: F.now) }.failureDescription
    }
    #expect(Set(messages) == ["tenant 'research' needs 2 model variants (with what they require) but its model quota is 1 (its quota:); raise the quota or drop models"])
  }

  @Test func statusJSONCarriesUsageAndLimits() throws {
    let usage = TenantUsage.compute(Self.desired([Self.research]))
    let json = try StatusRenderer.json([], node: "solo", tenants: usage)
    let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let tenant = try #require((document["tenants"] as? [[String: Any]])?.first)
    #expect(tenant["tenant"] as? String == "research")
    #expect(tenant["bytes"] as? Int64 == 2_539_000_001_000)
    #expect(tenant["models"] as? Int == 2)
    let disk = try #require((tenant["quota"] as? [String: Any])?["disk"] as? [String: Any])
    #expect(disk["value"] as? Int64 == 2 * Self.tib)
    #expect(disk["source"] as? String == "quota")
    #expect(disk["overrides"] as? Int64 == Self.tib)
  }
}

extension Result where Failure == PlanError {
  /// The error's message, or `ok` when the plan was made.
  var failureDescription: String {
    switch self {
    case .success: "ok"
    case .failure(let error): error.description
    }
  }
}

/// Every tenant over its quota is named in one plan error.
@Suite struct SeveralQuotaTests {
  @Test func everyTenantOverItsQuotaIsReported() {
    let overDisk = Tenant(name: "a", quota: Quota(disk: 1 << 30), models: [PlanFixture.ref("llama")])
    let overModels = Tenant(name: "b", quota: Quota(models: 1), models: [PlanFixture.ref("wan", "1.0", "fp8")])
    let desired = QuotaTests.desired([overDisk, overModels])
    do {
      _ = try Planner.plan(desired, ObservedState(), on: "n", at: Date(timeIntervalSince1970: 0))
      Issue.record("the plan should fail")
    } catch {
      let lines = error.description.split(separator: "\n").map(String.init)
      #expect(lines.first == "2 problems:")
      #expect(lines.count == 3)
      #expect(lines[1].hasPrefix("  tenant 'a' needs 14.90 GiB"), "\(error.description)")
      #expect(lines[2].hasPrefix("  tenant 'b' needs 2 model variants"), "\(error.description)")
    }
  }
}
