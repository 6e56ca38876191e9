/// Assigns each wanted variant to `replicas` nodes of a pool, the same way on every node.
///
/// Every agent of a fleet runs this with the same inputs and so computes the same assignment
/// without talking to the others.
public enum PlacementEngine {
  /// Which variants each non-draining node of `pool` holds. Without `replicas`, all of them.
  ///
  /// `minFree` is the headroom every node keeps, so binpack fills a node only up to its disk minus it.
  public static func assign(_ wanted: Set<VariantID>, sizes: [VariantID: Int64], in pool: Pool, keeping minFree: Headroom = .bytes(0)) -> [String: Set<VariantID>] {
    let nodes = pool.nodes.filter { !$0.draining }
    var result = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, Set<VariantID>()) })
    guard !nodes.isEmpty else { return result }
    let replicas = min(pool.replicas ?? nodes.count, nodes.count)
    if replicas == nodes.count {
      for node in nodes { result[node.name] = wanted }
      return result
    }
    switch pool.placement {
    case .spread:
      for variant in wanted {
        let key = variant.description
        let ranked = nodes.map { (rendezvousWeight(key, $0.name), $0.name) }.sorted { $0 > $1 }
        for (_, name) in ranked.prefix(replicas) { result[name, default: []].insert(variant) }
      }
    case .leastLoaded, .binpack:
      // Largest first, ties by name, so the greedy result does not depend on set order.
      let ordered = wanted.sorted { (sizes[$0] ?? 0, $1) > (sizes[$1] ?? 0, $0) }
      var load = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, Int64(0)) })
      let disk = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0.disk - minFree.bytes(ofDisk: $0.disk)) })
      for variant in ordered {
        let size = sizes[variant] ?? 0
        let chosen: [String]
        if pool.placement == .leastLoaded {
          chosen = nodes.map(\.name).sorted { (load[$0] ?? 0, $0) < (load[$1] ?? 0, $1) }.prefix(replicas).map { $0 }
        } else {
          // Fullest node that still has room; when none has, the emptiest.
          let fits = nodes.map(\.name).filter { (load[$0] ?? 0) + size <= (disk[$0] ?? 0) }
          let fullest = fits.sorted { (load[$0] ?? 0, $1) > (load[$1] ?? 0, $0) }
          let rest = nodes.map(\.name).filter { !fits.contains($0) }.sorted { (load[$0] ?? 0, $0) < (load[$1] ?? 0, $1) }
          chosen = Array((fullest + rest).prefix(replicas))
        }
        for name in chosen {
          result[name, default: []].insert(variant)
          load[name, default: 0] += size
        }
      }
    }
    return result
  }

  /// Highest-random-weight hashing: a stable pseudo-random weight per (variant, node).
  static func rendezvousWeight(_ key: String, _ node: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    hash = (hash ^ 0xff) &* 0x0000_0100_0000_01b3
    for byte in node.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    // Final avalanche (splitmix64) so that similar names do not give similar weights.
    hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
    hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
    return hash ^ (hash >> 31)
  }
}
