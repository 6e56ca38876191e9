import Foundation
import Testing
@testable import ReconcileCore

/// One row of the planner table: a desired state, a node's disk, and the exact plan expected.
struct PlannerCase: Sendable, CustomTestStringConvertible {
  var name: String
  var desired: DesiredState
  var observed: ObservedState
  var node: String
  var changes: [ChangeLine]
  var kept: [KeptLine]

  init(_ name: String, desired: DesiredState = PlannerCase.base, node: String = "solo", observed: ObservedState, changes: [ChangeLine], kept: [KeptLine] = []) {
    self.name = name
    self.desired = desired
    self.observed = observed
    self.node = node
    self.changes = changes
    self.kept = kept
  }

  var testDescription: String { name }

  /// m@1.0:fp16 = a.bin (content 1, 100 B) + b.bin (2, 200 B); n@1.0:fp8 = x.bin (1, shared) + y.bin (3, 300 B).
  static let base = DesiredState(models: [
    PlanFixture.model("m", [Variant(name: "fp16", files: [PlanFixture.file("a.bin", 1, 100), PlanFixture.file("b.bin", 2, 200)])]),
    PlanFixture.model("n", [Variant(name: "fp8", files: [PlanFixture.file("x.bin", 1, 100), PlanFixture.file("y.bin", 3, 300)])]),
  ])
  static let m = PlanFixture.id("m", "fp16")
  static let n = PlanFixture.id("n", "fp8")
  static let old = PlanFixture.id("old", "fp16", version: "0.9")
  static let oldFP8 = PlanFixture.id("old", "fp8", version: "0.9")
}

/// A kept variant reduced to what the tables assert.
struct KeptLine: Hashable, Sendable {
  var variant: VariantID
  var reason: Reason
}

/// The planner's rules, one table row each, asserting the exact list of changes.
@Suite struct PlannerTests {
  typealias C = PlannerCase
  static let now = PlanFixture.now
  static let hour = PlanFixture.hour

  /// The base state held in full, plus an unwanted `old@0.9:fp16` of content 9 (900 B).
  static func withOld(unwantedFor hours: Double?, _ extra: (inout DiskBuilder) -> Void = { _ in }) -> ObservedState {
    DiskBuilder.build { disk in
      disk.hold(C.base)
      disk.blob(9, size: 900)
      disk.link(C.old, "w.bin", to: 9)
      if let hours { disk.observed.unwantedSince[C.old] = now.addingTimeInterval(-hours * hour) }
      extra(&disk)
    }
  }

  static let pinnedOld = DesiredState(
    models: C.base.models + [PlanFixture.model("old", version: "0.9", [Variant(name: "fp16", files: [PlanFixture.file("w.bin", 9, 900)])], pin: true)],
    tenants: [Tenant(name: "t", models: [PlanFixture.ref("m"), PlanFixture.ref("n")])])

  static let drainingPool = DesiredState(
    models: C.base.models,
    pools: [Pool(name: "a100", nodes: [PlanFixture.node("gpu-1", draining: true), PlanFixture.node("gpu-2")])])

  static let tightPool = DesiredState(
    models: [PlanFixture.model("w", [Variant(name: "fp16", files: [PlanFixture.file("w.bin", 20, 500)])])],
    pools: [Pool(name: "p", nodes: [PlanFixture.node("gpu-1", disk: 1000)])])

  static let cases: [PlannerCase] = [
    C("a new node downloads each digest once and links the other views", observed: ObservedState(), changes: [
      ChangeLine(.download, "m@1.0:fp16 file a.bin", .missing, 100),
      ChangeLine(.download, "m@1.0:fp16 file b.bin", .missing, 200),
      ChangeLine(.download, "n@1.0:fp8 file y.bin", .missing, 300),
      ChangeLine(.link, "n@1.0:fp8 file x.bin", .viewMissing, 0),
    ]),
    C("a node that holds everything has no changes", observed: DiskBuilder.build { $0.hold(C.base) }, changes: []),
    C("a blob of the wrong size is downloaded again", observed: DiskBuilder.build { $0.blob(2, size: 150, .sizeChanged); $0.hold(C.base) }, changes: [
      ChangeLine(.download, "m@1.0:fp16 file b.bin", .sizeMismatch(expected: 200, actual: 150), 200)
    ]),
    C("views of a re-downloaded shared blob are linked again", observed: DiskBuilder.build { $0.blob(1, size: 90, .sizeChanged); $0.hold(C.base) }, changes: [
      ChangeLine(.download, "m@1.0:fp16 file a.bin", .sizeMismatch(expected: 100, actual: 90), 100),
      ChangeLine(.link, "n@1.0:fp8 file x.bin", .viewDiffers, 0),
    ]),
    C("a never verified blob is verified", observed: DiskBuilder.build { $0.blob(3, size: 300, .neverVerified); $0.hold(C.base) }, changes: [
      ChangeLine(.verify, "n@1.0:fp8 file y.bin", .unverified(.neverVerified), 300)
    ]),
    C("a modified blob is verified once for both views", observed: DiskBuilder.build { $0.blob(1, size: 100, .modified); $0.hold(C.base) }, changes: [
      ChangeLine(.verify, "m@1.0:fp16 file a.bin", .unverified(.modified), 100)
    ]),
    C("a missing view is linked", observed: DiskBuilder.build { $0.hold(C.base); $0.remove(C.m, "b.bin") }, changes: [
      ChangeLine(.link, "m@1.0:fp16 file b.bin", .viewMissing, 0)
    ]),
    C("a view that is a copy is replaced by a link", observed: DiskBuilder.build { $0.hold(C.base); $0.copy(C.m, "b.bin", size: 200, verified: 2) }, changes: [
      ChangeLine(.link, "m@1.0:fp16 file b.bin", .viewDiffers, 0)
    ]),
    C("a view with the blob's inode on another device is replaced", observed: DiskBuilder.build { $0.hold(C.base); $0.otherDevice(C.n, "y.bin", sameInodeAs: 3) }, changes: [
      ChangeLine(.link, "n@1.0:fp8 file y.bin", .viewDiffers, 0)
    ]),
    C("a symbolic link in a view is replaced", observed: DiskBuilder.build { $0.hold(C.base); $0.symlink(C.m, "a.bin") }, changes: [
      ChangeLine(.link, "m@1.0:fp16 file a.bin", .viewDiffers, 0)
    ]),
    C("a view linked to another blob is replaced", observed: DiskBuilder.build { $0.hold(C.base); $0.link(C.m, "b.bin", to: 3) }, changes: [
      ChangeLine(.link, "m@1.0:fp16 file b.bin", .viewDiffers, 0)
    ]),
    C("a verified view whose blob is gone becomes the blob again", observed: DiskBuilder.build { $0.hold(C.base); $0.dropBlob(3) }, changes: [
      ChangeLine(.link, "n@1.0:fp8 file y.bin", .missing, 0)
    ]),
    C("an unverified copy whose blob is gone is downloaded", observed: DiskBuilder.build { $0.hold(C.base); $0.dropBlob(3); $0.copy(C.n, "y.bin", size: 300) }, changes: [
      ChangeLine(.download, "n@1.0:fp8 file y.bin", .missing, 300)
    ]),
    C("a file its variant no longer lists is evicted", observed: DiskBuilder.build { $0.hold(C.base); $0.link(C.m, "extra/old.bin", to: 3) }, changes: [
      ChangeLine(.evict, "m@1.0:fp16 file extra/old.bin", .notInVariant, 0)
    ]),
    C("an unwanted variant past gc_grace is evicted", observed: withOld(unwantedFor: 25), changes: [
      ChangeLine(.evict, "old@0.9:fp16", .notDesired(since: now.addingTimeInterval(-25 * hour)), 900)
    ]),
    C("an unwanted variant exactly at gc_grace is evicted", observed: withOld(unwantedFor: 24), changes: [
      ChangeLine(.evict, "old@0.9:fp16", .notDesired(since: now.addingTimeInterval(-24 * hour)), 900)
    ]),
    C("an unwanted variant within gc_grace is kept", observed: withOld(unwantedFor: 23), changes: [],
      kept: [KeptLine(variant: C.old, reason: .inGracePeriod(since: now.addingTimeInterval(-23 * hour)))]),
    C("a variant first found unwanted now is kept", observed: withOld(unwantedFor: nil), changes: [],
      kept: [KeptLine(variant: C.old, reason: .inGracePeriod(since: now))]),
    C("eviction none keeps unwanted variants", desired: DesiredState(models: C.base.models, policy: Policy(eviction: .none)), observed: withOld(unwantedFor: 100), changes: [],
      kept: [KeptLine(variant: C.old, reason: .evictionDisabled)]),
    // Tenant t's views are not on this disk, so the plan links them too.
    C("a pinned model is kept past gc_grace", desired: pinnedOld, observed: withOld(unwantedFor: 100), changes: [
      ChangeLine(.link, "tenant t: m@1.0:fp16", .viewMissing, 0),
      ChangeLine(.link, "tenant t: n@1.0:fp8", .viewMissing, 0),
    ], kept: [KeptLine(variant: C.old, reason: .pinned)]),
    C("an eviction frees only blobs nothing else uses", observed: withOld(unwantedFor: 30) { $0.link(C.old, "shared.bin", to: 1) }, changes: [
      ChangeLine(.evict, "old@0.9:fp16", .notDesired(since: now.addingTimeInterval(-30 * hour)), 900)
    ]),
    C("two evictions sharing a blob count it once", observed: withOld(unwantedFor: 30) { disk in
      disk.link(C.oldFP8, "w.bin", to: 9)
      disk.observed.unwantedSince[C.oldFP8] = now.addingTimeInterval(-30 * hour)
    }, changes: [
      ChangeLine(.evict, "old@0.9:fp16", .notDesired(since: now.addingTimeInterval(-30 * hour)), 900),
      ChangeLine(.evict, "old@0.9:fp8", .notDesired(since: now.addingTimeInterval(-30 * hour)), 0),
    ]),
    C("a draining node evicts everything at once", desired: drainingPool, node: "gpu-1", observed: DiskBuilder.build { $0.hold(C.base) }, changes: [
      ChangeLine(.evict, "m@1.0:fp16", .nodeDraining, 300),
      ChangeLine(.evict, "n@1.0:fp8", .nodeDraining, 300),
    ]),
    C("a draining node keeps what is pinned", desired: DesiredState(models: pinnedOld.models, pools: drainingPool.pools), node: "gpu-1",
      observed: withOld(unwantedFor: 1), changes: [
        ChangeLine(.evict, "m@1.0:fp16", .nodeDraining, 300),
        ChangeLine(.evict, "n@1.0:fp8", .nodeDraining, 300),
      ], kept: [KeptLine(variant: C.old, reason: .pinned)]),
    C("disk pressure evicts variants in grace, least recently used first", desired: tightPool, node: "gpu-1", observed: DiskBuilder.build { disk in
      // 500 wanted + 300 + 200 + 100 kept > 900 (1000 minus 10%): the two least recently used go.
      for (number, name, size, used) in [(21, "old1", Int64(300), -5.0), (22, "old2", 200, -1.0), (23, "old3", 100, .nan)] {
        let id = PlanFixture.id(name, "fp16")
        disk.blob(number, size: size)
        disk.link(id, "f.bin", to: number)
        disk.observed.unwantedSince[id] = now.addingTimeInterval(-hour)
        if !used.isNaN { disk.observed.lastUse[id] = now.addingTimeInterval(used * hour) }
      }
    }, changes: [
      ChangeLine(.download, "w@1.0:fp16 file w.bin", .missing, 500),
      ChangeLine(.evict, "old1@1.0:fp16", .diskPressure(since: now.addingTimeInterval(-hour)), 300),
      ChangeLine(.evict, "old3@1.0:fp16", .diskPressure(since: now.addingTimeInterval(-hour)), 100),
    ], kept: [KeptLine(variant: PlanFixture.id("old2", "fp16"), reason: .inGracePeriod(since: now.addingTimeInterval(-hour)))]),
  ]

  @Test(arguments: cases)
  func plansExactly(_ row: PlannerCase) throws {
    let plan = try Planner.plan(row.desired, row.observed, on: row.node, at: Self.now)
    #expect(plan.changes.map(ChangeLine.init) == row.changes)
    #expect(plan.kept.map { KeptLine(variant: $0.variant, reason: $0.reason) } == row.kept)
  }

  @Test func downloadsCarryTheModelSourcesAndOtherChangesNone() throws {
    let plan = try Planner.plan(C.base, ObservedState(), on: "solo", at: Self.now)
    for change in plan.changes {
      #expect(change.sources.isEmpty == (change.action != .download))
      #expect(change.digest != nil)
    }
  }

  @Test func evictionsCountTheFilesOfTheView() throws {
    let observed = Self.withOld(unwantedFor: 30) { $0.link(C.old, "dir/second.bin", to: 1) }
    let plan = try Planner.plan(C.base, observed, on: "solo", at: Self.now)
    #expect(plan.changes.map(\.files) == [2])
  }

  @Test func keptInGraceSaysWhenItBecomesEvictable() throws {
    let plan = try Planner.plan(C.base, Self.withOld(unwantedFor: 23), on: "solo", at: Self.now)
    #expect(plan.kept.map(\.evictableAfter) == [Self.now.addingTimeInterval(Self.hour)])
  }

  @Test func diskForecastCountsBlobsInViewsBeforeAndAfter() throws {
    let plan = try Planner.plan(Self.tightPool, Self.withOld(unwantedFor: 30), on: "gpu-1", at: Self.now)
    // Now 100 + 200 + 300 + 900 in views. old@0.9 is past grace; m and n are in grace and m goes
    // under pressure, so after apply: w.bin 500 + n's 100 + 300.
    #expect(plan.disk == DiskForecast(capacity: 1000, minFree: 100, minFreeSetting: "10%", usedNow: 1500, usedAfter: 900))
    #expect(plan.changes.map(\.subject.description) == ["w@1.0:fp16 file w.bin", "m@1.0:fp16", "old@0.9:fp16"])
  }
}

/// Plans that cannot be made: capacity, free space and unknown nodes, with exact numbers.
@Suite struct PlannerErrorTests {
  static let now = PlanFixture.now

  /// One model w@1.0:fp16 of `sizes` (contents 30, 31, …) on pool node gpu-1 with `disk` bytes.
  static func desired(_ sizes: [Int64], disk: Int64? = 1000, policy: Policy = Policy()) -> DesiredState {
    let files = sizes.enumerated().map { PlanFixture.file("f\($0.offset).bin", 30 + $0.offset, $0.element) }
    let pools = disk.map { [Pool(name: "p", nodes: [PlanFixture.node("gpu-1", disk: $0)])] } ?? []
    return DesiredState(models: [PlanFixture.model("w", [Variant(name: "fp16", files: files)])], pools: pools, policy: policy)
  }

  /// Unwanted variants `name@1.0:fp16` of one file each (content, size), unwanted for an hour.
  static func unwanted(_ variants: [(String, Int, Int64)]) -> ObservedState {
    DiskBuilder.build { disk in
      for (name, number, size) in variants {
        disk.blob(number, size: size)
        disk.link(PlanFixture.id(name, "fp16"), "f.bin", to: number)
        disk.observed.unwantedSince[PlanFixture.id(name, "fp16")] = now.addingTimeInterval(-PlanFixture.hour)
      }
    }
  }

  @Test func desiredBytesBeyondDiskMinusMinFree() {
    #expect(throws: PlanError.insufficientCapacity(node: "gpu-1", needed: 1000, available: 900, detail: "disk 1000 B minus min_free 10%")) {
      try Planner.plan(Self.desired([600, 400]), ObservedState(), on: "gpu-1", at: Self.now)
    }
  }

  @Test func capacityMessageNamesNodeAndNumbers() {
    let error = PlanError.insufficientCapacity(node: "gpu-1", needed: 1000, available: 900, detail: "disk 1000 B minus min_free 10%")
    #expect(error.description == "node 'gpu-1' needs 1000 B (1000 bytes) for its desired models but has 900 B (900 bytes) available (disk 1000 B minus min_free 10%); add disk, lower replicas, or move tenants to another pool")
  }

  @Test func exactlyDiskMinusMinFreeFits() throws {
    let plan = try Planner.plan(Self.desired([600, 300]), ObservedState(), on: "gpu-1", at: Self.now)
    #expect(plan.disk.usedAfter == 900)
  }

  @Test func stillTooBigAfterEvictingEverythingInGrace() {
    var desired = Self.desired([500])
    desired.models.append(PlanFixture.model("pinned", [Variant(name: "fp16", files: [PlanFixture.file("f.bin", 40, 600)])], pin: true))
    desired.tenants = [Tenant(name: "t", models: [PlanFixture.ref("w")])]
    desired.pools[0].serves = ["t"]
    let observed = Self.unwanted([("pinned", 40, 600), ("old", 41, 300)])
    // old (300) goes under pressure, but pinned 600 + wanted 500 still exceed 900.
    #expect(throws: PlanError.insufficientCapacity(node: "gpu-1", needed: 1100, available: 900, detail: "disk 1000 B minus min_free 10%")) {
      try Planner.plan(desired, observed, on: "gpu-1", at: Self.now)
    }
  }

  @Test func evictionNoneNeverEvictsUnderPressure() {
    let desired = Self.desired([500], policy: Policy(minFree: .bytes(50), eviction: .none))
    #expect(throws: PlanError.insufficientCapacity(node: "gpu-1", needed: 1000, available: 950, detail: "disk 1000 B minus min_free 50 B")) {
      try Planner.plan(desired, Self.unwanted([("old", 41, 500)]), on: "gpu-1", at: Self.now)
    }
  }

  @Test func withoutPoolsTheFilesystemIsTheCapacity() {
    var observed = ObservedState()
    observed.filesystem = FilesystemSpace(total: 1000, available: 1000)
    #expect(throws: PlanError.insufficientCapacity(node: "solo", needed: 1000, available: 900, detail: "filesystem 1000 B minus min_free 10%")) {
      try Planner.plan(Self.desired([1000], disk: nil), observed, on: "solo", at: Self.now)
    }
  }

  /// No pools; a filesystem of 10 000 B with 1 500 B free keeps 1 000 B, so 500 B may be downloaded.
  static func onFilesystem(_ observed: ObservedState = ObservedState()) -> ObservedState {
    var observed = observed
    observed.filesystem = FilesystemSpace(total: 10_000, available: 1_500)
    return observed
  }

  @Test func downloadsBeyondFreeSpaceMinusHeadroom() {
    #expect(throws: PlanError.insufficientSpace(node: "solo", needed: 600, available: 500, detail: "min_free 10% of the filesystem kept")) {
      try Planner.plan(Self.desired([600], disk: nil), Self.onFilesystem(), on: "solo", at: Self.now)
    }
    let error = PlanError.insufficientSpace(node: "solo", needed: 600, available: 500, detail: "min_free 10% of the filesystem kept")
    #expect(error.description == "node 'solo' needs 600 B (600 bytes) more on its filesystem but only 500 B (500 bytes) is free (min_free 10% of the filesystem kept); free space on the filesystem first")
  }

  @Test func headroomAboveFreeSpaceLeavesNothing() {
    var observed = ObservedState()
    observed.filesystem = FilesystemSpace(total: 10_000, available: 800)
    #expect(throws: PlanError.insufficientSpace(node: "solo", needed: 100, available: 0, detail: "min_free 10% of the filesystem kept")) {
      try Planner.plan(Self.desired([100], disk: nil), observed, on: "solo", at: Self.now)
    }
  }

  @Test func partialDownloadOfTheSameBlobCounts() throws {
    var observed = ObservedState()
    observed.partials = [PartialDownload(digest: PlanFixture.digest(30), name: "\(PlanFixture.digest(30).hex).part", bytes: 200, modified: Self.now)]
    let plan = try Planner.plan(Self.desired([600], disk: nil), Self.onFilesystem(observed), on: "solo", at: Self.now)
    #expect(plan.changes(.download).map(\.bytes) == [600])
  }

  @Test func partialDownloadOfAnotherBlobDoesNotCount() {
    var observed = ObservedState()
    observed.partials = [PartialDownload(digest: PlanFixture.digest(99), name: "\(PlanFixture.digest(99).hex).part", bytes: 200, modified: Self.now)]
    #expect(throws: PlanError.insufficientSpace(node: "solo", needed: 600, available: 500, detail: "min_free 10% of the filesystem kept")) {
      try Planner.plan(Self.desired([600], disk: nil), Self.onFilesystem(observed), on: "solo", at: Self.now)
    }
  }

  @Test func evictionsFreeSpaceForDownloads() throws {
    var observed = Self.unwanted([("old", 41, 300)])
    observed.unwantedSince[PlanFixture.id("old", "fp16")] = Self.now.addingTimeInterval(-48 * PlanFixture.hour)
    let plan = try Planner.plan(Self.desired([600], disk: nil), Self.onFilesystem(observed), on: "solo", at: Self.now)
    #expect(plan.changes.map(ChangeLine.init) == [
      ChangeLine(.download, "w@1.0:fp16 file f0.bin", .missing, 600),
      ChangeLine(.evict, "old@1.0:fp16", .notDesired(since: Self.now.addingTimeInterval(-48 * PlanFixture.hour)), 300),
    ])
  }

  @Test func unknownNodeListsEveryPoolsNodes() {
    var desired = Self.desired([1])
    desired.pools = [
      Pool(name: "a100", nodes: [PlanFixture.node("gpu-a-01"), PlanFixture.node("gpu-a-02", draining: true)]),
      Pool(name: "h100", nodes: [PlanFixture.node("gpu-h-01")]),
    ]
    let message = "node 'gpu-x' is not in any pool (a100: gpu-a-01, gpu-a-02; h100: gpu-h-01); pass --node with one of these names or add the node to a pool"
    do {
      _ = try Planner.plan(desired, ObservedState(), on: "gpu-x", at: Self.now)
      Issue.record("expected unknownNode")
    } catch {
      #expect(error.description == message)
      guard case .unknownNode(let node, let known) = error else { Issue.record("wrong error \(error)"); return }
      #expect(node == "gpu-x")
      #expect(known.map(\.pool) == ["a100", "h100"])
      #expect(known.map(\.nodes) == [["gpu-a-01", "gpu-a-02"], ["gpu-h-01"]])
    }
  }

  @Test func withoutPoolsAnyNodeNameIsPlanned() throws {
    let plan = try Planner.plan(Self.desired([1], disk: nil), ObservedState(), on: "whatever", at: Self.now)
    #expect(plan.pool == nil)
    #expect(plan.changes.count == 1)
  }
}
