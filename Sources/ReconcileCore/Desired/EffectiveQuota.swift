/// One field of a quota, as desired-state files name it.
public enum QuotaField: String, Sendable, Hashable, Codable, CaseIterable {
  /// Bytes of disk the tenant's models take.
  case disk
  /// Model variants the tenant uses.
  case models
  /// Downloads of the tenant's files at once.
  case concurrentDownloads = "concurrent_downloads"
  /// Bytes per second the tenant's downloads may take together.
  case bandwidth
}

/// One limit in force for a tenant, and where it comes from.
public struct QuotaLimit: Sendable, Hashable, Codable {
  /// Where a limit comes from.
  public enum Source: String, Sendable, Hashable, Codable {
    /// The default of the tenant's tier.
    case tier
    /// The tenant's own `quota:`.
    case quota
  }

  /// The limit: bytes, a count, or bytes per second.
  public var value: Int64
  /// Whether the tier or the tenant's own `quota:` sets it.
  public var source: Source
  /// The tier's default that the tenant's `quota:` replaces, when there is one.
  public var overrides: Int64?

  /// Creates a limit.
  public init(value: Int64, source: Source, overrides: Int64? = nil) {
    self.value = value
    self.source = source
    self.overrides = overrides
  }
}

/// A tenant's limits: its tier's defaults, each replaced field by field by its own `quota:`.
///
/// A field neither sets is unlimited (nil).
public struct EffectiveQuota: Sendable, Hashable, Codable {
  /// The tenant's tier, when it names one.
  public var tier: String?
  /// Bytes of disk.
  public var disk: QuotaLimit?
  /// Model variants.
  public var models: QuotaLimit?
  /// Downloads at once.
  public var concurrentDownloads: QuotaLimit?
  /// Bytes per second.
  public var bandwidth: QuotaLimit?

  /// Combines the defaults of `tenant`'s tier in `policy` with the tenant's own `quota:`.
  public init(_ tenant: Tenant, policy: Policy) {
    tier = tenant.tier
    let defaults = tenant.tier.flatMap { policy.tiers[$0] }
    func pick(_ field: QuotaField) -> QuotaLimit? {
      let inherited = defaults.flatMap { $0.value(field) }
      if let own = tenant.quota?.value(field) { return QuotaLimit(value: own, source: .quota, overrides: inherited) }
      return inherited.map { QuotaLimit(value: $0, source: .tier) }
    }
    disk = pick(.disk)
    models = pick(.models)
    concurrentDownloads = pick(.concurrentDownloads)
    bandwidth = pick(.bandwidth)
  }

  /// The limit for `field`, or nil when unlimited.
  public subscript(field: QuotaField) -> QuotaLimit? {
    switch field {
    case .disk: disk
    case .models: models
    case .concurrentDownloads: concurrentDownloads
    case .bandwidth: bandwidth
    }
  }

  /// Where the limit for `field` comes from, as messages say it: `tier pro`,
  /// `tier pro, overridden by its quota:` or `its quota:`; nil when unlimited.
  public func origin(of field: QuotaField) -> String? {
    guard let limit = self[field] else { return nil }
    switch limit.source {
    case .tier: return "tier \(tier ?? "-")"
    case .quota: return limit.overrides != nil ? "tier \(tier ?? "-"), overridden by its quota:" : "its quota:"
    }
  }
}

extension Quota {
  /// The value of `field`, widened to 64 bits; nil when not set.
  public func value(_ field: QuotaField) -> Int64? {
    switch field {
    case .disk: disk
    case .models: models.map(Int64.init)
    case .concurrentDownloads: concurrentDownloads.map(Int64.init)
    case .bandwidth: bandwidth
    }
  }
}
