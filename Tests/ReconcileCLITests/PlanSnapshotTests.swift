import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// The rendered plan and status are an interface: scripts and people read them. Golden files pin them.
@Suite struct PlanSnapshotTests {
  static let now = Date(timeIntervalSince1970: 1_795_000_000)

  static func fleet() throws -> DesiredState {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Examples/fleet")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().filter { $0.hasSuffix(".yaml") }
    let files = try names.map { DesiredFile(path: "Examples/fleet/\($0)", text: try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) }
    return try DesiredStateLoader.load(files).state
  }

  /// A node that holds part of what it should, some of it unverified, and things nobody wants.
  static func busyNode(_ desired: DesiredState) throws -> ObservedState {
    var observed = ObservedState(filesystem: FilesystemSpace(total: 4 << 40, available: 3 << 40))
    var inode: UInt64 = 100
    func blob(_ file: FileSpec, _ verification: Verification) -> ObservedBlob {
      inode += 1
      let fingerprint = StatFingerprint(device: 1, inode: inode, size: file.size, mtimeNs: 1, ctimeNs: 1)
      return ObservedBlob(digest: file.sha256, fingerprint: fingerprint, verification: verification)
    }
    func hold(_ id: VariantID, files: [FileSpec], verification: Verification = .verified, linked: Bool = true) {
      var variant = observed.variants[id] ?? ObservedVariant(id: id)
      for file in files {
        let stored = observed.blobs[file.sha256] ?? blob(file, verification)
        observed.blobs[file.sha256] = stored
        if linked {
          variant.files[file.path] = ObservedFile(fingerprint: stored.fingerprint, verifiedDigest: verification == .verified ? file.sha256 : nil)
        }
      }
      observed.variants[id] = variant
    }
    let llama = try #require(desired.model(ModelID(name: "llama-3.1-8b", version: "1.0"))?.variant("bf16"))
    let umt5 = try #require(desired.model(ModelID(name: "umt5-xxl", version: "1.1"))?.variant("bf16"))
    let wan = try #require(desired.model(ModelID(name: "wan2.2-t2v-a14b", version: "2.2.0")))
    // llama: complete, but one shard changed on disk since it was verified.
    hold(VariantID(name: "llama-3.1-8b", version: "1.0", variant: "bf16"), files: Array(llama.files.prefix(5)))
    hold(VariantID(name: "llama-3.1-8b", version: "1.0", variant: "bf16"), files: [llama.files[5]], verification: .sizeChanged)
    // umt5: blobs present and verified, views missing.
    hold(VariantID(name: "umt5-xxl", version: "1.1", variant: "bf16"), files: umt5.files, linked: false)
    observed.variants[VariantID(name: "umt5-xxl", version: "1.1", variant: "bf16")] = nil
    // wan fp16 is no longer wanted here: unwanted for 3 days, so it goes; a stray file sits in fp8's view.
    let fp16 = VariantID(name: "wan2.2-t2v-a14b", version: "2.2.0", variant: "fp16")
    hold(fp16, files: try #require(wan.variant("fp16")).files)
    observed.unwantedSince[fp16] = now.addingTimeInterval(-3 * 86400)
    // An old model no longer declared at all, unwanted for 2 hours: kept within gc_grace.
    let old = VariantID(name: "mistral-7b", version: "0.2", variant: "bf16")
    hold(old, files: [FileSpec(path: "model.safetensors", size: 14_483_498_016, sha256: try #require(Digest(hex: String(repeating: "ab", count: 32))))])
    observed.unwantedSince[old] = now.addingTimeInterval(-2 * 3600)
    observed.lastUse[old] = now.addingTimeInterval(-5 * 3600)
    return observed
  }

  @Test func freshNodeHuman() throws {
    let plan = try Planner.plan(try Self.fleet(), ObservedState(), on: "gpu-a-01", at: Self.now)
    try Snapshot.assert(PlanRenderer.human(stamped(plan)), named: "plan-fresh-gpu-a-01.txt")
  }

  @Test func busyNodeHuman() throws {
    let desired = try Self.fleet()
    let plan = try Planner.plan(desired, try Self.busyNode(desired), on: "gpu-a-01", at: Self.now)
    try Snapshot.assert(PlanRenderer.human(stamped(plan)), named: "plan-busy-gpu-a-01.txt")
  }

  @Test func busyNodeJSON() throws {
    let desired = try Self.fleet()
    let plan = try Planner.plan(desired, try Self.busyNode(desired), on: "gpu-a-01", at: Self.now)
    let json = try PlanRenderer.json(stamped(plan))
    try Snapshot.assert(json, named: "plan-busy-gpu-a-01.json")
    #expect(try PlanRenderer.decode(Data(json.utf8)) == stamped(plan))
  }

  @Test func noChangesHuman() throws {
    let plan = try Planner.plan(try Self.fleet(), ObservedState(), on: "gpu-a-03", at: Self.now)
    try Snapshot.assert(PlanRenderer.human(stamped(plan)), named: "plan-draining-gpu-a-03.txt")
  }

  @Test func colorOnlyWhenAsked() throws {
    let plan = try Planner.plan(try Self.fleet(), ObservedState(), on: "gpu-a-01", at: Self.now)
    #expect(!PlanRenderer.human(plan).contains("\u{1B}["))
    #expect(PlanRenderer.human(plan, color: true).contains("\u{1B}[32m+\u{1B}[0m"))
  }

  @Test func aPasswordInASourceStaysOutOfTheHumanPlan() throws {
    let file = FileSpec(path: "a.bin", size: 1, sha256: try #require(Digest(hex: String(repeating: "a", count: 64))))
    let source = SourceURL(scheme: .https, url: "https://reader:s3cret@mirror.example/m/")
    let desired = DesiredState(models: [Model(name: "m", version: "1", sources: [source], variants: [Variant(name: "v", files: [file])])])
    let plan = try Planner.plan(desired, ObservedState(), on: "solo", at: Self.now)
    let text = PlanRenderer.human(plan)
    #expect(text.contains("from https://mirror.example/m/"), "\(text)")
    #expect(!text.contains("s3cret"), "\(text)")
    #expect(try PlanRenderer.json(plan).contains("reader:s3cret@"), "apply needs the credentials the saved plan carries")
  }

  @Test func statusTable() throws {
    let desired = try Self.fleet()
    let target = try NodeTarget.resolve(desired, node: "gpu-a-01")
    let rows = Inventory.rows(desired, try Self.busyNode(desired), target: target)
    try Snapshot.assert(StatusRenderer.table(rows, node: "gpu-a-01", now: Self.now), named: "status-busy-gpu-a-01.txt")
    let served = Set(target.servedTenants(in: desired).map(\.name))
    let tenants = TenantUsage.compute(desired).filter { served.contains($0.tenant) }
    try Snapshot.assert(try StatusRenderer.json(rows, node: "gpu-a-01", tenants: tenants), named: "status-busy-gpu-a-01.json")
    let research = try #require(tenants.first { $0.tenant == "research" })
    let text = TenantStatusRenderer.text(research, desired: desired, rows: rows, nodeVariants: target.variants, node: "gpu-a-01", served: true)
    try Snapshot.assert(text, named: "status-tenant-research-gpu-a-01.txt")
  }

  func stamped(_ plan: Plan) -> Plan {
    var plan = plan
    plan.desired = DesiredStamp(path: "Examples/fleet/", commit: "3f2c1ab9d0e4c5b6a7f8091a2b3c4d5e6f708192", digest: "d1")
    plan.observedDigest = "o1"
    return plan
  }
}
