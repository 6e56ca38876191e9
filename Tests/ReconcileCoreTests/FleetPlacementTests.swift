import Foundation
import Testing
@testable import ReconcileCore

/// Placement over a fleet snapshot: dead and draining nodes take nothing, VRAM fits, replicas
/// stay where they are verified, a join or leave moves about 1/N, any input order gives the
/// same result; and make-before-break keeps a moved variant until its new nodes verified it.
@Suite struct FleetPlacementTests {
  static let now = PlanFixture.now

  /// A snapshot where `live` nodes reported a minute ago, `dead` ones two hours ago, and
  /// `holdings` says who holds what verified.
  static func snapshot(live: [String], dead: [String] = [], holdings: [String: [VariantID]] = [:], draining: Set<String> = []) -> FleetSnapshot {
    let nodes = (live.map { ($0, now.addingTimeInterval(-60)) } + dead.map { ($0, now.addingTimeInterval(-7200)) }).map { name, at in
      FleetNode(
        heartbeat: NodeHeartbeat(node: name, state: draining.contains(name) ? .draining : .ready, agentVersion: "t", at: at),
        holdings: (holdings[name] ?? []).map { HeldVariant(variant: $0, bytes: 1) })
    }
    return FleetSnapshot(nodes: nodes, takenAt: now, ttl: 900)
  }

  static func names(_ count: Int) -> [String] { (1...count).map { "n\($0)" } }

  @Test(arguments: Placement.allCases)
  func deadNodesTakeNothingAndTheirReplicasGoElsewhere(_ placement: Placement) {
    let (wanted, sizes) = PlacementTests.wanted(40)
    let pool = PlacementTests.pool(5, replicas: 2, placement)
    let fleet = Self.snapshot(live: ["n1", "n2", "n4", "n5"], dead: ["n3"])
    let assignment = PlacementEngine.assign(wanted, sizes: sizes, in: pool, fleet: fleet, me: "n1")
    #expect(assignment["n3"] == nil)
    for variant in wanted { #expect(PlacementTests.holders(variant, assignment).count == 2, "\(variant)") }
    // The node planning counts as alive even when its own heartbeat is old.
    let mine = PlacementEngine.assign(wanted, sizes: sizes, in: pool, fleet: fleet, me: "n3")
    #expect(mine["n3"] != nil)
  }

  @Test(arguments: Placement.allCases)
  func aVariantGoesOnlyWhereItsVRAMFits(_ placement: Placement) {
    let big = PlanFixture.id("big", "fp16")
    let small = PlanFixture.id("small", "fp8")
    var pool = PlacementTests.pool(4, replicas: 2, placement)
    pool.nodes[0].vram = 16 << 30
    pool.nodes[1].vram = 80 << 30
    pool.nodes[2].vram = 16 << 30
    pool.nodes[3].vram = 80 << 30
    let assignment = PlacementEngine.assign([big, small], sizes: [big: 10, small: 5], vram: [big: 70 << 30, small: 8 << 30], in: pool)
    #expect(PlacementTests.holders(big, assignment) == ["n2", "n4"])
    #expect(PlacementTests.holders(small, assignment).count == 2)
    // More replicas than nodes it fits: only those.
    pool.replicas = 3
    #expect(PlacementTests.holders(big, PlacementEngine.assign([big], sizes: [big: 10], vram: [big: 70 << 30], in: pool)) == ["n2", "n4"])
  }

  @Test(arguments: Placement.allCases)
  func verifiedReplicasStayWhereTheyAre(_ placement: Placement) {
    let (wanted, sizes) = PlacementTests.wanted(30)
    let pool = PlacementTests.pool(6, replicas: 2, placement)
    let plain = PlacementEngine.assign(wanted, sizes: sizes, in: pool, fleet: Self.snapshot(live: Self.names(6)))
    // Each variant is held verified on two nodes placement would not choose by itself.
    var holdings: [String: [VariantID]] = [:]
    for variant in wanted {
      let others = Self.names(6).filter { !PlacementTests.holders(variant, plain).contains($0) }.prefix(2)
      for node in others { holdings[node, default: []].append(variant) }
    }
    let sticky = PlacementEngine.assign(wanted, sizes: sizes, in: pool, fleet: Self.snapshot(live: Self.names(6), holdings: holdings))
    for variant in wanted {
      let held = Set(holdings.filter { $0.value.contains(variant) }.keys)
      #expect(PlacementTests.holders(variant, sticky) == held, "\(variant) stays on its verified holders")
    }
  }

  @Test func joinMovesNothingAndLeaveMovesAboutOneInN() {
    let (wanted, sizes) = PlacementTests.wanted(600)
    let nodes = 10
    let pool = PlacementTests.pool(nodes, replicas: 2, .spread)
    let fleet = Self.snapshot(live: Self.names(nodes))
    let before = PlacementEngine.assign(wanted, sizes: sizes, in: pool, fleet: fleet)
    var holdings: [String: [VariantID]] = [:]
    for (node, variants) in before { holdings[node] = Array(variants) }

    // n10 stops reporting: only its replicas move, each to one new node.
    let left = PlacementEngine.assign(wanted, sizes: sizes, in: pool, fleet: Self.snapshot(live: Self.names(nodes - 1), dead: ["n10"], holdings: holdings))
    let moved = wanted.reduce(0) { $0 + PlacementTests.holders($1, left).subtracting(PlacementTests.holders($1, before)).count }
    let total = wanted.count * 2
    #expect(moved == before["n10"]?.count, "only what the leaver held moves")
    #expect(Double(moved) / Double(total) > 0.5 / Double(nodes) && Double(moved) / Double(total) < 2.0 / Double(nodes), "about 1/N: \(moved) of \(total)")

    // n11 joins: every replica stays on its verified holder.
    let bigger = PlacementTests.pool(nodes + 1, replicas: 2, .spread)
    let joined = PlacementEngine.assign(wanted, sizes: sizes, in: bigger, fleet: Self.snapshot(live: Self.names(nodes + 1), holdings: holdings))
    #expect(joined["n11"]?.isEmpty == true)
  }

  @Test(arguments: Placement.allCases)
  func theSameSnapshotInAnyOrderGivesTheSameAssignment(_ placement: Placement) {
    let (wanted, sizes) = PlacementTests.wanted(50)
    let pool = PlacementTests.pool(7, replicas: 3, placement)
    var holdings: [String: [VariantID]] = [:]
    for (index, variant) in wanted.sorted().enumerated() { holdings["n\(index % 7 + 1)", default: []].append(variant) }
    let fleet = Self.snapshot(live: Self.names(6), dead: ["n7"], holdings: holdings)
    var shuffledPool = pool
    var random = SeededGenerator(seed: 3)
    shuffledPool.nodes = random.shuffled(pool.nodes)
    let reordered = FleetSnapshot(nodes: random.shuffled(fleet.nodes), takenAt: fleet.takenAt, ttl: fleet.ttl)
    #expect(PlacementEngine.assign(wanted, sizes: sizes, in: pool, fleet: fleet) == PlacementEngine.assign(wanted, sizes: sizes, in: shuffledPool, fleet: reordered))
  }

  // MARK: Make-before-break

  /// Models m and n on a pool of three nodes, one replica each; `n1` drains.
  static let drainDesired = DesiredState(
    models: [PlanFixture.model("m", [Variant(name: "fp16", files: [PlanFixture.file("a.bin", 1, 100)])]),
      PlanFixture.model("n", [Variant(name: "fp8", files: [PlanFixture.file("b.bin", 2, 200)])])],
    pools: [Pool(name: "p", replicas: 1, nodes: [PlanFixture.node("n1", draining: true), PlanFixture.node("n2"), PlanFixture.node("n3")])])

  @Test func aDrainingNodeKeepsWhatItHoldsUntilItsNewNodeVerifiedIt() throws {
    let m = PlanFixture.id("m", "fp16")
    let n = PlanFixture.id("n", "fp8")
    let disk = DiskBuilder.build { disk in
      disk.blob(1, size: 100)
      disk.blob(2, size: 200)
      disk.link(m, "a.bin", to: 1)
      disk.link(n, "b.bin", to: 2)
    }
    // Nobody else holds them yet: both wait, naming the node each goes to.
    let waiting = try Planner.plan(Self.drainDesired, disk, on: "n1", at: Self.now, fleet: Self.snapshot(live: ["n1", "n2", "n3"], holdings: ["n1": [m, n]], draining: ["n1"]))
    #expect(waiting.changes.isEmpty)
    let target = try NodeTarget.resolve(Self.drainDesired, node: "n1", fleet: Self.snapshot(live: ["n1", "n2", "n3"], draining: ["n1"]))
    let mNode = try #require(target.assignment.first { $0.value.contains(m) }?.key)
    #expect(waiting.kept.map(\.variant) == [m, n])
    #expect(waiting.kept.first?.reason == .waitingForReplicas(nodes: [mNode]))
    #expect(PlanRenderer.human(waiting).contains("(waiting for \(mNode) to verify it)"), "\(PlanRenderer.human(waiting))")

    // Once the new node verified m, m goes; n still waits.
    let half = try Planner.plan(Self.drainDesired, disk, on: "n1", at: Self.now, fleet: Self.snapshot(live: ["n1", "n2", "n3"], holdings: ["n1": [m, n], mNode: [m]], draining: ["n1"]))
    #expect(half.changes.map(\.subject.variant) == [m] && half.changes.first?.reason == .nodeDraining)
    #expect(half.kept.map(\.variant) == [n])
  }

  @Test func whenTheRegistryIsUnreachableNothingPlacedElsewhereIsEvicted() throws {
    let m = PlanFixture.id("m", "fp16")
    let disk = DiskBuilder.build { disk in
      disk.blob(1, size: 100)
      disk.link(m, "a.bin", to: 1)
    }
    let plan = try Planner.plan(Self.drainDesired, disk, on: "n1", at: Self.now, fleet: .unavailable(at: Self.now))
    #expect(plan.changes.isEmpty && plan.kept.map(\.variant) == [m], "\(plan.changes)")
    #expect(plan.fleetUnavailable == true)
    #expect(PlanRenderer.human(plan).contains("fleet registry unreachable: every declared node is taken as ready, and nothing placed elsewhere is evicted"))
  }

  @Test func theFleetPlanShowsADeadNodesReplicasMoving() throws {
    let m = PlanFixture.id("m", "fp16")
    let fleet = Self.snapshot(live: ["n2", "n3"], dead: ["n1"], holdings: ["n1": [m]])
    var desired = Self.drainDesired
    desired.pools[0].nodes[0].draining = false
    let plan = try FleetPlan.make(desired, fleet: fleet)
    let n1 = try #require(plan.nodes.first { $0.node == "n1" })
    #expect(n1.state == "not-ready" && n1.variants.isEmpty)
    #expect(n1.drops.map(\.variant) == [m] && n1.drops.first?.to.count == 1)
    let taker = try #require(n1.drops.first?.to.first)
    #expect(plan.nodes.first { $0.node == taker }?.adds.contains(m) == true)
    #expect(plan.text().contains("  n1 (pool p, not-ready): 0 variants\n    - m@1.0:fp16  (after \(taker) verified it)"), "\(plan.text())")
  }

  @Test func aNodeNoPoolDeclaresButTheRegistryKnowsLeavesAfterItsCopiesExistElsewhere() throws {
    let m = PlanFixture.id("m", "fp16")
    let disk = DiskBuilder.build { disk in
      disk.blob(1, size: 100)
      disk.link(m, "a.bin", to: 1)
    }
    #expect(throws: PlanError.self) { try Planner.plan(Self.drainDesired, disk, on: "n9", at: Self.now) }
    let waiting = try Planner.plan(Self.drainDesired, disk, on: "n9", at: Self.now, fleet: Self.snapshot(live: ["n2", "n3", "n9"], holdings: ["n9": [m]]))
    #expect(waiting.leaving == true && waiting.changes.isEmpty && waiting.kept.map(\.variant) == [m])
    let holder = try #require(waiting.kept.first.flatMap { if case .waitingForReplicas(let nodes) = $0.reason { nodes.first } else { nil } })
    let gone = try Planner.plan(Self.drainDesired, disk, on: "n9", at: Self.now, fleet: Self.snapshot(live: ["n2", "n3", "n9"], holdings: ["n9": [m], holder: [m]]))
    #expect(gone.changes.map(\.reason) == [.nodeLeaving])
    #expect(PlanRenderer.human(gone).contains("node n9 is leaving the fleet (no pool declares it)"))
  }

  @Test func aCachedSnapshotPlacesAsItSaidAndNeverLetsAMovedVariantGo() throws {
    let m = PlanFixture.id("m", "fp16")
    let disk = DiskBuilder.build { disk in
      disk.blob(1, size: 100)
      disk.link(m, "a.bin", to: 1)
    }
    // Cached when n3 was dead and n2 already held m: on the registry that would evict; cached, it keeps.
    var cached = Self.snapshot(live: ["n1", "n2"], dead: ["n3"], holdings: ["n1": [m], "n2": [m]], draining: ["n1"])
    cached.unavailable = true
    let plan = try Planner.plan(Self.drainDesired, disk, on: "n1", at: Self.now, fleet: cached)
    #expect(plan.changes.isEmpty && plan.kept.first?.reason == .waitingForReplicas(nodes: ["n2"]), "\(plan.kept)")
    #expect(plan.fleetSnapshotAt == cached.takenAt)
    #expect(PlanRenderer.human(plan).contains("fleet registry unreachable: placed on the snapshot cached 0 s ago; nothing placed elsewhere is evicted"))
    let target = try NodeTarget.resolve(Self.drainDesired, node: "n2", fleet: cached)
    #expect(target.assignment["n3"] == nil, "the cached snapshot's dead node still takes nothing")
  }

  @Test func withoutARegistryADrainingNodeEvictsAsBefore() throws {
    let m = PlanFixture.id("m", "fp16")
    let disk = DiskBuilder.build { disk in
      disk.blob(1, size: 100)
      disk.link(m, "a.bin", to: 1)
    }
    let plan = try Planner.plan(Self.drainDesired, disk, on: "n1", at: Self.now)
    #expect(plan.changes.map(\.reason) == [.nodeDraining])
  }

  @Test func diskPressureOverridesTheWaitAndSaysSo() throws {
    let m = PlanFixture.id("m", "fp16")
    let n = PlanFixture.id("n", "fp8")
    // m needs 40 GiB of VRAM, which only n2 has, so it moves off n3; n3 must take n's 200 bytes
    // into 250 of disk while it still holds m's 100 (binpack: n does not fit n2's 50).
    var desired = Self.drainDesired
    desired.models[0].variants[0].vram = 40 << 30
    var n2 = PlanFixture.node("n2", disk: 50)
    n2.vram = 80 << 30
    var n3 = PlanFixture.node("n3", disk: 250)
    n3.vram = 16 << 30
    desired.pools = [Pool(name: "p", replicas: 1, placement: .binpack, nodes: [n2, n3])]
    desired.policy.minFree = .bytes(0)
    let disk = DiskBuilder.build { disk in
      disk.blob(1, size: 100)
      disk.link(m, "a.bin", to: 1)
    }
    let fleet = Self.snapshot(live: ["n2", "n3"], holdings: ["n3": [m]])
    let target = try NodeTarget.resolve(desired, node: "n3", fleet: fleet)
    #expect(target.variants == [n], "\(target.assignment)")
    let plan = try Planner.plan(desired, disk, on: "n3", at: Self.now, fleet: fleet)
    let eviction = try #require(plan.changes.first { $0.action == .evict })
    #expect(eviction.reason == .diskPressureBeforeReplicas(nodes: ["n2"]))
    #expect(PlanRenderer.human(plan).contains("DISK PRESSURE: evicted before n2 verified it"), "\(PlanRenderer.human(plan))")
  }
}
