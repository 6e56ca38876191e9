import Foundation

/// The changes that make one node match the desired state: a value that apply executes as is.
public struct Plan: Sendable, Hashable, Codable {
  /// The version of this document's shape; bumped on incompatible change.
  public static let currentFormatVersion = 2

  /// The shape version, for scripts that read `--json`.
  public var formatVersion: Int
  /// The node planned for.
  public var node: String
  /// The pool the node belongs to, when pools are declared.
  public var pool: String?
  /// What the node holds after apply, as placement resolved it.
  public var target: PlannedTarget
  /// When the plan was made.
  public var createdAt: Date
  /// Where the desired state came from and a digest of it.
  public var desired: DesiredStamp
  /// A digest of the observed state the plan was made from.
  public var observedDigest: String
  /// The changes, downloads first and evictions last.
  public var changes: [Change]
  /// Variants on disk that are no longer wanted but stay, and why.
  public var kept: [KeptVariant]
  /// Disk use before and after.
  public var disk: DiskForecast
  /// True when the node is in a fleet whose registry did not answer: placement took every
  /// declared node as ready and nothing placed elsewhere is evicted.
  public var fleetUnavailable: Bool?
  /// When the registry is unreachable: when the locally cached snapshot the plan placed on was read.
  public var fleetSnapshotAt: Date?
  /// True when the desired state no longer declares the node but the fleet registry knows it:
  /// it evicts everything once copies exist elsewhere, then deregisters.
  public var leaving: Bool?

  /// Creates a plan.
  public init(
    node: String, pool: String?, target: PlannedTarget = PlannedTarget(), createdAt: Date, desired: DesiredStamp = DesiredStamp(),
    observedDigest: String = "", changes: [Change], kept: [KeptVariant] = [], disk: DiskForecast
  ) {
    self.formatVersion = Plan.currentFormatVersion
    self.node = node
    self.pool = pool
    self.target = target
    self.createdAt = createdAt
    self.desired = desired
    self.observedDigest = observedDigest
    self.changes = changes
    self.kept = kept
    self.disk = disk
  }

  /// Whether apply would change anything.
  public var hasChanges: Bool { !changes.isEmpty }

  /// The changes with one action.
  public func changes(_ action: Action) -> [Change] { changes.filter { $0.action == action } }
}

/// Where a plan's desired state came from.
public struct DesiredStamp: Sendable, Hashable, Codable {
  /// The directory as given, for example `Desired/`.
  public var path: String
  /// The git commit of the directory's repository, when it is one.
  public var commit: String?
  /// A digest of the loaded desired state, so a saved plan can tell when it changed.
  public var digest: String

  /// Creates a stamp.
  public init(path: String = "", commit: String? = nil, digest: String = "") {
    self.path = path
    self.commit = commit
    self.digest = digest
  }
}

/// Disk use on the node before and after the plan.
public struct DiskForecast: Sendable, Hashable, Codable {
  /// Bytes the node may use (`disk` of the pool's node, else the filesystem's size), if known.
  public var capacity: Int64?
  /// Bytes kept free.
  public var minFree: Int64
  /// The headroom as written in the policy.
  public var minFreeSetting: String
  /// Bytes of blobs in views now.
  public var usedNow: Int64
  /// Bytes of blobs in views after apply.
  public var usedAfter: Int64

  /// Creates a forecast.
  public init(capacity: Int64?, minFree: Int64, minFreeSetting: String, usedNow: Int64, usedAfter: Int64) {
    self.capacity = capacity
    self.minFree = minFree
    self.minFreeSetting = minFreeSetting
    self.usedNow = usedNow
    self.usedAfter = usedAfter
  }
}

/// What a change does.
public enum Action: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
  /// Fetch a blob that is missing, then link its views.
  case download
  /// Hash a blob whose content is not known to match, then link its views.
  case verify
  /// Create or repair a view (a variant's, or a tenant's) from a blob already verified (or
  /// being fetched by another change).
  case link
  /// Publish a Hub snapshot into the Hugging Face cache.
  case publish
  /// Remove a variant's view, and blobs nothing else uses.
  case evict
  /// Remove a tenant's view of a variant it no longer uses, or the directory of a tenant this
  /// node no longer serves.
  case unlink

  var rank: Int { Action.allCases.firstIndex(of: self) ?? 0 }

  public static func < (lhs: Action, rhs: Action) -> Bool { lhs.rank < rhs.rank }
}

/// What a change is about: a model variant, and one of its files unless the whole variant; or a
/// tenant's view of it.
public struct ChangeSubject: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  /// The model variant; for the unlink of a tenant's directory, the entry's name parsed as well as it goes.
  public var variant: VariantID
  /// The file's path within the variant, or nil for the whole variant; for a tenant's unlink,
  /// the path removed relative to the root.
  public var path: String?
  /// The tenant whose view this is, for tenant-view changes.
  public var tenant: String?

  /// Creates a subject.
  public init(variant: VariantID, path: String? = nil, tenant: String? = nil) {
    self.variant = variant
    self.path = path
    self.tenant = tenant
  }

  /// `name@version:variant`, `name@version:variant file path`, `tenant t: name@version:variant`
  /// or, for a tenant's unlink, the path removed.
  public var description: String {
    if let tenant { return path ?? "tenant \(tenant): \(variant)" }
    return path.map { "\(variant) file \($0)" } ?? variant.description
  }

  public static func < (lhs: ChangeSubject, rhs: ChangeSubject) -> Bool {
    (lhs.tenant ?? "", lhs.variant, lhs.path ?? "") < (rhs.tenant ?? "", rhs.variant, rhs.path ?? "")
  }
}

/// One change of a plan, with the reason it is needed.
public struct Change: Sendable, Hashable, Codable {
  /// What to do.
  public var action: Action
  /// What it is done to.
  public var subject: ChangeSubject
  /// The blob involved; nil for a whole-variant eviction.
  public var digest: Digest?
  /// Bytes transferred or hashed, or freed by an eviction.
  public var bytes: Int64
  /// Why the change is needed.
  public var reason: Reason
  /// Sources to download from, in order (for a verification, to fetch again from on a mismatch); empty for other actions.
  public var sources: [SourceURL]
  /// Files the change touches: 1 for a file, the view's file count for a whole variant.
  public var files: Int
  /// For a download or verification: sources of other models that list the same blob, tried
  /// after `sources`, with the file's path in each.
  public var alternates: [PlannedSource]?
  /// For an eviction: whether it runs before the downloads or after every one verified.
  public var phase: EvictionPhase?
  /// For an eviction: the blobs it removes once the view is gone (no remaining view uses them).
  public var blobs: [Digest]?
  /// For a tenant-view link or unlink: which tenant's view, and its files.
  public var tenantView: TenantViewTarget?
  /// For a publication: the Hugging Face cache snapshot.
  public var publication: CachePublication?
  /// For a download: the tenant limits it is charged to.
  public var charge: TransferCharge?

  /// Creates a change.
  public init(action: Action, subject: ChangeSubject, digest: Digest?, bytes: Int64, reason: Reason, sources: [SourceURL] = [], files: Int = 1) {
    self.action = action
    self.subject = subject
    self.digest = digest
    self.bytes = bytes
    self.reason = reason
    self.sources = sources
    self.files = files
  }

  /// Every source to try, in order: the change's own with the subject's path, then the alternates.
  public var plannedSources: [PlannedSource] {
    var seen = Set<String>()
    let own = subject.path.map { path in sources.map { PlannedSource(source: $0, path: path) } } ?? []
    return (own + (alternates ?? [])).filter { seen.insert("\($0.source.url)|\($0.path)").inserted }
  }
}

/// A variant on disk that nobody wants here but that stays for now.
public struct KeptVariant: Sendable, Hashable, Codable {
  /// The variant.
  public var variant: VariantID
  /// Bytes only it holds.
  public var bytes: Int64
  /// Why it stays.
  public var reason: Reason
  /// When it becomes eligible for eviction, when that is known.
  public var evictableAfter: Date?

  /// Creates a kept-variant record.
  public init(variant: VariantID, bytes: Int64, reason: Reason, evictableAfter: Date? = nil) {
    self.variant = variant
    self.bytes = bytes
    self.reason = reason
    self.evictableAfter = evictableAfter
  }
}
