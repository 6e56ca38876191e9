import Foundation

/// What the fleet registry said about every node when a plan was made: who is alive and ready,
/// and who holds which variant verified. Placement and make-before-break read it; without one
/// (a node without a registry), every declared node counts as ready and holding nothing.
public struct FleetSnapshot: Sendable, Hashable, Codable {
  /// The registered nodes, in name order.
  public var nodes: [FleetNode]
  /// When the snapshot was read.
  public var takenAt: Date
  /// Seconds after its last heartbeat that a node stops counting (`policy.fleet.node_ttl`).
  public var ttl: Double
  /// True when the registry could not be read: placement then takes every declared node as
  /// ready, and nothing placed elsewhere is evicted, since no one can tell whether it has
  /// copies elsewhere.
  public var unavailable: Bool

  /// Creates a snapshot.
  public init(nodes: [FleetNode], takenAt: Date, ttl: Double, unavailable: Bool = false) {
    self.nodes = nodes.sorted { $0.heartbeat.node < $1.heartbeat.node }
    self.takenAt = takenAt
    self.ttl = ttl
    self.unavailable = unavailable
  }

  /// The snapshot of a fleet whose registry did not answer.
  public static func unavailable(at date: Date) -> FleetSnapshot { FleetSnapshot(nodes: [], takenAt: date, ttl: 0, unavailable: true) }

  /// The registry's record of `name`.
  public func node(_ name: String) -> FleetNode? { nodes.first { $0.heartbeat.node == name } }

  /// Whether `name` reported within the TTL and is not leaving.
  public func isLive(_ name: String) -> Bool {
    guard let node = node(name) else { return false }
    return node.age(at: takenAt) <= ttl && node.heartbeat.state != .leaving
  }

  /// Live nodes that hold `variant` verified, in name order.
  public func holders(of variant: VariantID) -> [String] {
    nodes.filter { isLive($0.heartbeat.node) && $0.holdings.contains { $0.variant == variant } }.map(\.heartbeat.node)
  }
}
