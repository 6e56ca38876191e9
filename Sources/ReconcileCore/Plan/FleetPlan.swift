import Foundation

/// Every node's share of the desired state and the moves between nodes, as one document: what
/// `reconcile plan --fleet` shows a reviewer of a desired-state change, from any machine. No I/O.
public struct FleetPlan: Sendable, Hashable, Codable {
  /// The version of this document's shape.
  public var formatVersion = 1
  /// When the registry was read, or nil without one (every declared node taken as ready).
  public var snapshotAt: Date?
  /// Every declared node, in pool and name order.
  public var nodes: [Share]

  /// One node's share.
  public struct Share: Sendable, Hashable, Codable {
    /// The node.
    public var node: String
    /// Its pool.
    public var pool: String
    /// `ready`, `draining`, or `not-ready` (no heartbeat within the TTL).
    public var state: String
    /// What it holds after its next apply.
    public var variants: [VariantID]
    /// Variants it will download: placed on it, not held verified yet.
    public var adds: [VariantID]
    /// Variants it holds that placement gave to other nodes, each with the nodes that take it.
    public var drops: [Move]
  }

  /// A variant leaving a node, and where it goes.
  public struct Move: Sendable, Hashable, Codable {
    /// The variant.
    public var variant: VariantID
    /// The nodes placement gives it to that do not hold it verified yet; the drop waits for them.
    public var to: [String]
  }

  /// The shares under `desired`, with `fleet` telling who is alive and holds what. Placement
  /// runs once per pool (an outside view: no node counts as itself).
  public static func make(_ desired: DesiredState, fleet: FleetSnapshot?) throws(PlanError) -> FleetPlan {
    let models = Dictionary(uniqueKeysWithValues: desired.models.map { ($0.id, $0) })
    var shares: [Share] = []
    for pool in desired.pools.sorted(by: { $0.name < $1.name }) {
      let placed = PlacementEngine.assign(
        NodeTarget.wantedVariants(desired, servedBy: pool), sizes: NodeTarget.variantSizes(desired), vram: NodeTarget.variantVRAM(desired),
        in: pool, keeping: desired.policy.minFree, fleet: fleet, me: nil
      ).mapValues { NodeTarget.closure(of: $0, models: models) }
      var holders: [VariantID: Set<String>] = [:]
      for node in fleet?.nodes ?? [] where fleet?.isLive(node.heartbeat.node) == true {
        for held in node.holdings { holders[held.variant, default: []].insert(node.heartbeat.node) }
      }
      for declared in pool.nodes.sorted(by: { $0.name < $1.name }) {
        let variants = placed[declared.name] ?? []
        let held = Set(fleet?.node(declared.name)?.holdings.map(\.variant) ?? [])
        let state = declared.draining ? "draining" : fleet.map { $0.isLive(declared.name) ? ($0.node(declared.name)?.heartbeat.state.rawValue ?? "ready") : "not-ready" } ?? "ready"
        let drops = held.subtracting(variants).sorted().map { variant in
          Move(variant: variant, to: placed.filter { $0.key != declared.name && $0.value.contains(variant) && !(holders[variant]?.contains($0.key) ?? false) }.map(\.key).sorted())
        }
        shares.append(Share(node: declared.name, pool: pool.name, state: state, variants: variants.sorted(), adds: variants.subtracting(held).sorted(), drops: drops))
      }
    }
    return FleetPlan(snapshotAt: fleet?.takenAt, nodes: shares)
  }

  /// Per node: its state and share, then `+ variant` for each add and `- variant (to …)` for
  /// each drop; a summary of the moves last.
  public func text() -> String {
    var out = "reconcile plan --fleet — \(nodes.count) node\(nodes.count == 1 ? "" : "s")"
    out += snapshotAt == nil ? " (no fleet registry: every declared node taken as ready)\n" : "\n"
    for share in nodes {
      out += "\n  \(share.node) (pool \(share.pool), \(share.state)): \(share.variants.count) variant\(share.variants.count == 1 ? "" : "s")\n"
      for variant in share.adds { out += "    + \(variant)\n" }
      for move in share.drops {
        out += "    - \(move.variant)" + (move.to.isEmpty ? "\n" : "  (after \(Reason.list(move.to)) verified it)\n")
      }
    }
    let adds = nodes.reduce(0) { $0 + $1.adds.count }
    let drops = nodes.reduce(0) { $0 + $1.drops.count }
    out += "\nFleet: \(adds) to place, \(drops) to drop.\n"
    return out
  }

  /// The JSON document, keys sorted, ISO 8601 dates.
  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
  }
}
