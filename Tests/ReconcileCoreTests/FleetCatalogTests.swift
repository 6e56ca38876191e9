import Foundation
import Testing
@testable import ReconcileCore

/// The catalog: declared against verified live copies, per pool; and picking a node for a router.
@Suite struct FleetCatalogTests {
  static let m = PlanFixture.id("m", "fp16")
  static let n = PlanFixture.id("n", "fp8")
  static let desired = DesiredState(
    models: [PlanFixture.model("m", [Variant(name: "fp16", files: [PlanFixture.file("a.bin", 1, 100)])]),
      PlanFixture.model("n", [Variant(name: "fp8", files: [PlanFixture.file("b.bin", 2, 200)])])],
    pools: [Pool(name: "p", replicas: 2, nodes: [PlanFixture.node("n1"), PlanFixture.node("n2"), PlanFixture.node("n3")])])

  @Test func countsOnlyLiveHoldersAndFlagsUnderAndOver() {
    var fleet = FleetPlacementTests.snapshot(live: ["n1", "n2"], dead: ["n3"], holdings: ["n1": [Self.m, Self.n], "n2": [Self.n], "n3": [Self.m]])
    var entries = FleetCatalog.entries(Self.desired, fleet)
    #expect(entries.map(\.status) == [.underReplicated, .ok], "m's copy on dead n3 does not count")
    #expect(entries.first?.holders == ["n1"] && entries.first?.declared == 2)
    fleet = FleetPlacementTests.snapshot(live: ["n1", "n2", "n3"], holdings: ["n1": [Self.m], "n2": [Self.m], "n3": [Self.m]])
    entries = FleetCatalog.entries(Self.desired, fleet) { $0 == Self.m }
    #expect(entries.map(\.status) == [.overReplicated])
    #expect(FleetCatalog.text(entries).contains("m@1.0:fp16  p     2         3       n1,n2,n3  over-replicated"), "\(FleetCatalog.text(entries))")
  }

  @Test func pickTakesTheReadyHolderWithTheMostFreeDisk() {
    var fleet = FleetPlacementTests.snapshot(live: ["n1", "n2", "n3"], holdings: ["n1": [Self.m], "n2": [Self.m], "n3": [Self.n]], draining: ["n2"])
    fleet.nodes[0].heartbeat.diskFree = 10
    fleet.nodes[1].heartbeat.diskFree = 99
    #expect(FleetCatalog.pickLeastLoaded({ $0 == Self.m }, in: fleet) == "n1", "n2 drains")
    fleet.nodes[1].heartbeat.state = .ready
    #expect(FleetCatalog.pickLeastLoaded({ $0 == Self.m }, in: fleet) == "n2")
    #expect(FleetCatalog.pickLeastLoaded({ $0.model.name == "zz" }, in: fleet) == nil)
  }
}
