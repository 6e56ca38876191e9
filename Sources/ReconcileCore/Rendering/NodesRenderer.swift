import Foundation

/// Renders the fleet's nodes for `reconcile nodes`: a table for people, a JSON document for scripts.
public enum NodesRenderer {
  /// A node is not ready once its heartbeat is older than this (the default `node_ttl`).
  public static let defaultTTL: Double = 15 * 60

  /// One row per node: name, pool, state (`not-ready` once the heartbeat is older than `ttl`),
  /// heartbeat age, disk used and free, VRAM, variants held verified, the last apply.
  public static func text(_ nodes: [FleetNode], now: Date, ttl: Double = defaultTTL) -> String {
    guard !nodes.isEmpty else { return "No nodes registered.\n" }
    let header = ["NODE", "POOL", "STATE", "HEARTBEAT", "DISK USED", "DISK FREE", "VRAM", "VARIANTS", "LAST APPLY", "COMMIT"]
    var rows = [header]
    for node in nodes {
      let beat = node.heartbeat
      let used = beat.diskTotal.flatMap { total in beat.diskFree.map { ByteFormat.binary(max(0, total - $0)) } } ?? "-"
      let apply = beat.lastApply.map { "\($0.outcome) \(Durations.ago($0.at, now: now)) ago" } ?? "-"
      rows.append([
        beat.node, beat.pool ?? "-", state(node, now: now, ttl: ttl), "\(Durations.ago(beat.at, now: now)) ago", used,
        beat.diskFree.map { ByteFormat.binary($0) } ?? "-", beat.vram.map { ByteFormat.binary($0) } ?? "-", "\(node.holdings.count)",
        apply, beat.desiredCommit.map { String($0.prefix(7)) } ?? "-",
      ])
    }
    return TextTable.render(rows)
  }

  /// The state a person should see: the registry's, or `not-ready` when the heartbeat is stale.
  public static func state(_ node: FleetNode, now: Date, ttl: Double) -> String {
    node.age(at: now) > ttl ? "not-ready" : node.heartbeat.state.rawValue
  }

  /// `{"formatVersion": 1, "nodes": [...]}` with each node's heartbeat, holdings, age and state.
  public static func json(_ nodes: [FleetNode], now: Date, ttl: Double = defaultTTL) throws -> String {
    struct Row: Encodable {
      var node: FleetNode
      var state: String
      var heartbeatAgeSeconds: Double
    }
    struct Document: Encodable {
      var formatVersion = 1
      var nodes: [Row]
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    let rows = nodes.map { Row(node: $0, state: state($0, now: now, ttl: ttl), heartbeatAgeSeconds: ($0.age(at: now) * 10).rounded() / 10) }
    return String(decoding: try encoder.encode(Document(nodes: rows)), as: UTF8.self) + "\n"
  }
}
