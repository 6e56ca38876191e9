/// What one tenant is charged for under its quota, and its limits.
///
/// A tenant is charged the full size of every distinct file of the variants it references and
/// of everything those require, each digest counted once for the tenant. A file shared with
/// another tenant is stored once on the node, but each tenant is charged for it in full: a
/// tenant's usage does not depend on who else happens to use the same files. The model count
/// is the number of distinct model variants, `requires:` included.
public struct TenantUsage: Sendable, Hashable, Codable {
  /// The tenant's name.
  public var tenant: String
  /// The unix group that owns the tenant's view, when it names one.
  public var group: String?
  /// The variants it references, in order.
  public var referenced: [VariantID]
  /// The variants it references and everything they require, in order.
  public var variants: [VariantID]
  /// Bytes charged: every distinct digest of `variants` once.
  public var bytes: Int64
  /// Model variants charged: the count of `variants`.
  public var models: Int
  /// Its limits and where each comes from.
  public var quota: EffectiveQuota

  /// Creates a usage record.
  public init(tenant: String, group: String?, referenced: [VariantID], variants: [VariantID], bytes: Int64, models: Int, quota: EffectiveQuota) {
    self.tenant = tenant
    self.group = group
    self.referenced = referenced
    self.variants = variants
    self.bytes = bytes
    self.models = models
    self.quota = quota
  }

  /// The usage of every tenant of `desired`, in name order. No I/O.
  public static func compute(_ desired: DesiredState) -> [TenantUsage] {
    let models = Dictionary(desired.models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    return desired.tenants.sorted { $0.name < $1.name }.map { usage(of: $0, desired, models) }
  }

  /// The usage of every tenant `target`'s node serves, in name order, with one index of the models.
  public static func served(by target: NodeTarget, in desired: DesiredState) -> [TenantUsage] {
    let models = Dictionary(desired.models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    return target.servedTenants(in: desired).map { usage(of: $0, desired, models) }
  }

  /// The usage of `tenant` under `desired`.
  public static func of(_ tenant: Tenant, in desired: DesiredState) -> TenantUsage {
    usage(of: tenant, desired, Dictionary(desired.models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }))
  }

  static func usage(of tenant: Tenant, _ desired: DesiredState, _ models: [ModelID: Model]) -> TenantUsage {
    let referenced = Set(tenant.models.compactMap { NodeTarget.resolve($0, models) })
    var closure = referenced
    var queue = Array(referenced)
    while let next = queue.popLast() {
      for reference in models[next.model]?.requires ?? [] {
        if let id = NodeTarget.resolve(reference, models), closure.insert(id).inserted { queue.append(id) }
      }
    }
    var seen = Set<Digest>()
    var bytes: Int64 = 0
    for id in closure {
      for file in models[id.model]?.variant(id.variant)?.files ?? [] where seen.insert(file.sha256).inserted {
        bytes += file.size
      }
    }
    return TenantUsage(
      tenant: tenant.name, group: tenant.group, referenced: referenced.sorted(), variants: closure.sorted(), bytes: bytes,
      models: closure.count, quota: EffectiveQuota(tenant, policy: desired.policy))
  }

  /// Fails with the first exceeded limit: disk, then model count.
  public func check() throws(PlanError) {
    if let limit = quota.disk, bytes > limit.value {
      throw .quotaExceeded(tenant: tenant, what: .disk, needed: bytes, limit: limit.value, origin: quota.origin(of: .disk) ?? "")
    }
    if let limit = quota.models, Int64(models) > limit.value {
      throw .quotaExceeded(tenant: tenant, what: .models, needed: Int64(models), limit: limit.value, origin: quota.origin(of: .models) ?? "")
    }
  }

  /// Fails when a tenant that `pool` serves (every tenant when `pool` is nil) needs more disk
  /// or more model variants than its quota allows; every tenant over a limit is named, in name
  /// order, with the first limit it exceeds.
  public static func enforce(_ desired: DesiredState, servedBy pool: Pool?) throws(PlanError) {
    guard desired.tenants.contains(where: { $0.tier != nil || $0.quota != nil }) else { return }
    let models = Dictionary(desired.models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    var violations: [PlanError] = []
    for tenant in desired.tenants.sorted(by: { $0.name < $1.name }) where pool?.serves.contains(tenant.name) ?? true {
      do throws(PlanError) {
        try usage(of: tenant, desired, models).check()
      } catch {
        violations.append(error)
      }
    }
    if violations.count == 1, let only = violations.first { throw only }
    if !violations.isEmpty { throw .several(violations) }
  }
}

extension NodeTarget {
  /// The tenants whose models this node's pool serves (every tenant without pools), in name order.
  public func servedTenants(in desired: DesiredState) -> [Tenant] {
    Self.tenants(servedBy: pool, in: desired)
  }

  /// The tenants whose models `pool` serves (every tenant when `pool` is nil), in name order:
  /// they depend on the pool alone, not on placement.
  public static func tenants(servedBy pool: Pool?, in desired: DesiredState) -> [Tenant] {
    desired.tenants.filter { pool?.serves.contains($0.name) ?? true }.sorted { $0.name < $1.name }
  }
}
