import Foundation
import Testing
@testable import ReconcileCore

/// Applies `plan` to `observed` the way the real apply does, on plain values.
///
/// download/verify: the blob is present and verified with a fresh fingerprint (a download is a new
/// inode; a verify hashes the file in place) and the change's view is a hard link to it. link: the
/// view is a hard link to the blob; when the blob is missing, the view's verified content becomes
/// the blob. Evicting a variant removes its view, then the blobs no remaining view references.
/// Evicting a file removes that file; kept variants get their first-unwanted time recorded.
/// Problems a real apply would hit are recorded as issues.
func simulateApply(_ plan: Plan, _ desired: DesiredState, _ observed: ObservedState) -> ObservedState {
  var state = observed
  var nextInode = (observed.blobs.values.map(\.fingerprint.inode) + observed.variants.values.flatMap { $0.files.values.map(\.fingerprint.inode) }).max() ?? 0
  var clock: Int64 = 9_000_000_000
  func declared(_ subject: ChangeSubject) -> FileSpec? {
    desired.model(subject.variant.model)?.variant(subject.variant.variant)?.files.first { $0.path == subject.path }
  }
  func linkView(_ subject: ChangeSubject, _ digest: Digest) {
    guard let path = subject.path, let blob = state.blobs[digest] else {
      Issue.record("no blob \(digest.short) to link \(subject)")
      return
    }
    state.variants[subject.variant, default: ObservedVariant(id: subject.variant)].files[path] = ObservedFile(fingerprint: blob.fingerprint, verifiedDigest: digest)
  }
  for change in plan.changes {
    switch change.action {
    case .download:
      guard let digest = change.digest, let file = declared(change.subject), file.sha256 == digest else {
        Issue.record("download of undeclared \(change.subject)")
        continue
      }
      nextInode += 1
      clock += 1
      state.blobs[digest] = ObservedBlob(
        digest: digest, fingerprint: StatFingerprint(device: 1, inode: nextInode, size: file.size, mtimeNs: clock, ctimeNs: clock), verification: .verified)
      state.partials.removeAll { $0.digest == digest }
      linkView(change.subject, digest)
    case .verify:
      guard let digest = change.digest, var blob = state.blobs[digest] else {
        Issue.record("verify without blob \(change.subject)")
        continue
      }
      #expect(blob.size == declared(change.subject)?.size, "verify of a blob of the wrong size: \(change.subject)")
      blob.verification = .verified
      state.blobs[digest] = blob
      linkView(change.subject, digest)
    case .link where change.tenantView != nil:
      guard let view = change.tenantView, let entry = view.entry else {
        Issue.record("tenant link without an entry \(change.subject)")
        continue
      }
      let base = "\(view.tenant)/\(entry)"
      let directory = ObservedDirectory(group: view.group.flatMap { state.tenantViews.groupIDs[$0] } ?? 0, mode: TenantViewLayout.mode(group: view.group))
      state.tenantViews.files = state.tenantViews.files.filter { !$0.key.hasPrefix(base + "/") }
      state.tenantViews.directories = state.tenantViews.directories.filter { !$0.key.hasPrefix(base + "/") }
      for path in [view.tenant, base] { state.tenantViews.directories[path] = directory }
      for file in view.files {
        guard let blob = state.blobs[file.sha256] else { continue }
        var parent = base
        for segment in file.path.split(separator: "/").dropLast() {
          parent += "/\(segment)"
          state.tenantViews.directories[parent] = directory
        }
        state.tenantViews.files[base + "/" + file.path] = ObservedFile(fingerprint: blob.fingerprint)
      }
    case .unlink:
      guard let view = change.tenantView else { continue }
      let path = String(view.relativePath.dropFirst("tenants/".count))
      state.tenantViews.files = state.tenantViews.files.filter { $0.key != path && !$0.key.hasPrefix(path + "/") }
      state.tenantViews.directories = state.tenantViews.directories.filter { $0.key != path && !$0.key.hasPrefix(path + "/") }
    case .publish:
      guard let publication = change.publication else { continue }
      for file in publication.files {
        if let blob = state.blobs[file.sha256] { state.hfCache.snapshots[publication.snapshotPath(file.path)] = blob.fingerprint }
      }
      if let ref = publication.ref { state.hfCache.refs["\(publication.repository)/refs/\(ref)"] = publication.commit }
    case .link:
      guard let digest = change.digest, let path = change.subject.path else {
        Issue.record("link without digest or path \(change.subject)")
        continue
      }
      if state.blobs[digest] == nil {
        guard let view = state.variants[change.subject.variant]?.files[path], view.isRegularFile, view.verifiedDigest == digest else {
          Issue.record("link to missing blob \(digest.short) for \(change.subject)")
          continue
        }
        state.blobs[digest] = ObservedBlob(digest: digest, fingerprint: view.fingerprint, verification: .verified)
      }
      linkView(change.subject, digest)
    case .evict:
      if let path = change.subject.path {
        state.variants[change.subject.variant]?.files[path] = nil
        continue
      }
      let removed = state.variants.removeValue(forKey: change.subject.variant)
      state.unwantedSince[change.subject.variant] = nil
      state.lastUse[change.subject.variant] = nil
      let inodes = { (files: [ObservedFile]) in Set(files.map { [$0.fingerprint.device, $0.fingerprint.inode] }) }
      let stillUsed = inodes(state.variants.values.flatMap { $0.files.values })
      let evicted = inodes(removed.map { Array($0.files.values) } ?? [])
      state.blobs = state.blobs.filter { _, blob in
        let key = [blob.fingerprint.device, blob.fingerprint.inode]
        return !evicted.contains(key) || stillUsed.contains(key)
      }
    }
  }
  // The registry records when a kept variant was first found unwanted, so its grace runs out.
  for kept in plan.kept {
    if case .inGracePeriod(let since) = kept.reason, state.unwantedSince[kept.variant] == nil { state.unwantedSince[kept.variant] = since }
  }
  return state
}

/// A generated fleet: a desired state and, for each node to plan, what its root holds.
struct GeneratedFleet {
  var desired: DesiredState
  var disks: [(node: String, observed: ObservedState)]
}

/// Builds fleets from a seed: shared digests, variants, tenants, pools with replicas, draining
/// nodes, and roots holding partial, corrupt, unverified, extra and unwanted state.
struct FleetGenerator {
  var random: SeededGenerator
  let now = PlanFixture.now

  init(seed: UInt64) { random = SeededGenerator(seed: seed) }

  mutating func fleet() -> GeneratedFleet {
    let sizes = (0..<random.int(3...10)).map { _ in Int64(random.int(1...40) * 1000 + random.int(0...999)) }
    var models: [Model] = []
    for index in 0..<random.int(1...4) {
      let paths = random.shuffled(["model.safetensors", "config.json", "tokenizer/vocab.json", "weights/part-1.bin", "weights/part-2.bin"])
      let variants = ["fp16", "fp8", "int4"].prefix(random.int(1...3)).map { name in
        Variant(name: name, files: paths.prefix(random.int(1...4)).map { path in
          let content = random.int(0...(sizes.count - 1))
          return FileSpec(path: path, size: sizes[content], sha256: PlanFixture.digest(content + 1))
        })
      }
      let version = random.chance(0.2) ? "2.0" : "1.0"
      models.append(Model(name: "m\(index)", version: version, defaultVariant: random.chance(0.5) ? variants.last?.name : nil, variants: variants, pin: random.chance(0.1)))
    }
    // One content per path across the variants, as in a Hub repository at one commit.
    let contents = Dictionary(models[0].variants.flatMap { $0.files.map { ($0.path, [$0.sha256]) } }, uniquingKeysWith: +)
    if random.chance(0.4), contents.values.allSatisfy({ Set($0).count == 1 }) {
      // A Hub source at a commit: published into the Hugging Face cache when a root has one.
      models[0].sources = [SourceURL(scheme: .hf, url: "hf://org/\(models[0].name)@\(String(repeating: "ab", count: 20))")]
    }
    for index in models.indices where random.chance(0.3) {
      let other = random.pick(models)
      models[index].requires = [ModelReference(model: other.id, variant: other.implicitVariant == nil ? random.pick(other.variants).name : nil)]
    }
    let tenants = (0..<random.int(0...3)).map { index in
      Tenant(name: "t\(index)", models: (0..<random.int(1...3)).map { _ in
        let model = random.pick(models)
        let variant = model.implicitVariant != nil && random.chance(0.5) ? nil : random.pick(model.variants).name
        return ModelReference(model: model.id, variant: variant, pin: random.chance(0.1))
      })
    }
    let largest = sizes.reduce(0, +)
    var pools: [Pool] = []
    if random.chance(0.7) {
      for index in 0..<random.int(1...2) {
        let tight = random.chance(0.3)
        let nodes = (1...random.int(1...4)).map { number in
          PoolNode(name: "p\(index)-n\(number)", disk: tight ? largest * Int64(random.int(1...4)) / 4 : 1 << 40, draining: random.chance(0.2))
        }
        pools.append(Pool(
          name: "p\(index)", serves: tenants.map(\.name).filter { _ in random.chance(0.7) }, replicas: random.pick([nil, 1, 2, 3]),
          placement: random.pick(Placement.allCases), nodes: nodes))
      }
    }
    let policy = Policy(
      minFree: random.pick([.share(percent: 10), .bytes(0), .bytes(5000)]), eviction: random.chance(0.2) ? .none : .lru,
      gcGrace: random.pick([0, 3600, 86400]))
    let desired = DesiredState(models: models, tenants: tenants, pools: pools, policy: policy)
    let nodes = pools.isEmpty ? ["solo"] : pools.flatMap { $0.nodes.map(\.name) }
    return GeneratedFleet(desired: desired, disks: nodes.map { ($0, disk(for: desired, contents: sizes)) })
  }

  /// A root holding some of the declared variants and some no longer declared, in every state.
  mutating func disk(for desired: DesiredState, contents sizes: [Int64]) -> ObservedState {
    var disk = DiskBuilder()
    var candidates = desired.models.flatMap { model in model.variants.map { (VariantID(model: model.id, variant: $0.name), $0.files) } }
    for index in 0..<random.int(0...2) {
      let files = (0..<random.int(1...3)).map { number in
        let content = random.int(0...(sizes.count + 2))
        return FileSpec(path: "gone-\(number).bin", size: content < sizes.count ? sizes[content] : 777, sha256: PlanFixture.digest(content + 1))
      }
      candidates.append((PlanFixture.id("old\(index)", "fp16", version: "0.1"), files))
    }
    for (id, files) in candidates where random.chance(0.6) {
      for file in files { place(file, in: id, &disk) }
      if random.chance(0.2) {
        let number = anyBlob(&disk, sizes)
        disk.link(id, "extra-\(random.int(0...9)).bin", to: number)
      }
      if random.chance(0.5) { disk.observed.unwantedSince[id] = now.addingTimeInterval(-PlanFixture.hour * random.pick([0, 1, 23, 24, 48])) }
      if random.chance(0.6) { disk.observed.lastUse[id] = now.addingTimeInterval(-PlanFixture.hour * Double(random.int(0...200))) }
    }
    for _ in 0..<random.int(0...2) { _ = anyBlob(&disk, sizes) }
    // Tenant views left from an earlier desired state: a tenant no longer declared, an entry no
    // tenant uses; and, on some roots, a Hugging Face cache.
    if random.chance(0.2) { disk.observed.tenantViews.directories["gone-tenant"] = ObservedDirectory(group: 0, mode: 0o700) }
    if let tenant = desired.tenants.first, random.chance(0.3) {
      disk.observed.tenantViews.directories[tenant.name] = ObservedDirectory(group: 0, mode: 0o700)
      disk.observed.tenantViews.directories["\(tenant.name)/stale"] = ObservedDirectory(group: 0, mode: 0o700)
    }
    if random.chance(0.5) { disk.observed.hfCache.path = "/cache" }
    if random.chance(0.2) {
      let content = random.int(1...(sizes.count + 1))
      disk.observed.partials = [PartialDownload(digest: PlanFixture.digest(content), name: "\(PlanFixture.digest(content).hex).part", bytes: Int64(random.int(0...5000)), modified: now)]
    }
    if random.chance(0.3) { disk.observed.filesystem = FilesystemSpace(total: 1 << 42, available: 1 << 41) }
    return disk.observed
  }

  /// Puts one file of a variant in one of the states a root can be found in.
  mutating func place(_ file: FileSpec, in id: VariantID, _ disk: inout DiskBuilder) {
    let number = Int(file.sha256.hex, radix: 16) ?? 0
    let exists = disk.observed.blobs[file.sha256] != nil
    switch random.int(0...9) {
    case 0: break  // neither blob nor view
    case 1 where !exists: disk.blob(number, size: file.size)  // blob only
    case 2 where !exists:
      disk.blob(number, size: file.size, random.pick([.neverVerified, .modified]))
      disk.link(id, file.path, to: number)
    case 3 where !exists:
      disk.blob(number, size: file.size + Int64(random.int(1...99)), random.pick([.sizeChanged, .neverVerified]))
      disk.link(id, file.path, to: number)
    case 4: disk.copy(id, file.path, size: file.size, verified: random.chance(0.5) ? number : nil)
    case 5: disk.symlink(id, file.path)
    case 6 where exists: disk.otherDevice(id, file.path, sameInodeAs: number)
    case 7:
      let other = anyBlob(&disk, [file.size])
      disk.link(id, file.path, to: other)
    default:
      if !exists { disk.blob(number, size: file.size) }
      disk.link(id, file.path, to: number)
    }
  }

  /// A stored blob's number, storing a new one when there is none.
  mutating func anyBlob(_ disk: inout DiskBuilder, _ sizes: [Int64]) -> Int {
    let stored = disk.observed.blobs.keys.sorted()
    if !stored.isEmpty, random.chance(0.7) { return Int(random.pick(stored).hex, radix: 16) ?? 0 }
    let number = 500 + random.int(0...20)
    if disk.observed.blobs[PlanFixture.digest(number)] == nil { disk.blob(number, size: random.pick(sizes)) }
    return number
  }
}

/// After applying a plan, planning again yields no changes: the property that matters most.
@Suite struct PlannerConvergenceTests {
  static let seeds = Array(UInt64(1)...200)

  @Test(arguments: seeds)
  func planningAfterApplyHasNoChanges(seed: UInt64) throws {
    var generator = FleetGenerator(seed: seed)
    let fleet = generator.fleet()
    for (node, observed) in fleet.disks {
      let first: Plan
      switch Result(catching: { () throws(PlanError) in try Planner.plan(fleet.desired, observed, on: node, at: PlanFixture.now) }) {
      case .success(let plan): first = plan
      case .failure(.insufficientCapacity), .failure(.insufficientSpace): continue  // tight generated disks; error tests check these
      case .failure(let error): throw error
      }
      #expect(first.changes == first.changes.sorted { ($0.action, $0.subject) < ($1.action, $1.subject) })
      let applied = simulateApply(first, fleet.desired, observed)
      let second = try Planner.plan(fleet.desired, applied, on: node, at: PlanFixture.now)
      #expect(second.changes.map(ChangeLine.init) == [], "seed \(seed) node \(node): first plan \(first.changes.map(ChangeLine.init))")
      #expect(second.kept.map(\.variant) == first.kept.map(\.variant), "seed \(seed) node \(node)")
      try expectHoldsItsTarget(fleet.desired, applied, node: node, kept: second.kept.map(\.variant), seed: seed)
    }
  }

  @Test(arguments: seeds)
  func afterGraceRunsOutASecondRoundConvergesToo(seed: UInt64) throws {
    var generator = FleetGenerator(seed: seed)
    let fleet = generator.fleet()
    let later = PlanFixture.now.addingTimeInterval(49 * PlanFixture.hour)
    for (node, observed) in fleet.disks {
      guard let first = try? Planner.plan(fleet.desired, observed, on: node, at: PlanFixture.now) else { continue }
      let applied = simulateApply(first, fleet.desired, observed)
      guard let second = try? Planner.plan(fleet.desired, applied, on: node, at: later) else { continue }
      #expect(second.kept.allSatisfy { if case .inGracePeriod = $0.reason { false } else { true } }, "seed \(seed) node \(node)")
      let third = try Planner.plan(fleet.desired, simulateApply(second, fleet.desired, applied), on: node, at: later)
      #expect(third.changes.map(ChangeLine.init) == [], "seed \(seed) node \(node): second plan \(second.changes.map(ChangeLine.init))")
    }
  }

  /// Every file the node should hold is a hard link to a verified blob of its digest and size,
  /// and nothing else is on disk except what the plan keeps.
  func expectHoldsItsTarget(_ desired: DesiredState, _ applied: ObservedState, node: String, kept: [VariantID], seed: UInt64) throws {
    let target = try NodeTarget.resolve(desired, node: node)
    for id in target.variants {
      for file in desired.model(id.model)?.variant(id.variant)?.files ?? [] {
        let blob = applied.blobs[file.sha256]
        let view = applied.variants[id]?.files[file.path]
        #expect(blob?.verification == .verified && blob?.size == file.size, "seed \(seed) \(node) \(id) \(file.path)")
        #expect(blob.map { view?.isLink(to: $0) == true } == true, "seed \(seed) \(node) \(id) \(file.path)")
      }
      let declared = Set(desired.model(id.model)?.variant(id.variant)?.files.map(\.path) ?? [])
      let present = Set(applied.variants[id].map { Array($0.files.keys) } ?? [])
      #expect(present.isSubset(of: declared), "seed \(seed) \(node) \(id)")
    }
    #expect(Set(applied.variants.keys).isSubset(of: target.variants.union(kept)), "seed \(seed) \(node)")
  }

  @Test func generatedCasesCoverEveryAction() throws {
    var seen = Set<Action>()
    var reasons = Set<String>()
    var planned = 0
    for seed in Self.seeds {
      var generator = FleetGenerator(seed: seed)
      let fleet = generator.fleet()
      for (node, observed) in fleet.disks {
        guard let plan = try? Planner.plan(fleet.desired, observed, on: node, at: PlanFixture.now) else { continue }
        planned += 1
        seen.formUnion(plan.changes.map(\.action))
        reasons.formUnion(plan.changes.map(\.reason.kind) + plan.kept.map(\.reason.kind))
      }
    }
    #expect(seen == Set(Action.allCases))
    #expect(reasons == Set(["missing", "size-mismatch", "unverified", "view-missing", "view-differs", "not-desired", "node-draining", "disk-pressure", "not-in-variant", "pinned", "in-grace-period", "eviction-disabled", "tenant-dropped", "tenant-not-served"]))
    #expect(planned > 300)
  }
}
