import Foundation

/// What the fleet registry said about every node when a plan was made: who is alive and ready,
/// and who holds which variant verified. Placement and make-before-break read it; without one
/// (a node without a registry), every declared node counts as ready and holding nothing.
public struct FleetSnapshot: Sendable, Hashable, Codable {
  /// The registered nodes, in name order.
  public var nodes: [FleetNode] { didSet { index() } }
  /// When the snapshot was read.
  public var takenAt: Date { didSet { index() } }
  /// Seconds after its last heartbeat that a node stops counting (`policy.fleet.node_ttl`).
  public var ttl: Double { didSet { index() } }
  /// True when the registry could not be read: placement then takes every declared node as
  /// ready, and nothing placed elsewhere is evicted, since no one can tell whether it has
  /// copies elsewhere.
  public var unavailable: Bool

  // Indexes rebuilt whenever the snapshot changes: placement asks these for every variant.
  private var byName: [String: Int] = [:]
  private var live: Set<String> = []
  private var held: [VariantID: [String]] = [:]

  private enum CodingKeys: String, CodingKey { case nodes, takenAt, ttl, unavailable }

  /// Creates a snapshot.
  public init(nodes: [FleetNode], takenAt: Date, ttl: Double, unavailable: Bool = false) {
    self.nodes = nodes.sorted { $0.heartbeat.node < $1.heartbeat.node }
    self.takenAt = takenAt
    self.ttl = ttl
    self.unavailable = unavailable
    index()
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      nodes: try container.decode([FleetNode].self, forKey: .nodes), takenAt: try container.decode(Date.self, forKey: .takenAt),
      ttl: try container.decode(Double.self, forKey: .ttl), unavailable: try container.decode(Bool.self, forKey: .unavailable))
  }

  /// The snapshot of a fleet whose registry did not answer.
  public static func unavailable(at date: Date) -> FleetSnapshot { FleetSnapshot(nodes: [], takenAt: date, ttl: 0, unavailable: true) }

  /// The registry's record of `name`.
  public func node(_ name: String) -> FleetNode? { byName[name].map { nodes[$0] } }

  /// Whether `name` reported within the TTL and is not leaving.
  public func isLive(_ name: String) -> Bool { live.contains(name) }

  /// Live nodes that hold `variant` verified, in name order.
  public func holders(of variant: VariantID) -> [String] { held[variant] ?? [] }

  private mutating func index() {
    byName = [:]
    live = []
    held = [:]
    for (position, node) in nodes.enumerated() {
      let name = node.heartbeat.node
      byName[name] = position
      guard node.age(at: takenAt) <= ttl, node.heartbeat.state != .leaving else { continue }
      live.insert(name)
      for holding in node.holdings { held[holding.variant, default: []].append(name) }
    }
    for variant in held.keys { held[variant]?.sort() }
  }
}
