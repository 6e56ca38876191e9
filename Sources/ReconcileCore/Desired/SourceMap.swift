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
    Self.keep(&models, adding: other.models)
    Self.keep(&defaultVariants, adding: other.defaultVariants)
    Self.keep(&requires, adding: other.requires)
    Self.keep(&tenants, adding: other.tenants)
    Self.keep(&tenantTiers, adding: other.tenantTiers)
    Self.keep(&tenantModels, adding: other.tenantModels)
    Self.keep(&pools, adding: other.pools)
    Self.keep(&poolServes, adding: other.poolServes)
    Self.keep(&poolReplicas, adding: other.poolReplicas)
    Self.keep(&files, adding: other.files)
    Self.keep(&nodes, adding: other.nodes)
    policy = policy ?? other.policy
  }

  /// `other`'s entries added where `mine` has none; taken whole when `mine` is empty, as it is
  /// for the first file (often the only large one).
  private static func keep<Key, Value>(_ mine: inout [Key: Value], adding other: [Key: Value]) {
    if mine.isEmpty {
      mine = other
    } else {
      mine.merge(other) { old, _ in old }
    }
  }
}
