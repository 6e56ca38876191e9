import Foundation

/// What a node holds after apply, as the plan resolved it: apply reads this instead of placing
/// the desired state a second time.
public struct PlannedTarget: Sendable, Hashable, Codable {
  /// The variants the node holds after apply, with everything they require, in order.
  public var variants: [VariantID]
  /// Variants no one may evict here, in order.
  public var pinned: [VariantID]
  /// The tenants whose views this node keeps, in name order.
  public var tenants: [String]
  /// For each target variant with `requires:`, everything it requires, transitively, in order;
  /// nil when no target variant requires anything. Apply publishes such a variant (its views,
  /// its tenants' views) only once all of these are verified.
  public var requires: [VariantRequirement]?

  /// Creates a target.
  public init(variants: [VariantID] = [], pinned: [VariantID] = [], tenants: [String] = [], requires: [VariantRequirement]? = nil) {
    self.variants = variants
    self.pinned = pinned
    self.tenants = tenants
    self.requires = requires
  }
}

/// A variant and everything it requires.
public struct VariantRequirement: Sendable, Hashable, Codable {
  /// The variant.
  public var variant: VariantID
  /// What it requires, transitively, in order (never itself).
  public var requires: [VariantID]

  /// Creates a requirement.
  public init(variant: VariantID, requires: [VariantID]) {
    self.variant = variant
    self.requires = requires
  }
}

/// A source to fetch a blob from and the file's path within it.
public struct PlannedSource: Sendable, Hashable, Codable {
  /// The source, as declared (or pinned to a commit).
  public var source: SourceURL
  /// The file's path relative to the source.
  public var path: String

  /// Creates a planned source.
  public init(source: SourceURL, path: String) {
    self.source = source
    self.path = path
  }
}

/// When an eviction runs.
public enum EvictionPhase: String, Sendable, Hashable, Codable {
  /// Before any download: the node is draining, the disk is under pressure, or the downloads
  /// need the space.
  case beforeDownloads = "before-downloads"
  /// Only once every download and verification succeeded, so a failed upgrade keeps serving
  /// the old variant.
  case afterDownloads = "after-downloads"
}

/// One file of a view: where it goes and which blob it is.
public struct ViewFile: Sendable, Hashable, Codable {
  /// The path within the view.
  public var path: String
  /// The blob's digest.
  public var sha256: Digest
  /// The blob's size.
  public var size: Int64
  /// The git blob SHA-1, when a lock recorded it (for the Hugging Face cache).
  public var gitSHA1: String?

  /// Creates a view file.
  public init(path: String, sha256: Digest, size: Int64, gitSHA1: String? = nil) {
    self.path = path
    self.sha256 = sha256
    self.size = size
    self.gitSHA1 = gitSHA1
  }
}

/// A tenant's view of one variant: `<root>/tenants/<tenant>/<entry>/<path>`.
public struct TenantViewTarget: Sendable, Hashable, Codable {
  /// The tenant.
  public var tenant: String
  /// The unix group that owns the tenant's directories; nil for the applier's own group.
  public var group: String?
  /// The entry's name in the tenant's directory; nil for the whole directory (an unlink of a
  /// tenant this node no longer serves).
  public var entry: String?
  /// The files the entry holds; empty for an unlink.
  public var files: [ViewFile]

  /// Creates a tenant view target.
  public init(tenant: String, group: String?, entry: String?, files: [ViewFile] = []) {
    self.tenant = tenant
    self.group = group
    self.entry = entry
    self.files = files
  }

  /// `tenants/<tenant>[/<entry>]`, relative to the root.
  public var relativePath: String { "tenants/\(tenant)" + (entry.map { "/\($0)" } ?? "") }
}

/// A snapshot of a Hub repository published into the Hugging Face cache.
public struct CachePublication: Sendable, Hashable, Codable {
  /// The cache directory (`hf_cache`).
  public var cache: String
  /// The repository's directory in the cache: `models--ORG--REPO` or `datasets--ORG--REPO`.
  public var repository: String
  /// `ORG/REPO`, for messages.
  public var repo: String
  /// The commit of the snapshot.
  public var commit: String
  /// The branch or tag the desired state names, written to `refs/`; nil when it names the commit.
  public var ref: String?
  /// Whether the files come from a Hub lock, which records the git SHA-1 of every file kept
  /// outside LFS: a file without one is an LFS file.
  public var lockedFromHub: Bool
  /// The snapshot's files.
  public var files: [ViewFile]
  /// For a source at a branch or tag (`hf://org/repo@main`), the repository at that revision:
  /// the plan pins it to the commit the revision points to when it is made (`commit` is empty
  /// until then, and a publication that cannot be pinned is left out of the plan).
  public var pinnedFrom: String?

  /// Creates a publication.
  public init(cache: String, repository: String, repo: String, commit: String, ref: String?, lockedFromHub: Bool, files: [ViewFile]) {
    self.cache = cache
    self.repository = repository
    self.repo = repo
    self.commit = commit
    self.ref = ref
    self.lockedFromHub = lockedFromHub
    self.files = files
  }

  /// `<cache>/<repository>/snapshots/<commit>/<path>`, relative to the cache.
  public func snapshotPath(_ file: String) -> String { "\(repository)/snapshots/\(commit)/\(file)" }
}

/// Which tenant limits a download is charged to.
public struct TransferCharge: Sendable, Hashable, Codable {
  /// The tenant whose bandwidth bucket the download draws on, and its rate in bytes per second.
  public var bandwidthTenant: String?
  /// Bytes per second of that bucket.
  public var bytesPerSecond: Int64?
  /// The tenant whose download slots the download takes one of.
  public var slotsTenant: String?
  /// How many downloads that tenant may run at once.
  public var slots: Int64?

  /// Creates a charge.
  public init(bandwidthTenant: String? = nil, bytesPerSecond: Int64? = nil, slotsTenant: String? = nil, slots: Int64? = nil) {
    self.bandwidthTenant = bandwidthTenant
    self.bytesPerSecond = bytesPerSecond
    self.slotsTenant = slotsTenant
    self.slots = slots
  }
}
