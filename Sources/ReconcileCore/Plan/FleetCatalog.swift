import Foundation

/// Which live nodes hold each wanted variant verified, against the copies the desired state asks
/// for: what `reconcile catalog` shows and alerts on. No I/O.
public enum FleetCatalog {
  /// One variant in one pool (or in the whole fleet, without pools).
  public struct Entry: Sendable, Hashable, Codable {
    /// The variant.
    public var variant: VariantID
    /// The pool, when pools are declared.
    public var pool: String?
    /// Copies the desired state asks for: `replicas`, else every ready node of the pool.
    public var declared: Int
    /// Live nodes of the pool that hold it verified, in name order.
    public var holders: [String]
    /// `ok`, `under-replicated` or `over-replicated`.
    public var status: Status

    /// How the actual copies compare to the declared ones.
    public enum Status: String, Sendable, Hashable, Codable {
      case ok
      case underReplicated = "under-replicated"
      case overReplicated = "over-replicated"
    }

    /// Creates an entry, its status from the counts.
    public init(variant: VariantID, pool: String?, declared: Int, holders: [String]) {
      self.variant = variant
      self.pool = pool
      self.declared = declared
      self.holders = holders
      status = holders.count < declared ? .underReplicated : holders.count > declared ? .overReplicated : .ok
    }
  }

  /// Every variant a pool serves (every wanted variant, with what it requires), in variant and
  /// pool order; `matching` keeps only some.
  public static func entries(_ desired: DesiredState, _ fleet: FleetSnapshot, matching: (VariantID) -> Bool = { _ in true }) -> [Entry] {
    var entries: [Entry] = []
    if desired.pools.isEmpty {
      let live = fleet.nodes.map(\.heartbeat.node).filter(fleet.isLive)
      let wanted = NodeTarget.closure(of: NodeTarget.wantedVariants(desired, servedBy: nil), in: desired)
      for variant in wanted.sorted() where matching(variant) {
        entries.append(Entry(variant: variant, pool: nil, declared: live.count, holders: fleet.holders(of: variant)))
      }
      return entries
    }
    for pool in desired.pools.sorted(by: { $0.name < $1.name }) {
      let members = Set(pool.nodes.map(\.name))
      let ready = pool.nodes.filter { !$0.draining && fleet.isLive($0.name) && fleet.node($0.name)?.heartbeat.state == .ready }
      let wanted = NodeTarget.closure(of: NodeTarget.wantedVariants(desired, servedBy: pool), in: desired)
      for variant in wanted.sorted() where matching(variant) {
        let declared = pool.replicas.map { min($0, pool.nodes.count) } ?? ready.count
        entries.append(Entry(variant: variant, pool: pool.name, declared: declared, holders: fleet.holders(of: variant).filter(members.contains)))
      }
    }
    return entries.sorted { ($0.variant, $0.pool ?? "") < ($1.variant, $1.pool ?? "") }
  }

  /// The ready, live node that holds `variant` verified with the most free disk (ties by name):
  /// what a router asks. Nil when no such node.
  public static func pickLeastLoaded(_ matching: (VariantID) -> Bool, in fleet: FleetSnapshot) -> String? {
    let candidates = fleet.nodes.filter { node in
      fleet.isLive(node.heartbeat.node) && node.heartbeat.state == .ready && node.holdings.contains { matching($0.variant) }
    }
    return candidates.max { ($0.heartbeat.diskFree ?? 0, $1.heartbeat.node) < ($1.heartbeat.diskFree ?? 0, $0.heartbeat.node) }?.heartbeat.node
  }

  /// A table: variant, pool, declared and actual copies, the nodes, the status.
  public static func text(_ entries: [Entry]) -> String {
    guard !entries.isEmpty else { return "No variants are wanted.\n" }
    var rows = [["VARIANT", "POOL", "DECLARED", "ACTUAL", "NODES", "STATUS"]]
    for entry in entries {
      rows.append([
        entry.variant.description, entry.pool ?? "-", "\(entry.declared)", "\(entry.holders.count)",
        entry.holders.isEmpty ? "-" : entry.holders.joined(separator: ","), entry.status.rawValue,
      ])
    }
    var out = TextTable.render(rows)
    let under = entries.filter { $0.status == .underReplicated }.count
    out += "\n\(entries.count) variant\(entries.count == 1 ? "" : "s"); \(under) under-replicated, \(entries.filter { $0.status == .overReplicated }.count) over-replicated.\n"
    return out
  }

  /// `{"formatVersion": 1, "variants": [...]}`.
  public static func json(_ entries: [Entry]) throws -> String {
    struct Document: Encodable {
      var formatVersion = 1
      var variants: [Entry]
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(Document(variants: entries)), as: UTF8.self) + "\n"
  }
}
