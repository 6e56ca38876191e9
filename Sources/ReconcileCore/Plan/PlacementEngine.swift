/// Assigns each wanted variant to `replicas` nodes of a pool, the same way on every node.
///
/// Every agent of a fleet runs this with the same inputs and so computes the same assignment
/// without talking to the others.
public enum PlacementEngine {
  /// Which variants each node of `pool` that can take replicas holds. Without `replicas`, all of them.
  ///
  /// A node takes replicas unless it is draining (declared, or in the registry) or, with a
  /// `fleet` snapshot, not live and ready there (`me`, the node planning, always counts as
  /// live: it is running now). A variant goes only to nodes whose declared `vram` fits it, and
  /// stays on the live nodes that hold it verified (sticky) before new ones are chosen, so a
  /// join moves nothing and a leave moves only what the leaver held. `minFree` is the headroom
  /// every node keeps, so binpack fills a node only up to its disk minus it. The result does
  /// not depend on the order of any input.
  public static func assign(
    _ wanted: Set<VariantID>, sizes: [VariantID: Int64], vram: [VariantID: Int64] = [:], in pool: Pool, keeping minFree: Headroom = .bytes(0),
    fleet: FleetSnapshot? = nil, me: String? = nil
  ) -> [String: Set<VariantID>] {
    let nodes = pool.nodes.filter { node in
      guard !node.draining else { return false }
      // Without a snapshot, or with none cached while the registry is down: every declared node.
      guard let fleet, !(fleet.unavailable && fleet.nodes.isEmpty), node.name != me else { return true }
      return fleet.isLive(node.name) && fleet.node(node.name)?.heartbeat.state == .ready
    }.sorted { $0.name < $1.name }
    var result = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, Set<VariantID>()) })
    guard !nodes.isEmpty else { return result }
    let replicas = min(pool.replicas ?? nodes.count, nodes.count)
    func candidates(_ variant: VariantID) -> [PoolNode] {
      guard let needed = vram[variant] else { return nodes }
      return nodes.filter { ($0.vram ?? .max) >= needed }
    }
    func holders(_ variant: VariantID) -> Set<String> { Set(fleet?.holders(of: variant) ?? []) }
    switch pool.placement {
    case .spread:
      for variant in wanted {
        let key = keyHash(variant.description)
        let eligible = candidates(variant)
        let count = min(replicas, eligible.count)
        let held = holders(variant)
        // Holders first, by weight; then the heaviest others: a top-k pass, not a sort of every node.
        let sticky = eligible.filter { held.contains($0.name) }.map { (rendezvousWeight(keyed: key, $0.name), $0.name) }.sorted { $0 > $1 }.prefix(count)
        var fresh: [(UInt64, String)] = []
        let wantedFresh = count - sticky.count
        if wantedFresh > 0 {
          for node in eligible where !held.contains(node.name) {
            let weight = (rendezvousWeight(keyed: key, node.name), node.name)
            guard fresh.count < wantedFresh || weight > fresh[fresh.count - 1] else { continue }
            let position = fresh.firstIndex { weight > $0 } ?? fresh.count
            fresh.insert(weight, at: position)
            if fresh.count > wantedFresh { fresh.removeLast() }
          }
        }
        for (_, name) in sticky + fresh { result[name, default: []].insert(variant) }
      }
    case .leastLoaded, .binpack:
      // Largest first, ties by name, so the greedy result does not depend on set order.
      let ordered = wanted.sorted { (sizes[$0] ?? 0, $1) > (sizes[$1] ?? 0, $0) }
      var load = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, Int64(0)) })
      let disk = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0.disk - minFree.bytes(ofDisk: $0.disk)) })
      for variant in ordered {
        let size = sizes[variant] ?? 0
        let names = candidates(variant).map(\.name)
        let count = min(replicas, names.count)
        let held = holders(variant)
        let byLoad = { (list: [String]) in list.sorted { (load[$0] ?? 0, $0) < (load[$1] ?? 0, $1) } }
        let sticky = Array(byLoad(names.filter { held.contains($0) }).prefix(count))
        let others = names.filter { !held.contains($0) }
        let chosen: [String]
        if pool.placement == .leastLoaded {
          chosen = sticky + byLoad(others).prefix(count - sticky.count)
        } else {
          // Fullest node that still has room; when none has, the emptiest.
          let fits = others.filter { (load[$0] ?? 0) + size <= (disk[$0] ?? 0) }
          let fullest = fits.sorted { (load[$0] ?? 0, $1) > (load[$1] ?? 0, $0) }
          let rest = byLoad(others.filter { !fits.contains($0) })
          chosen = sticky + (fullest + rest).prefix(count - sticky.count)
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
    rendezvousWeight(keyed: keyHash(key), node)
  }

  /// The part of a weight that depends on the variant alone (FNV-1a of its key and a
  /// separator): computed once per variant, not once per node.
  static func keyHash(_ key: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return (hash ^ 0xff) &* 0x0000_0100_0000_01b3
  }

  /// The weight of `node` for the variant whose `keyHash` is `keyed`.
  static func rendezvousWeight(keyed: UInt64, _ node: String) -> UInt64 {
    var hash = keyed
    for byte in node.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    // Final avalanche (splitmix64) so that similar names do not give similar weights.
    hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
    hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
    return hash ^ (hash >> 31)
  }
}
