/// What one node should hold: the variants assigned to it and which variants are pinned.
public struct NodeTarget: Sendable, Hashable {
  /// The node's name.
  public var node: String
  /// The node's pool, when pools are declared.
  public var pool: Pool?
  /// The node's declaration in its pool.
  public var poolNode: PoolNode?
  /// The variants the node holds after apply, with everything they require.
  public var variants: Set<VariantID>
  /// Variants no one may evict: pinned by their model or by a tenant's reference.
  public var pinned: Set<VariantID>
  /// What every node of the pool holds after placement (empty without pools), to tell where a
  /// variant that leaves this node goes.
  public var assignment: [String: Set<VariantID>] = [:]
  /// Copies of each variant the pool keeps (`replicas`, else every node that takes replicas).
  public var replicas = 0
  /// True for a node the desired state no longer declares but the fleet registry knows: it
  /// holds nothing, evicts what it has once copies exist elsewhere, then deregisters.
  public var leaving = false

  /// Works out what `node` holds under `desired`.
  ///
  /// Without pools, the node holds what every tenant uses (every declared variant when there are
  /// no tenants). With pools, the node's pool places what the tenants it serves use on `replicas`
  /// of its nodes; a draining node holds nothing. Either way, `requires:` is followed.
  ///
  /// With a `fleet` snapshot, placement skips nodes that are not live and ready there and keeps
  /// variants on the nodes that hold them verified (see `PlacementEngine.assign`).
  /// `asSelf` says the node itself is planning (so it counts as live whatever its heartbeat);
  /// an outside view (`plan --fleet`) passes false.
  public static func resolve(_ desired: DesiredState, node: String, fleet: FleetSnapshot? = nil, asSelf: Bool = true) throws(PlanError) -> NodeTarget {
    guard !desired.pools.isEmpty else {
      let pinned = pinnedVariants(desired, servedBy: nil)
      let wanted = wantedVariants(desired, servedBy: nil)
      return NodeTarget(node: node, variants: closure(of: wanted, in: desired), pinned: pinned)
    }
    guard let pool = desired.pools.first(where: { $0.nodes.contains { $0.name == node } }),
      let poolNode = pool.nodes.first(where: { $0.name == node })
    else {
      guard let fleet, fleet.node(node) != nil else {
        throw .unknownNode(node, known: desired.pools.map { ($0.name, $0.nodes.map(\.name)) })
      }
      return leaving(desired, node: node, fleet: fleet)
    }
    let pinned = pinnedVariants(desired, servedBy: pool)
    let wanted = wantedVariants(desired, servedBy: pool)
    let assignment = PlacementEngine.assign(
      wanted, sizes: variantSizes(desired), vram: variantVRAM(desired), in: pool, keeping: desired.policy.minFree, fleet: fleet, me: asSelf ? node : nil)
    let models = Dictionary(uniqueKeysWithValues: desired.models.map { ($0.id, $0) })
    var target = NodeTarget(node: node, pool: pool, poolNode: poolNode, variants: closure(of: assignment[node] ?? [], models: models), pinned: pinned)
    target.assignment = assignment.mapValues { closure(of: $0, models: models) }
    target.replicas = min(pool.replicas ?? assignment.count, assignment.count)
    return target
  }

  /// The target of a node that is leaving the fleet: nothing, with every pool's assignment so
  /// that what it holds stays until the nodes taking it verified it.
  static func leaving(_ desired: DesiredState, node: String, fleet: FleetSnapshot) -> NodeTarget {
    var target = NodeTarget(node: node, variants: [], pinned: [])
    target.leaving = true
    for pool in desired.pools {
      let assignment = PlacementEngine.assign(
        wantedVariants(desired, servedBy: pool), sizes: variantSizes(desired), vram: variantVRAM(desired), in: pool,
        keeping: desired.policy.minFree, fleet: fleet, me: nil)
      let models = Dictionary(uniqueKeysWithValues: desired.models.map { ($0.id, $0) })
      for (name, variants) in assignment { target.assignment[name, default: []].formUnion(closure(of: variants, models: models)) }
    }
    // Every node a variant is placed on must hold it before the leaver lets it go.
    target.replicas = .max
    return target
  }

  /// What the tenants served by `pool` use (all tenants when `pool` is nil); every variant when
  /// no tenants are declared.
  static func wantedVariants(_ desired: DesiredState, servedBy pool: Pool?) -> Set<VariantID> {
    guard !desired.tenants.isEmpty else {
      return Set(desired.models.flatMap { model in model.variants.map { VariantID(model: model.id, variant: $0.name) } })
    }
    let models = Dictionary(uniqueKeysWithValues: desired.models.map { ($0.id, $0) })
    var wanted = Set<VariantID>()
    for tenant in desired.tenants where pool?.serves.contains(tenant.name) ?? true {
      for reference in tenant.models {
        if let id = resolve(reference, models) { wanted.insert(id) }
      }
    }
    return wanted
  }

  /// The variant a reference means, if its model declares it.
  static func resolve(_ reference: ModelReference, _ models: [ModelID: Model]) -> VariantID? {
    guard let model = models[reference.model], let name = reference.variant ?? model.implicitVariant,
      model.variant(name) != nil
    else { return nil }
    return VariantID(model: model.id, variant: name)
  }

  /// What each of `variants` requires, transitively (itself excluded), for those that require
  /// anything, in variant order.
  public static func requirements(of variants: [VariantID], in desired: DesiredState) -> [VariantRequirement] {
    let models = Dictionary(desired.models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    return variants.sorted().compactMap { variant in
      let required = closure(of: [variant], models: models).subtracting([variant])
      return required.isEmpty ? nil : VariantRequirement(variant: variant, requires: required.sorted())
    }
  }

  /// `variants` and everything they require, transitively.
  static func closure(of variants: Set<VariantID>, in desired: DesiredState) -> Set<VariantID> {
    closure(of: variants, models: Dictionary(uniqueKeysWithValues: desired.models.map { ($0.id, $0) }))
  }

  /// `variants` and everything they require, with the models already indexed; without any
  /// `requires:` among them, `variants` itself.
  static func closure(of variants: Set<VariantID>, models: [ModelID: Model]) -> Set<VariantID> {
    var result = variants
    var queue = Array(variants)
    while let next = queue.popLast() {
      for reference in models[next.model]?.requires ?? [] {
        if let id = resolve(reference, models), result.insert(id).inserted { queue.append(id) }
      }
    }
    return result
  }

  /// Variants pinned by their model, or by a reference of a tenant whose models this node's
  /// pool serves (any tenant's, without pools).
  static func pinnedVariants(_ desired: DesiredState, servedBy pool: Pool?) -> Set<VariantID> {
    let models = Dictionary(uniqueKeysWithValues: desired.models.map { ($0.id, $0) })
    var pinned = Set<VariantID>()
    for model in desired.models where model.pin {
      for variant in model.variants { pinned.insert(VariantID(model: model.id, variant: variant.name)) }
    }
    for tenant in desired.tenants where pool?.serves.contains(tenant.name) ?? true {
      for reference in tenant.models where reference.pin {
        if let id = resolve(reference, models) { pinned.insert(id) }
      }
    }
    return pinned
  }

  /// The GPU memory each variant that declares one needs.
  static func variantVRAM(_ desired: DesiredState) -> [VariantID: Int64] {
    var vram: [VariantID: Int64] = [:]
    for model in desired.models {
      for variant in model.variants { if let needed = variant.vram { vram[VariantID(model: model.id, variant: variant.name)] = needed } }
    }
    return vram
  }

  static func variantSizes(_ desired: DesiredState) -> [VariantID: Int64] {
    var sizes: [VariantID: Int64] = .init(minimumCapacity: desired.models.count * 2)
    for model in desired.models {
      for variant in model.variants { sizes[VariantID(model: model.id, variant: variant.name)] = variant.uniqueBytes }
    }
    return sizes
  }
}

/// Why a plan could not be made.
public enum PlanError: Error, Sendable, Hashable, CustomStringConvertible {
  /// `--node` names no node of any pool.
  case unknownNode(String, known: [(pool: String, nodes: [String])])
  /// The desired set does not fit the node's disk minus its headroom.
  case insufficientCapacity(node: String, needed: Int64, available: Int64, detail: String)
  /// The filesystem holding the root has less free space than the downloads need.
  case insufficientSpace(node: String, needed: Int64, available: Int64, detail: String)
  /// Variants the node needs list `include:` globs without a lock, or with a lock made for other globs.
  case unlocked([VariantID], stale: [VariantID])
  /// A tenant's models need more disk or more model variants than its quota allows; `origin`
  /// says where the limit comes from (`tier pro`, `its quota:`).
  case quotaExceeded(tenant: String, what: QuotaField, needed: Int64, limit: Int64, origin: String)
  /// More than one problem, each reported.
  indirect case several([PlanError])

  public var description: String {
    switch self {
    case .unknownNode(let node, let known):
      let list = known.map { "\($0.pool): \($0.nodes.joined(separator: ", "))" }.joined(separator: "; ")
      return "node '\(node)' is not in any pool (\(list)); pass --node with one of these names or add the node to a pool"
    case .insufficientCapacity(let node, let needed, let available, let detail):
      return "node '\(node)' needs \(ByteFormat.binary(needed, precision: 2)) (\(needed) bytes) for its desired models but has \(ByteFormat.binary(available, precision: 2)) (\(available) bytes) available (\(detail)); add disk, lower replicas, or move tenants to another pool"
    case .unlocked(let variants, let stale):
      let models = Array(Set(variants.map(\.model.description))).sorted().joined(separator: " ")
      let list = variants.map { stale.contains($0) ? "\($0) (include: changed since it was locked)" : "\($0)" }.joined(separator: ", ")
      return "\(list) list\(variants.count == 1 ? "s" : "") include: globs but \(variants.count == 1 ? "is" : "are") not locked; run 'reconcile lock \(models)' and commit the lock file it writes"
    case .insufficientSpace(let node, let needed, let available, let detail):
      return "node '\(node)' needs \(ByteFormat.binary(needed, precision: 2)) (\(needed) bytes) more on its filesystem but only \(ByteFormat.binary(available, precision: 2)) (\(available) bytes) is free (\(detail)); free space on the filesystem first"
    case .several(let errors):
      return "\(errors.count) problems:" + errors.map { "\n  \($0.description)" }.joined()
    case .quotaExceeded(let tenant, let what, let needed, let limit, let origin):
      switch what {
      case .disk:
        return "tenant '\(tenant)' needs \(ByteFormat.binary(needed, precision: 2)) (\(needed) bytes) for its models but its disk quota is \(ByteFormat.binary(limit, precision: 2)) (\(limit) bytes; \(origin)); raise the quota or drop models"
      case .models:
        return "tenant '\(tenant)' needs \(needed) model variant\(needed == 1 ? "" : "s") (with what they require) but its model quota is \(limit) (\(origin)); raise the quota or drop models"
      case .concurrentDownloads, .bandwidth:
        return "tenant '\(tenant)' needs \(needed) but its \(what.rawValue) quota is \(limit) (\(origin))"
      }
    }
  }

  public static func == (lhs: PlanError, rhs: PlanError) -> Bool { lhs.description == rhs.description }
  public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
