import Foundation
import Testing
@testable import ReconcileCore

/// A small seeded pseudo-random generator (SplitMix64), so generated cases reproduce.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64

  init(seed: UInt64) { state = seed &* 0x9e37_79b9_7f4a_7c15 &+ 0x632b_e59b_d9b4_e019 }

  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }

  /// A number in `range`.
  mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.count))
  }

  /// True with probability `p`.
  mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) < p * 1_000_000 }

  /// One element of a non-empty array.
  mutating func pick<T>(_ elements: [T]) -> T { elements[int(0...(elements.count - 1))] }

  /// The elements in a random order.
  mutating func shuffled<T>(_ elements: [T]) -> [T] {
    var result = elements
    for index in result.indices.reversed() where index > 0 { result.swapAt(index, int(0...index)) }
    return result
  }
}

/// How pools assign variants to nodes, and what NodeTarget makes of it.
@Suite struct PlacementTests {
  /// `count` variants `v<i>@1.0:fp16` with seeded sizes between 1 and 100 000 bytes.
  static func wanted(_ count: Int, seed: UInt64 = 7) -> (Set<VariantID>, [VariantID: Int64]) {
    var random = SeededGenerator(seed: seed)
    let ids = (0..<count).map { PlanFixture.id("v\($0)", "fp16") }
    return (Set(ids), Dictionary(uniqueKeysWithValues: ids.map { ($0, Int64(random.int(1...100_000))) }))
  }

  /// Nodes n1…n`count`; the ones listed in `draining` drain.
  static func pool(_ count: Int, replicas: Int?, _ placement: Placement, draining: Set<Int> = [], disk: Int64 = 1 << 40) -> Pool {
    Pool(name: "p", replicas: replicas, placement: placement, nodes: (1...count).map { PlanFixture.node("n\($0)", disk: disk, draining: draining.contains($0)) })
  }

  /// The nodes that hold `variant`.
  static func holders(_ variant: VariantID, _ assignment: [String: Set<VariantID>]) -> Set<String> {
    Set(assignment.filter { $0.value.contains(variant) }.keys)
  }

  @Test(arguments: Placement.allCases, [1, 2, 3, 5, 8, nil] as [Int?])
  func everyVariantOnReplicasNonDrainingNodes(_ placement: Placement, _ replicas: Int?) {
    let (wanted, sizes) = Self.wanted(60)
    let pool = Self.pool(6, replicas: replicas, placement, draining: [2])
    let assignment = PlacementEngine.assign(wanted, sizes: sizes, in: pool)
    #expect(Set(assignment.keys) == ["n1", "n3", "n4", "n5", "n6"])
    for variant in wanted {
      #expect(Self.holders(variant, assignment).count == min(replicas ?? 5, 5), "\(variant)")
    }
    #expect(assignment.values.allSatisfy { $0.isSubset(of: wanted) })
  }

  @Test(arguments: Placement.allCases)
  func sameResultForAnyNodeOrder(_ placement: Placement) {
    let (wanted, sizes) = Self.wanted(40)
    let pool = Self.pool(7, replicas: 2, placement, draining: [4], disk: 400_000)
    let expected = PlacementEngine.assign(wanted, sizes: sizes, in: pool)
    var random = SeededGenerator(seed: 11)
    for _ in 0..<20 {
      var shuffled = pool
      shuffled.nodes = random.shuffled(pool.nodes)
      #expect(PlacementEngine.assign(wanted, sizes: sizes, in: shuffled) == expected)
    }
  }

  @Test(arguments: [1, 2, 3])
  func spreadMovesOnlyWhatGoesToANewNode(_ replicas: Int) {
    let (wanted, sizes) = Self.wanted(300)
    var pool = Self.pool(5, replicas: replicas, .spread)
    let before = PlacementEngine.assign(wanted, sizes: sizes, in: pool)
    pool.nodes.append(PlanFixture.node("n6"))
    let after = PlacementEngine.assign(wanted, sizes: sizes, in: pool)
    var moved = 0
    for variant in wanted {
      let old = Self.holders(variant, before)
      let new = Self.holders(variant, after)
      if new.contains("n6") {
        moved += 1
        #expect(new.subtracting(old) == ["n6"], "\(variant)")
        #expect(old.subtracting(new).count == 1, "\(variant)")
      } else {
        #expect(old == new, "\(variant)")
      }
    }
    // About replicas/6 of the variants land on the new node.
    let share = Double(moved) / Double(wanted.count)
    #expect(abs(share - Double(replicas) / 6) < 0.1, "moved \(moved) of \(wanted.count)")
  }

  @Test func spreadMovesOnlyWhatADrainingNodeHeld() {
    let (wanted, sizes) = Self.wanted(300)
    let before = PlacementEngine.assign(wanted, sizes: sizes, in: Self.pool(5, replicas: 2, .spread))
    let after = PlacementEngine.assign(wanted, sizes: sizes, in: Self.pool(5, replicas: 2, .spread, draining: [3]))
    for variant in wanted where !Self.holders(variant, before).contains("n3") {
      #expect(Self.holders(variant, before) == Self.holders(variant, after), "\(variant)")
    }
    #expect(after["n3"] == nil)
  }

  @Test func spreadIsRoughlyEven() {
    let (wanted, sizes) = Self.wanted(600)
    let assignment = PlacementEngine.assign(wanted, sizes: sizes, in: Self.pool(6, replicas: 1, .spread))
    for (node, variants) in assignment {
      #expect((60...140).contains(variants.count), "\(node) holds \(variants.count)")
    }
  }

  @Test(arguments: [1, 2, 3], [3, 4, 7])
  func leastLoadedBalancesBytes(_ replicas: Int, _ nodes: Int) {
    for seed in UInt64(1)...20 {
      let (wanted, sizes) = Self.wanted(25, seed: seed)
      let assignment = PlacementEngine.assign(wanted, sizes: sizes, in: Self.pool(nodes, replicas: replicas, .leastLoaded))
      let loads = assignment.values.map { $0.reduce(Int64(0)) { $0 + (sizes[$1] ?? 0) } }
      let largest = sizes.values.max() ?? 0
      // Greedy largest-first onto the lightest nodes never leaves two nodes further apart than one variant.
      #expect((loads.max() ?? 0) - (loads.min() ?? 0) <= largest, "seed \(seed): \(loads)")
    }
  }

  @Test func binpackFillsNodesInNameOrder() {
    let sizes: [VariantID: Int64] = [
      PlanFixture.id("a", "fp16"): 40, PlanFixture.id("b", "fp16"): 40, PlanFixture.id("c", "fp16"): 30,
      PlanFixture.id("d", "fp16"): 30, PlanFixture.id("e", "fp16"): 20,
    ]
    let assignment = PlacementEngine.assign(Set(sizes.keys), sizes: sizes, in: Self.pool(3, replicas: 1, .binpack, disk: 100))
    #expect(assignment["n1"] == [PlanFixture.id("a", "fp16"), PlanFixture.id("b", "fp16"), PlanFixture.id("e", "fp16")])
    #expect(assignment["n2"] == [PlanFixture.id("c", "fp16"), PlanFixture.id("d", "fp16")])
    #expect(assignment["n3"] == [])
  }

  @Test func binpackKeepsMinFreeOnEveryNode() throws {
    // 600 + 350 would fill n1 to 950 of 1000, over the 900 that 10% headroom leaves.
    let models = [("a", 600), ("b", 350), ("c", 300)].enumerated().map { index, entry in
      PlanFixture.model(entry.0, [Variant(name: "fp16", files: [PlanFixture.file("f.bin", 50 + index, Int64(entry.1))])])
    }
    let desired = DesiredState(models: models, pools: [Self.pool(2, replicas: 1, .binpack, disk: 1000)])
    var used: [String: Int64] = [:]
    for node in ["n1", "n2"] {
      used[node] = try Planner.plan(desired, ObservedState(), on: node, at: PlanFixture.now).disk.usedAfter
    }
    #expect(used == ["n1": 900, "n2": 350])
  }

  /// app requires enc, enc requires tok (by default variant); one replica over four nodes.
  static let chain = DesiredState(
    models: [
      PlanFixture.model("app", [Variant(name: "fp16", files: [PlanFixture.file("a", 60, 10)])], requires: [PlanFixture.ref("enc")]),
      PlanFixture.model("enc", [Variant(name: "bf16", files: [PlanFixture.file("e", 61, 10)]), Variant(name: "fp32", files: [PlanFixture.file("e", 62, 20)])],
        requires: [PlanFixture.ref("tok")], defaultVariant: "bf16"),
      PlanFixture.model("tok", [Variant(name: "any", files: [PlanFixture.file("t", 63, 1)])]),
    ] + (0..<12).map { PlanFixture.model("x\($0)", [Variant(name: "fp16", files: [PlanFixture.file("x", 70 + $0, 5)])]) },
    tenants: [Tenant(name: "t", models: [PlanFixture.ref("app")] + (0..<12).map { PlanFixture.ref("x\($0)") })],
    pools: [Pool(name: "p", serves: ["t"], replicas: 1, nodes: (1...4).map { PlanFixture.node("n\($0)") })])

  @Test func requiresIsFollowedOnTheNodeHoldingTheRequiringModel() throws {
    let app = PlanFixture.id("app", "fp16"), enc = PlanFixture.id("enc", "bf16"), tok = PlanFixture.id("tok", "any")
    var holders: [VariantID: [String]] = [:]
    for node in ["n1", "n2", "n3", "n4"] {
      let target = try NodeTarget.resolve(Self.chain, node: node)
      for variant in target.variants { holders[variant, default: []].append(node) }
    }
    #expect(holders[app]?.count == 1)
    #expect(holders[enc] == holders[app])
    #expect(holders[tok] == holders[app])
    #expect(holders[PlanFixture.id("enc", "fp32")] == nil)
    for index in 0..<12 { #expect(holders[PlanFixture.id("x\(index)", "fp16")]?.count == 1) }
  }

  @Test func drainingNodeGetsNothingAndOthersTakeOver() throws {
    var desired = Self.chain
    desired.pools[0].nodes[1].draining = true
    #expect(try NodeTarget.resolve(desired, node: "n2").variants.isEmpty)
    var count = 0
    for node in ["n1", "n3", "n4"] { count += try NodeTarget.resolve(desired, node: node).variants.count }
    #expect(count >= 13)
  }

  @Test func poolsHoldOnlyTheTenantsTheyServe() throws {
    let desired = DesiredState(
      models: [
        PlanFixture.model("a", [Variant(name: "fp16", files: [PlanFixture.file("f", 1, 1)]), Variant(name: "fp8", files: [PlanFixture.file("f", 2, 1)])], defaultVariant: "fp8"),
        PlanFixture.model("b", [Variant(name: "q4", files: [PlanFixture.file("f", 3, 1)])]),
      ],
      tenants: [Tenant(name: "research", models: [PlanFixture.ref("a")]), Tenant(name: "prod", models: [PlanFixture.ref("b")])],
      pools: [
        Pool(name: "a100", serves: ["research"], nodes: [PlanFixture.node("gpu-a")]),
        Pool(name: "h100", serves: ["prod"], nodes: [PlanFixture.node("gpu-h")]),
      ])
    #expect(try NodeTarget.resolve(desired, node: "gpu-a").variants == [PlanFixture.id("a", "fp8")])
    #expect(try NodeTarget.resolve(desired, node: "gpu-h").variants == [PlanFixture.id("b", "q4")])
  }
}
