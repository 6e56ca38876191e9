/// Where each declared thing was written, so later checks can point at it.
public struct SourceMap: Sendable, Hashable {
  /// Where each model's `name` is.
  public var models: [ModelID: SourceLocation] = [:]
  /// Where each model's `default_variant` value is.
  public var defaultVariants: [ModelID: SourceLocation] = [:]
  /// Where each item of a model's `requires` is, in order.
  public var requires: [ModelID: [SourceLocation]] = [:]
  /// Where each tenant's `name` is.
  public var tenants: [String: SourceLocation] = [:]
  /// Where each tenant's `tier` value is.
  public var tenantTiers: [String: SourceLocation] = [:]
  /// Where each item of a tenant's `models` is, in order.
  public var tenantModels: [String: [SourceLocation]] = [:]
  /// Where each pool's `name` is.
  public var pools: [String: SourceLocation] = [:]
  /// Where each item of a pool's `serves` is, in order.
  public var poolServes: [String: [SourceLocation]] = [:]
  /// Where each pool's `replicas` value is.
  public var poolReplicas: [String: SourceLocation] = [:]
  /// Where each file's `sha256` value is, by variant and then path.
  public var files: [VariantID: [String: SourceLocation]] = [:]
  /// Where each node's `name` is.
  public var nodes: [String: SourceLocation] = [:]
  /// Where the `policy` key is.
  public var policy: SourceLocation?

  /// Creates an empty map.
  public init() {}

  /// Adds `other`'s entries where this map has none.
  mutating func merge(_ other: SourceMap) {
    models.merge(other.models) { old, _ in old }
    defaultVariants.merge(other.defaultVariants) { old, _ in old }
    requires.merge(other.requires) { old, _ in old }
    tenants.merge(other.tenants) { old, _ in old }
    tenantTiers.merge(other.tenantTiers) { old, _ in old }
    tenantModels.merge(other.tenantModels) { old, _ in old }
    pools.merge(other.pools) { old, _ in old }
    poolServes.merge(other.poolServes) { old, _ in old }
    poolReplicas.merge(other.poolReplicas) { old, _ in old }
    files.merge(other.files) { old, _ in old }
    nodes.merge(other.nodes) { old, _ in old }
    policy = policy ?? other.policy
  }
}
