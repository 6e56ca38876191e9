import Foundation

/// Computes plans: pure functions of desired state, observed state, node and time.
public enum Planner {
  /// The changes that make `observed` match `desired` on `node`. No I/O.
  ///
  /// With a `fleet` snapshot, placement counts only live, ready nodes, and a variant that
  /// placement moved to other nodes leaves this one only once they hold it verified
  /// (make-before-break).
  public static func plan(_ desired: DesiredState, _ observed: ObservedState, on node: String, at now: Date, fleet: FleetSnapshot? = nil) throws(PlanError) -> Plan {
    let target = try NodeTarget.resolve(desired, node: node, fleet: fleet)
    let unlocked = target.variants.filter { desired.model($0.model)?.variant($0.variant)?.needsLock == true }.sorted()
    if !unlocked.isEmpty {
      let stale = unlocked.filter { desired.model($0.model)?.variant($0.variant)?.lock != nil }
      throw .unlocked(unlocked, stale: stale)
    }
    // Quotas are facts of the desired state: every node serving the tenant fails the same way.
    try TenantUsage.enforce(desired, servedBy: target.pool)
    let index = ObservedIndex(observed)
    let served = TenantUsage.served(by: target, in: desired)
    var changes = wantedChanges(desired, target, observed, index, charges: transferCharges(desired, target, served))
    var (evictions, kept) = unwanted(desired, target, observed, now: now, fleet: fleet)
    let usedNow = index.referencedBytes(observed.variants.keys)
    var usedAfter = projectedUse(desired, target, observed, index, keeping: kept.map(\.variant))

    let capacity = target.poolNode?.disk ?? observed.filesystem?.total
    let minFree = capacity.map { desired.policy.minFree.bytes(ofDisk: $0) } ?? 0
    if let capacity {
      // Under pressure, unwanted variants still in their grace period go early, least recently
      // used first; then, loudly, variants still waiting for their new nodes to verify them.
      func recency(_ kept: KeptVariant) -> (Date, VariantID) { (observed.lastUse[kept.variant] ?? .distantPast, kept.variant) }
      let graceful = kept.filter { if case .inGracePeriod = $0.reason { true } else { false } }.sorted { recency($0) < recency($1) }
      let waiting = kept.filter { if case .waitingForReplicas = $0.reason { true } else { false } }.sorted { recency($0) < recency($1) }
      for candidate in graceful + waiting where usedAfter > capacity - minFree && desired.policy.eviction != .none {
        let reason: Reason
        switch candidate.reason {
        case .inGracePeriod(let since): reason = .diskPressure(since: since)
        case .waitingForReplicas(let nodes): reason = .diskPressureBeforeReplicas(nodes: nodes)
        default: continue
        }
        kept.removeAll { $0.variant == candidate.variant }
        evictions.append(Change(action: .evict, subject: ChangeSubject(variant: candidate.variant), digest: nil, bytes: 0, reason: reason))
        usedAfter = projectedUse(desired, target, observed, index, keeping: kept.map(\.variant))
      }
      if usedAfter > capacity - minFree {
        let source = target.poolNode != nil ? "disk \(ByteFormat.binary(capacity, precision: 2))" : "filesystem \(ByteFormat.binary(capacity, precision: 2))"
        throw .insufficientCapacity(node: node, needed: usedAfter, available: max(0, capacity - minFree), detail: "\(source) minus min_free \(desired.policy.minFree)")
      }
    }

    // File-level evictions (files no longer listed) are among `changes`; variant evictions follow.
    changes = freedBytes(changes + evictions, desired, target, observed, index, keeping: kept.map(\.variant))
    if let filesystem = observed.filesystem {
      let downloads = changes.filter { $0.action == .download }.reduce(Int64(0)) { $0 + $1.bytes }
      // Only what is already written of a blob being downloaded is saved; a stale partial of another blob is not.
      var resumable: [Digest: Int64] = [:]
      for partial in observed.partials { resumable[partial.digest] = max(resumable[partial.digest] ?? 0, partial.bytes) }
      let partial = changes.filter { $0.action == .download }.reduce(Int64(0)) { $0 + min($1.bytes, $1.digest.flatMap { resumable[$0] } ?? 0) }
      let freed = changes.filter { $0.action == .evict }.reduce(Int64(0)) { $0 + $1.bytes }
      let headroom = desired.policy.minFree.bytes(ofDisk: filesystem.total)
      let needed = downloads - partial - freed
      if downloads > 0, needed > filesystem.available - headroom {
        throw .insufficientSpace(node: node, needed: needed, available: max(0, filesystem.available - headroom), detail: "min_free \(desired.policy.minFree) of the filesystem kept")
      }
    }
    changes = phased(changes, desired, observed, capacity: capacity, minFree: minFree, usedNow: usedNow)
    changes += tenantViewChanges(desired, target, observed, served)
    changes += cachePublications(desired, target, observed)
    changes.sort { ($0.action, $0.subject) < ($1.action, $1.subject) }
    kept = keptBytes(kept, desired, target, observed, index)
    kept.sort { $0.variant < $1.variant }
    let disk = DiskForecast(capacity: capacity, minFree: minFree, minFreeSetting: desired.policy.minFree.description, usedNow: usedNow, usedAfter: usedAfter)
    let requirements = NodeTarget.requirements(of: Array(target.variants), in: desired)
    let planned = PlannedTarget(
      variants: target.variants.sorted(), pinned: target.pinned.sorted(), tenants: target.servedTenants(in: desired).map(\.name),
      requires: requirements.isEmpty ? nil : requirements)
    var plan = Plan(node: node, pool: target.pool?.name, target: planned, createdAt: now, changes: changes, kept: kept, disk: disk)
    if target.leaving { plan.leaving = true }
    if let fleet, fleet.unavailable {
      plan.fleetUnavailable = true
      if !fleet.nodes.isEmpty { plan.fleetSnapshotAt = fleet.takenAt }
    }
    return plan
  }

  /// Sets each eviction's phase: before the downloads when the node drains, the disk is under
  /// pressure, or the filesystem or the node's capacity lacks the space the downloads need;
  /// otherwise after every download verified, so a failed upgrade keeps serving the old.
  static func phased(_ changes: [Change], _ desired: DesiredState, _ observed: ObservedState, capacity: Int64?, minFree: Int64, usedNow: Int64) -> [Change] {
    let downloads = changes.filter { $0.action == .download }.reduce(Int64(0)) { $0 + $1.bytes }
    var short = false
    if let filesystem = observed.filesystem {
      short = downloads > filesystem.available - desired.policy.minFree.bytes(ofDisk: filesystem.total)
    }
    if let capacity, usedNow + downloads > capacity - minFree { short = true }
    return changes.map { change in
      guard change.action == .evict else { return change }
      var change = change
      switch change.reason {
      case .nodeDraining, .diskPressure: change.phase = .beforeDownloads
      default: change.phase = short ? .beforeDownloads : .afterDownloads
      }
      return change
    }
  }

  /// Downloads, verifications and links for every file of every variant the node should hold.
  static func wantedChanges(
    _ desired: DesiredState, _ target: NodeTarget, _ observed: ObservedState, _ index: ObservedIndex, charges: [Digest: TransferCharge] = [:]
  ) -> [Change] {
    var changes: [Change] = []
    var claimed = Set<Digest>()  // digests another change already downloads or verifies
    var replaced = Set<Digest>()  // digests downloaded over a wrong blob: links to the old inode go stale
    let alternates = alternateSources(desired, target)
    for id in target.variants.sorted() {
      guard let model = desired.model(id.model), let variant = model.variant(id.variant) else { continue }
      // A locked variant is fetched from its source at the locked revision first.
      let sources = variant.lock.map { lock in [lock.source] + model.sources.filter { $0 != lock.source } } ?? model.sources
      for file in variant.files {
        let subject = ChangeSubject(variant: id, path: file.path)
        let view = observed.variants[id]?.files[file.path]
        let blob = observed.blobs[file.sha256]
        func change(_ action: Action, _ reason: Reason, bytes: Int64 = file.size) {
          // A verification that finds other content fetches the blob again, from the same sources.
          let fetches = action == .download || action == .verify
          var change = Change(action: action, subject: subject, digest: file.sha256, bytes: bytes, reason: reason, sources: fetches ? sources : [])
          if fetches {
            // Other models' sources come after this one's, once each; a Hub repository this
            // model already names is not tried again at another revision.
            let own = Set(sources.compactMap(hubRepository))
            let others = (alternates[file.sha256] ?? []).filter { hubRepository($0.source).map { !own.contains($0) } ?? true }
            let listed = Set(sources.map { "\($0.url)|\(file.path)" })
            let extra = others.filter { !listed.contains("\($0.source.url)|\($0.path)") }
            change.alternates = extra.isEmpty ? nil : extra
            change.charge = charges[file.sha256]
          }
          changes.append(change)
        }
        if claimed.contains(file.sha256) {
          if let blob, let view, view.isLink(to: blob), !replaced.contains(file.sha256) { continue }
          change(.link, view == nil ? .viewMissing : .viewDiffers, bytes: 0)
        } else if let blob, blob.size != file.size {
          claimed.insert(file.sha256)
          replaced.insert(file.sha256)
          change(.download, .sizeMismatch(expected: file.size, actual: blob.size))
        } else if let blob, blob.verification != .verified {
          claimed.insert(file.sha256)
          change(.verify, .unverified(blob.verification))
        } else if let blob {
          if let view, view.isLink(to: blob) { continue }
          change(.link, view == nil ? .viewMissing : .viewDiffers, bytes: 0)
        } else if let view, view.isRegularFile, view.verifiedDigest == file.sha256 {
          // The view holds verified content whose blob is gone: it becomes the blob again.
          claimed.insert(file.sha256)
          change(.link, .missing, bytes: 0)
        } else {
          claimed.insert(file.sha256)
          change(.download, .missing)
        }
      }
      let declared = Set(variant.files.map(\.path))
      for (path, file) in observed.variants[id]?.files ?? [:] where !declared.contains(path) && !PathRules.parents(of: path).contains(where: declared.contains) {
        changes.append(Change(action: .evict, subject: ChangeSubject(variant: id, path: path), digest: index.digest(of: file), bytes: 0, reason: .notInVariant))
      }
    }
    return changes
  }

  /// Variants on disk the node should not hold: evicted, or kept with the reason.
  static func unwanted(_ desired: DesiredState, _ target: NodeTarget, _ observed: ObservedState, now: Date, fleet: FleetSnapshot? = nil) -> ([Change], [KeptVariant]) {
    var evictions: [Change] = []
    var kept: [KeptVariant] = []
    for id in observed.variants.keys.sorted() where !target.variants.contains(id) {
      let since = observed.unwantedSince[id] ?? now
      if target.pinned.contains(id) {
        kept.append(KeptVariant(variant: id, bytes: 0, reason: .pinned))
      } else if let fleet, let waiting = waitingFor(id, target, fleet) {
        // Make-before-break: placement moved it to other nodes that do not hold it verified yet.
        kept.append(KeptVariant(variant: id, bytes: 0, reason: .waitingForReplicas(nodes: waiting)))
      } else if target.poolNode?.draining == true {
        evictions.append(Change(action: .evict, subject: ChangeSubject(variant: id), digest: nil, bytes: 0, reason: .nodeDraining))
      } else if target.leaving {
        evictions.append(Change(action: .evict, subject: ChangeSubject(variant: id), digest: nil, bytes: 0, reason: .nodeLeaving))
      } else if desired.policy.eviction == .none {
        kept.append(KeptVariant(variant: id, bytes: 0, reason: .evictionDisabled))
      } else if now.timeIntervalSince(since) >= Double(desired.policy.gcGrace) {
        evictions.append(Change(action: .evict, subject: ChangeSubject(variant: id), digest: nil, bytes: 0, reason: .notDesired(since: since)))
      } else {
        kept.append(KeptVariant(variant: id, bytes: 0, reason: .inGracePeriod(since: since), evictableAfter: since.addingTimeInterval(Double(desired.policy.gcGrace))))
      }
    }
    return (evictions, kept)
  }

  /// The nodes placement moved `id` to that do not hold it verified yet, when fewer than the
  /// pool's copies are verified on live nodes other than this one; nil when enough are, or
  /// when no other node is to hold it (the variant is simply no longer wanted).
  static func waitingFor(_ id: VariantID, _ target: NodeTarget, _ fleet: FleetSnapshot) -> [String]? {
    let assigned = target.assignment.filter { $0.key != target.node && $0.value.contains(id) }.map(\.key).sorted()
    guard !assigned.isEmpty else { return nil }
    // Nobody can tell whether they hold it: keep it.
    if fleet.unavailable { return assigned }
    let holders = Set(fleet.holders(of: id)).subtracting([target.node])
    guard holders.count < min(max(target.replicas, 1), assigned.count) else { return nil }
    return assigned.filter { !holders.contains($0) }
  }

  /// Fills in each kept variant's bytes: blobs that neither a wanted variant nor another kept
  /// variant uses, that is, what evicting it would free.
  static func keptBytes(_ kept: [KeptVariant], _ desired: DesiredState, _ target: NodeTarget, _ observed: ObservedState, _ index: ObservedIndex) -> [KeptVariant] {
    var users: [Digest: Int] = [:]
    for id in target.variants {
      for file in desired.model(id.model)?.variant(id.variant)?.files ?? [] { users[file.sha256, default: 0] += 2 }
    }
    for variant in kept {
      for digest in index.referencedDigests([variant.variant]).keys { users[digest, default: 0] += 1 }
    }
    return kept.map { variant in
      var variant = variant
      variant.bytes = index.referencedDigests([variant.variant]).filter { users[$0.key] == 1 }.values.reduce(0, +)
      return variant
    }
  }

  /// Bytes of the blobs the node's views reference after apply.
  static func projectedUse(_ desired: DesiredState, _ target: NodeTarget, _ observed: ObservedState, _ index: ObservedIndex, keeping kept: [VariantID]) -> Int64 {
    var sizes = index.referencedDigests(kept)
    for id in target.variants {
      for file in desired.model(id.model)?.variant(id.variant)?.files ?? [] { sizes[file.sha256] = file.size }
    }
    return sizes.values.reduce(0, +)
  }

  /// Fills in each eviction's freed bytes (blobs no remaining view uses, counted once) and the
  /// blobs it removes; other changes pass through.
  static func freedBytes(
    _ evictions: [Change], _ desired: DesiredState, _ target: NodeTarget, _ observed: ObservedState, _ index: ObservedIndex, keeping kept: [VariantID]
  ) -> [Change] {
    var remaining = Set(index.referencedDigests(kept).keys)
    for id in target.variants {
      for file in desired.model(id.model)?.variant(id.variant)?.files ?? [] { remaining.insert(file.sha256) }
    }
    var counted = Set<Digest>()
    return evictions.map { eviction in
      var eviction = eviction
      guard eviction.action == .evict else { return eviction }
      if eviction.subject.path != nil {
        // A file no longer listed: its blob goes unless a remaining view uses it.
        eviction.blobs = eviction.digest.flatMap { remaining.contains($0) ? nil : [$0] }
        return eviction
      }
      let files = observed.variants[eviction.subject.variant]?.files ?? [:]
      let digests = files.values.compactMap { index.digest(of: $0) }
      eviction.files = files.count
      eviction.bytes = Set(digests).filter { !remaining.contains($0) && counted.insert($0).inserted }.reduce(Int64(0)) { $0 + (observed.blobs[$1]?.size ?? 0) }
      // The blobs apply removes once the view is gone: those no remaining view uses.
      let removed = Set(digests).subtracting(remaining).sorted()
      eviction.blobs = removed.isEmpty ? nil : removed
      return eviction
    }
  }
}

/// Lookups over an observed state: which blob a view file is a link to.
public struct ObservedIndex: Sendable {
  let observed: ObservedState
  let byInode: [InodeKey: Digest]

  /// Indexes `observed`.
  public init(_ observed: ObservedState) {
    self.observed = observed
    var byInode: [InodeKey: Digest] = [:]
    for blob in observed.blobs.values { byInode[InodeKey(blob.fingerprint)] = blob.digest }
    self.byInode = byInode
  }

  /// The blob a view file is a link to, if any.
  public func digest(of file: ObservedFile) -> Digest? {
    byInode[InodeKey(file.fingerprint)]
  }

  /// Sizes of the blobs referenced by the views of `variants`.
  public func referencedDigests<S: Sequence>(_ variants: S) -> [Digest: Int64] where S.Element == VariantID {
    var sizes: [Digest: Int64] = [:]
    for id in variants {
      for file in observed.variants[id]?.files.values ?? [:].values {
        if let digest = digest(of: file) { sizes[digest] = observed.blobs[digest]?.size ?? 0 }
      }
    }
    return sizes
  }

  /// Bytes of the blobs referenced by the views of `variants`, each counted once.
  func referencedBytes<S: Sequence>(_ variants: S) -> Int64 where S.Element == VariantID {
    referencedDigests(variants).values.reduce(0, +)
  }
}
