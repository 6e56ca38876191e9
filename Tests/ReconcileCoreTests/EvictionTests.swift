import Foundation
import Testing

@testable import ReconcileCore

/// Which unwanted variants leave a node and why: pins, `gc_grace`, and least-recently-used
/// order under disk pressure, on plain values.
@Suite struct EvictionTests {
  static let now = PlanFixture.now
  static let hour = PlanFixture.hour

  /// Pool `p` with one node `gpu-1` of 1000 B (900 B usable with min_free 10%) that should hold
  /// `w@1.0:fp16`, 500 B of content 20, plus `extra` models.
  static func desired(_ extra: [Model] = [], policy: Policy = Policy()) -> DesiredState {
    DesiredState(
      models: [PlanFixture.model("w", [Variant(name: "fp16", files: [PlanFixture.file("w.bin", 20, 500)])])] + extra,
      pools: [Pool(name: "p", nodes: [PlanFixture.node("gpu-1", disk: 1000)])], policy: policy)
  }

  /// An unwanted variant on disk: one file of content `number`, unwanted for `hours`, last used
  /// `used` hours ago (never when nil).
  struct Held {
    var id: VariantID
    var number: Int
    var size: Int64
    var unwantedHours: Double
    var usedHoursAgo: Double?
  }

  static func disk(_ held: [Held]) -> ObservedState {
    DiskBuilder.build { disk in
      for variant in held {
        disk.blob(variant.number, size: variant.size)
        disk.link(variant.id, "f.bin", to: variant.number)
        disk.observed.unwantedSince[variant.id] = now.addingTimeInterval(-variant.unwantedHours * hour)
        if let used = variant.usedHoursAgo { disk.observed.lastUse[variant.id] = now.addingTimeInterval(-used * hour) }
      }
    }
  }

  static let a = PlanFixture.id("a", "fp16")
  static let b = PlanFixture.id("b", "fp16")
  static let c = PlanFixture.id("c", "fp16")

  // MARK: Pins

  @Test func pinnedModelSurvivesPressureEvenWhenLeastRecentlyUsed() throws {
    // a is pinned and the least recently used; 500 + 300 + 350 > 900, so b (not a) must go.
    let pinned = PlanFixture.model("a", [Variant(name: "fp16", files: [PlanFixture.file("f.bin", 21, 300)])], pin: true)
    var desired = Self.desired([pinned])
    desired.tenants = [Tenant(name: "t", models: [PlanFixture.ref("w")])]
    desired.pools[0].serves = ["t"]
    let observed = Self.disk([
      Held(id: Self.a, number: 21, size: 300, unwantedHours: 100, usedHoursAgo: 500),
      Held(id: Self.b, number: 22, size: 350, unwantedHours: 1, usedHoursAgo: 1),
    ])
    let plan = try Planner.plan(desired, observed, on: "gpu-1", at: Self.now)
    #expect(plan.changes(.evict).map(ChangeLine.init) == [ChangeLine(.evict, "b@1.0:fp16", .diskPressure(since: Self.now.addingTimeInterval(-Self.hour)), 350)])
    #expect(plan.kept.map { KeptLine(variant: $0.variant, reason: $0.reason) } == [KeptLine(variant: Self.a, reason: .pinned)])
    #expect(plan.disk.usedAfter == 800)
  }

  @Test func tenantPinnedReferenceSurvivesPressureOnANodeItIsNotPlacedOn() throws {
    // Two nodes, one replica: the pinned variant lives on one node; on the other it is unwanted
    // but pinned, and pressure there evicts the unpinned one instead.
    let model = PlanFixture.model("a", [Variant(name: "fp16", files: [PlanFixture.file("f.bin", 21, 300)])])
    let desired = DesiredState(
      models: [model],
      tenants: [Tenant(name: "t", models: [PlanFixture.ref("a", pin: true)])],
      pools: [Pool(name: "p", serves: ["t"], replicas: 1, nodes: [PlanFixture.node("gpu-1", disk: 700), PlanFixture.node("gpu-2", disk: 700)])])
    let elsewhere = try #require(try ["gpu-1", "gpu-2"].first { !(try NodeTarget.resolve(desired, node: $0).variants.contains(Self.a)) })
    // 300 pinned + 350 unwanted > 630 usable: b goes, a stays.
    let observed = Self.disk([
      Held(id: Self.a, number: 21, size: 300, unwantedHours: 1, usedHoursAgo: 50),
      Held(id: Self.b, number: 22, size: 350, unwantedHours: 1, usedHoursAgo: 1),
    ])
    let plan = try Planner.plan(desired, observed, on: elsewhere, at: Self.now)
    #expect(plan.changes.map(ChangeLine.init) == [ChangeLine(.evict, "b@1.0:fp16", .diskPressure(since: Self.now.addingTimeInterval(-Self.hour)), 350)])
    #expect(plan.kept.map(\.reason) == [.pinned])
  }

  @Test func pinnedModelIsNeverEvictedPastGrace() throws {
    let pinned = PlanFixture.model("a", [Variant(name: "fp16", files: [PlanFixture.file("f.bin", 21, 100)])], pin: true)
    var desired = Self.desired([pinned])
    desired.tenants = [Tenant(name: "t", models: [PlanFixture.ref("w")])]
    desired.pools[0].serves = ["t"]
    let plan = try Planner.plan(desired, Self.disk([Held(id: Self.a, number: 21, size: 100, unwantedHours: 24 * 365, usedHoursAgo: nil)]), on: "gpu-1", at: Self.now)
    #expect(plan.changes(.evict).isEmpty)
    #expect(plan.kept.map(\.reason) == [.pinned])
  }

  // MARK: Least recently used first

  /// Two unwanted variants of which only one has to go, with last uses in either order.
  struct Order: Sendable, CustomTestStringConvertible {
    var aUsed: Double?
    var bUsed: Double?
    var evicted: String
    var testDescription: String { "a used \(aUsed.map { "\($0) h ago" } ?? "never"), b \(bUsed.map { "\($0) h ago" } ?? "never") → \(evicted) goes" }
  }

  @Test(arguments: [
    Order(aUsed: 10, bUsed: 2, evicted: "a"),
    Order(aUsed: 2, bUsed: 10, evicted: "b"),
    Order(aUsed: 2, bUsed: nil, evicted: "b"),
    Order(aUsed: nil, bUsed: 0.5, evicted: "a"),
  ])
  func pressureEvictsTheLeastRecentlyUsedFirst(_ order: Order) throws {
    // 500 wanted + 300 + 300 = 1100 > 900; evicting one leaves 800.
    let observed = Self.disk([
      Held(id: Self.a, number: 21, size: 300, unwantedHours: 2, usedHoursAgo: order.aUsed),
      Held(id: Self.b, number: 22, size: 300, unwantedHours: 3, usedHoursAgo: order.bUsed),
    ])
    let plan = try Planner.plan(Self.desired(), observed, on: "gpu-1", at: Self.now)
    let gone = order.evicted == "a" ? Self.a : Self.b
    let stays = order.evicted == "a" ? Self.b : Self.a
    let since = Self.now.addingTimeInterval(-(order.evicted == "a" ? 2 : 3) * Self.hour)
    #expect(plan.changes(.evict).map(ChangeLine.init) == [ChangeLine(.evict, "\(gone)", .diskPressure(since: since), 300)])
    #expect(plan.kept.map(\.variant) == [stays])
    let line = try #require(plan.changes(.evict).first)
    #expect(line.reason.kind == "disk-pressure")
    #expect(PlanRenderer.human(plan).contains("disk pressure; unwanted since"), "\(PlanRenderer.human(plan))")
  }

  @Test func pressureEvictsOnlyAsManyAsNeededOldestUseFirst() throws {
    // 500 + 3 × 250 = 1250 > 900; without a 1000 still is; without a and c, 750 fits, so b stays.
    let observed = Self.disk([
      Held(id: Self.a, number: 21, size: 250, unwantedHours: 1, usedHoursAgo: 3),
      Held(id: Self.b, number: 22, size: 250, unwantedHours: 1, usedHoursAgo: 1),
      Held(id: Self.c, number: 23, size: 250, unwantedHours: 1, usedHoursAgo: 2),
    ])
    let plan = try Planner.plan(Self.desired(), observed, on: "gpu-1", at: Self.now)
    #expect(Set(plan.changes(.evict).map(\.subject.variant)) == [Self.a, Self.c])
    #expect(plan.changes(.evict).allSatisfy { $0.reason.kind == "disk-pressure" })
    #expect(plan.kept.map(\.variant) == [Self.b])
    #expect(plan.disk.usedAfter == 750)
  }

  @Test func noPressureKeepsEverythingInGrace() throws {
    let observed = Self.disk([Held(id: Self.a, number: 21, size: 100, unwantedHours: 1, usedHoursAgo: 1000)])
    let plan = try Planner.plan(Self.desired(), observed, on: "gpu-1", at: Self.now)
    #expect(plan.changes(.evict).isEmpty)
    #expect(plan.kept.map(\.reason) == [.inGracePeriod(since: Self.now.addingTimeInterval(-Self.hour))])
  }

  // MARK: Grace

  /// Hours a variant has been unwanted, `gc_grace` in hours, and whether it goes.
  struct Grace: Sendable, CustomTestStringConvertible {
    var unwanted: Double
    var grace: Int64
    var evicted: Bool
    var testDescription: String { "unwanted \(unwanted) h, gc_grace \(grace) h → \(evicted ? "evicted" : "kept")" }
  }

  @Test(arguments: [
    Grace(unwanted: 0, grace: 24, evicted: false),
    Grace(unwanted: 23.9, grace: 24, evicted: false),
    Grace(unwanted: 24, grace: 24, evicted: true),
    Grace(unwanted: 72, grace: 24, evicted: true),
    Grace(unwanted: 1.5, grace: 2, evicted: false),
    Grace(unwanted: 2.5, grace: 2, evicted: true),
    Grace(unwanted: 0, grace: 0, evicted: true),
  ])
  func graceIsHonouredWithoutPressure(_ row: Grace) throws {
    let desired = Self.desired(policy: Policy(gcGrace: row.grace * 3600))
    let observed = Self.disk([Held(id: Self.a, number: 21, size: 100, unwantedHours: row.unwanted, usedHoursAgo: 500)])
    let plan = try Planner.plan(desired, observed, on: "gpu-1", at: Self.now)
    let since = Self.now.addingTimeInterval(-row.unwanted * Self.hour)
    if row.evicted {
      #expect(plan.changes(.evict).map(ChangeLine.init) == [ChangeLine(.evict, "a@1.0:fp16", .notDesired(since: since), 100)])
      #expect(plan.kept.isEmpty)
    } else {
      #expect(plan.changes(.evict).isEmpty)
      #expect(plan.kept.map(\.reason) == [.inGracePeriod(since: since)])
      #expect(plan.kept.first?.evictableAfter == since.addingTimeInterval(Double(row.grace) * Self.hour))
    }
  }

  @Test func variantFirstSeenUnwantedNowStartsItsGrace() throws {
    var observed = Self.disk([Held(id: Self.a, number: 21, size: 100, unwantedHours: 0, usedHoursAgo: nil)])
    observed.unwantedSince = [:]
    let plan = try Planner.plan(Self.desired(), observed, on: "gpu-1", at: Self.now)
    #expect(plan.kept.map(\.reason) == [.inGracePeriod(since: Self.now)])
  }

  @Test func pastGraceGoesWhateverItsLastUse() throws {
    // Grace is about how long nobody wanted it; a recent use does not extend it.
    let observed = Self.disk([Held(id: Self.a, number: 21, size: 100, unwantedHours: 30, usedHoursAgo: 0.1)])
    let plan = try Planner.plan(Self.desired(), observed, on: "gpu-1", at: Self.now)
    #expect(plan.changes(.evict).map(\.reason.kind) == ["not-desired"])
  }
}
