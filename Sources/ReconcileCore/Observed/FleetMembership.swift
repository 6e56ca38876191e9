import Foundation

/// A node's state in the fleet registry.
public enum NodeState: String, Sendable, Hashable, Codable, CaseIterable {
  /// Takes replicas.
  case ready
  /// Keeps what it has until replicas elsewhere verified it, takes nothing new.
  case draining
  /// No longer declared: evicts everything, then deregisters.
  case leaving
}

/// What a node reports about itself on every plan and apply in fleet mode.
public struct NodeHeartbeat: Sendable, Hashable, Codable {
  /// The node's name.
  public var node: String
  /// Its pool, when it is declared in one.
  public var pool: String?
  /// Its state.
  public var state: NodeState
  /// Bytes of the filesystem holding its root, and free, when known.
  public var diskTotal: Int64?
  /// Free bytes of that filesystem.
  public var diskFree: Int64?
  /// GPU memory, from its pool declaration.
  public var vram: Int64?
  /// Its labels, from its pool declaration.
  public var labels: [String: String] = [:]
  /// The reconcile version that sent it.
  public var agentVersion: String
  /// When it was sent.
  public var at: Date
  /// The desired-state commit of the last apply, when known.
  public var desiredCommit: String?
  /// How the last apply ended, when this heartbeat follows one.
  public var lastApply: LastApply?

  /// The end of an apply as a heartbeat carries it.
  public struct LastApply: Sendable, Hashable, Codable {
    /// `ok`, `failed` or `interrupted`.
    public var outcome: String
    /// When it ended.
    public var at: Date

    /// Creates a record.
    public init(outcome: String, at: Date) {
      self.outcome = outcome
      self.at = at
    }
  }

  /// Creates a heartbeat.
  public init(
    node: String, pool: String? = nil, state: NodeState = .ready, diskTotal: Int64? = nil, diskFree: Int64? = nil, vram: Int64? = nil,
    agentVersion: String, at: Date, desiredCommit: String? = nil, lastApply: LastApply? = nil
  ) {
    self.node = node
    self.pool = pool
    self.state = state
    self.diskTotal = diskTotal
    self.diskFree = diskFree
    self.vram = vram
    self.agentVersion = agentVersion
    self.at = at
    self.desiredCommit = desiredCommit
    self.lastApply = lastApply
  }
}

/// A model variant a node holds complete and verified.
public struct HeldVariant: Sendable, Hashable, Codable, Comparable {
  /// The variant.
  public var variant: VariantID
  /// Bytes of its files.
  public var bytes: Int64

  /// Creates a holding.
  public init(variant: VariantID, bytes: Int64) {
    self.variant = variant
    self.bytes = bytes
  }

  public static func < (lhs: HeldVariant, rhs: HeldVariant) -> Bool { lhs.variant < rhs.variant }

  /// The declared variants `observed` holds complete: every file a hard link to a verified blob
  /// of its digest and size. No I/O.
  public static func verified(in desired: DesiredState, _ observed: ObservedState) -> [HeldVariant] {
    var held: [HeldVariant] = []
    for (id, view) in observed.variants {
      guard let variant = desired.model(id.model)?.variant(id.variant), !variant.files.isEmpty else { continue }
      let complete = variant.files.allSatisfy { file in
        guard let blob = observed.blobs[file.sha256], blob.verification == .verified, blob.size == file.size,
          let linked = view.files[file.path]
        else { return false }
        return linked.isRegularFile && linked.isLink(to: blob)
      }
      if complete { held.append(HeldVariant(variant: id, bytes: variant.uniqueBytes)) }
    }
    return held.sorted()
  }
}

/// One node as the fleet registry knows it.
public struct FleetNode: Sendable, Hashable, Codable {
  /// Its last heartbeat.
  public var heartbeat: NodeHeartbeat
  /// What it holds verified, as of its last report.
  public var holdings: [HeldVariant]

  /// Creates a record.
  public init(heartbeat: NodeHeartbeat, holdings: [HeldVariant] = []) {
    self.heartbeat = heartbeat
    self.holdings = holdings
  }

  /// Seconds since its last heartbeat at `now`.
  public func age(at now: Date) -> Double { now.timeIntervalSince(heartbeat.at) }
}
