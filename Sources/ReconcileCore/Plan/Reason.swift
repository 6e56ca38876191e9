import Foundation

/// Why a change is in a plan (or why an unwanted variant stays).
public enum Reason: Sendable, Hashable {
  /// The blob is not on the node.
  case missing
  /// The blob on disk has another size than declared, so its content is wrong.
  case sizeMismatch(expected: Int64, actual: Int64)
  /// The blob's content is not known to match its digest.
  case unverified(Verification)
  /// The view file is absent.
  case viewMissing
  /// The view file exists but is not the verified blob.
  case viewDiffers
  /// No tenant or pool wants the variant here since this date.
  case notDesired(since: Date)
  /// The node is draining.
  case nodeDraining
  /// The node is leaving the fleet: no pool declares it any more.
  case nodeLeaving
  /// Unwanted since this date, evicted before its grace ends because the desired set needs the space.
  case diskPressure(since: Date)
  /// A file in a wanted variant that the desired state no longer lists.
  case notInVariant
  /// Unwanted, but pinned.
  case pinned
  /// Unwanted, but within `gc_grace`.
  case inGracePeriod(since: Date)
  /// Unwanted, but the policy says `eviction: none`.
  case evictionDisabled
  /// A tenant's view of a variant the tenant no longer uses.
  case tenantDropped
  /// The view of a tenant this node no longer serves.
  case tenantNotServed
  /// Placement moved the variant to these nodes; it stays here until they verified it.
  case waitingForReplicas(nodes: [String])
  /// Evicted before these nodes verified it, because a download this node needs wants the space.
  case diskPressureBeforeReplicas(nodes: [String])

  /// The short form a human plan prints.
  public func summary(now: Date) -> String {
    switch self {
    case .missing: "not on this node"
    case .sizeMismatch(let expected, let actual): "size on disk \(actual) B, expected \(expected) B"
    case .unverified(let verification):
      switch verification {
      case .verified: "verified"
      case .neverVerified: "not verified yet"
      case .sizeChanged: "size changed on disk"
      case .modified: "modified on disk"
      }
    case .viewMissing: "view missing"
    case .viewDiffers: "view differs from the verified blob"
    case .notDesired(let since): "no tenant needs it since \(Durations.ago(since, now: now))"
    case .nodeDraining: "node is draining"
    case .nodeLeaving: "node is leaving the fleet"
    case .diskPressure(let since): "disk pressure; unwanted since \(Durations.ago(since, now: now))"
    case .notInVariant: "no longer listed in its variant"
    case .pinned: "pinned"
    case .inGracePeriod(let since): "unwanted since \(Durations.ago(since, now: now)), within gc_grace"
    case .evictionDisabled: "unwanted, eviction is none"
    case .tenantDropped: "the tenant no longer uses it"
    case .tenantNotServed: "this node no longer serves the tenant"
    case .waitingForReplicas(let nodes): "waiting for \(Self.list(nodes)) to verify it"
    case .diskPressureBeforeReplicas(let nodes): "DISK PRESSURE: evicted before \(Self.list(nodes)) verified it; fewer copies than replicas for a while"
    }
  }

  /// `a`, `a and b`, `a, b and c`.
  static func list(_ names: [String]) -> String {
    guard names.count > 1 else { return names.first ?? "another node" }
    return names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
  }
}

extension Reason: Codable {
  private enum CodingKeys: String, CodingKey { case kind, expected, actual, since, verification, nodes }

  /// The stable name of the case in JSON.
  public var kind: String {
    switch self {
    case .missing: "missing"
    case .sizeMismatch: "size-mismatch"
    case .unverified: "unverified"
    case .viewMissing: "view-missing"
    case .viewDiffers: "view-differs"
    case .notDesired: "not-desired"
    case .nodeDraining: "node-draining"
    case .nodeLeaving: "node-leaving"
    case .diskPressure: "disk-pressure"
    case .notInVariant: "not-in-variant"
    case .pinned: "pinned"
    case .inGracePeriod: "in-grace-period"
    case .evictionDisabled: "eviction-disabled"
    case .tenantDropped: "tenant-dropped"
    case .tenantNotServed: "tenant-not-served"
    case .waitingForReplicas: "waiting-for-replicas"
    case .diskPressureBeforeReplicas: "disk-pressure-before-replicas"
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .kind)
    switch self {
    case .sizeMismatch(let expected, let actual):
      try container.encode(expected, forKey: .expected)
      try container.encode(actual, forKey: .actual)
    case .unverified(let verification): try container.encode(verification, forKey: .verification)
    case .notDesired(let since), .diskPressure(let since), .inGracePeriod(let since): try container.encode(since, forKey: .since)
    case .waitingForReplicas(let nodes), .diskPressureBeforeReplicas(let nodes): try container.encode(nodes, forKey: .nodes)
    default: break
    }
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let kind = try container.decode(String.self, forKey: .kind)
    switch kind {
    case "missing": self = .missing
    case "size-mismatch":
      self = .sizeMismatch(expected: try container.decode(Int64.self, forKey: .expected), actual: try container.decode(Int64.self, forKey: .actual))
    case "unverified": self = .unverified(try container.decode(Verification.self, forKey: .verification))
    case "view-missing": self = .viewMissing
    case "view-differs": self = .viewDiffers
    case "not-desired": self = .notDesired(since: try container.decode(Date.self, forKey: .since))
    case "node-draining": self = .nodeDraining
    case "node-leaving": self = .nodeLeaving
    case "disk-pressure": self = .diskPressure(since: try container.decode(Date.self, forKey: .since))
    case "not-in-variant": self = .notInVariant
    case "pinned": self = .pinned
    case "in-grace-period": self = .inGracePeriod(since: try container.decode(Date.self, forKey: .since))
    case "eviction-disabled": self = .evictionDisabled
    case "tenant-dropped": self = .tenantDropped
    case "tenant-not-served": self = .tenantNotServed
    case "waiting-for-replicas": self = .waitingForReplicas(nodes: try container.decode([String].self, forKey: .nodes))
    case "disk-pressure-before-replicas": self = .diskPressureBeforeReplicas(nodes: try container.decode([String].self, forKey: .nodes))
    default:
      throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown reason '\(kind)'")
    }
  }
}

/// Formats elapsed time the way plans print it.
public enum Durations {
  /// `26 h`, `3 d`, `12 min`, `40 s` between `date` and `now`.
  public static func ago(_ date: Date, now: Date) -> String {
    compact(Int64(now.timeIntervalSince(date)))
  }

  /// `26 h`, `3 d`, `12 min`, `40 s` for a number of seconds.
  public static func compact(_ seconds: Int64) -> String {
    let seconds = max(0, seconds)
    if seconds < 120 { return "\(seconds) s" }
    if seconds < 2 * 3600 { return "\(seconds / 60) min" }
    if seconds < 2 * 86400 { return "\(seconds / 3600) h" }
    return "\(seconds / 86400) d"
  }
}
