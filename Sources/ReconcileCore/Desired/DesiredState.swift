/// Everything the desired-state files declare, merged across files, with no I/O attached.
public struct DesiredState: Sendable, Hashable, Codable {
  /// Models in name and version order.
  public var models: [Model]
  /// Tenants in name order.
  public var tenants: [Tenant]
  /// Pools in name order.
  public var pools: [Pool]
  /// Node-wide policy; defaults when no file declares one.
  public var policy: Policy

  /// Creates a desired state.
  public init(models: [Model] = [], tenants: [Tenant] = [], pools: [Pool] = [], policy: Policy = Policy()) {
    self.models = models
    self.tenants = tenants
    self.pools = pools
    self.policy = policy
  }

  /// The model with this name and version, if declared.
  ///
  /// The loader keeps `models` in `ModelID` order, so a binary search finds it; a state built by
  /// hand in another order is still answered, by the linear search a miss falls back to.
  public func model(_ id: ModelID) -> Model? {
    var low = 0
    var high = models.count
    while low < high {
      let middle = (low + high) / 2
      if models[middle].id < id { low = middle + 1 } else { high = middle }
    }
    if low < models.count, models[low].id == id { return models[low] }
    return models.first { $0.id == id }
  }
}

/// A model at one version: where to get it and which files make up each variant.
public struct Model: Sendable, Hashable, Codable {
  /// The model's name, `[a-z0-9._-]+`.
  public var name: String
  /// The version, free text such as `2.2.0`.
  public var version: String
  /// Where the files come from, tried in order.
  public var sources: [SourceURL]
  /// The variant used when a reference names none.
  public var defaultVariant: String?
  /// Variants in name order.
  public var variants: [Variant]
  /// Other models a node holding this one must also hold.
  public var requires: [ModelReference]
  /// Never evicted while declared.
  public var pin: Bool

  /// Creates a model.
  public init(
    name: String, version: String, sources: [SourceURL] = [], defaultVariant: String? = nil,
    variants: [Variant] = [], requires: [ModelReference] = [], pin: Bool = false
  ) {
    self.name = name
    self.version = version
    self.sources = sources
    self.defaultVariant = defaultVariant
    self.variants = variants
    self.requires = requires
    self.pin = pin
  }

  /// The model's identifier.
  public var id: ModelID { ModelID(name: name, version: version) }

  /// The variant with this name, if declared.
  public func variant(_ name: String) -> Variant? { variants.first { $0.name == name } }

  /// The variant a reference without `:variant` means: `default_variant`, or the only one.
  public var implicitVariant: String? {
    if let defaultVariant { return defaultVariant }
    return variants.count == 1 ? variants[0].name : nil
  }
}

/// One variant of a model (a precision or a format) and its files.
public struct Variant: Sendable, Hashable, Codable {
  /// The variant's name, for example `fp16`.
  public var name: String
  /// GPU memory it needs to serve, when declared.
  public var vram: Int64?
  /// Files in path order: as declared, or from the lock when the variant uses `include:`.
  public var files: [FileSpec]
  /// Globs selecting the files of a source, resolved by `reconcile lock` instead of listing files.
  public var include: [String]?
  /// What `reconcile lock` recorded for an `include:` variant, when it was locked.
  public var lock: VariantLock?

  /// Creates a variant.
  public init(name: String, vram: Int64? = nil, files: [FileSpec] = [], include: [String]? = nil, lock: VariantLock? = nil) {
    self.name = name
    self.vram = vram
    self.files = files
    self.include = include
    self.lock = lock
  }

  /// Whether the variant lists `include:` globs whose lock is missing or was made for other globs.
  public var needsLock: Bool {
    guard let include else { return false }
    return lock?.include != include
  }

  /// Bytes of all files, counting a digest listed twice once.
  public var uniqueBytes: Int64 {
    // Most variants list a handful of files: comparing them costs less than hashing them.
    guard files.count > 16 else {
      var total: Int64 = 0
      for index in files.indices where !files[..<index].contains(where: { $0.sha256 == files[index].sha256 }) {
        total += files[index].size
      }
      return total
    }
    var seen = Set<Digest>()
    return files.reduce(0) { seen.insert($1.sha256).inserted ? $0 + $1.size : $0 }
  }
}

/// One file of a variant: where it goes inside the variant's view, its size and digest.
public struct FileSpec: Sendable, Hashable, Codable {
  /// A relative path with `/` separators, no `..`, no empty segment.
  public var path: String
  /// Size in bytes.
  public var size: Int64
  /// The SHA-256 of the content.
  public var sha256: Digest
  /// The git blob SHA-1 of a file kept outside Git LFS on the Hub, as `reconcile lock` found it.
  public var gitSHA1: String?

  /// Creates a file entry.
  public init(path: String, size: Int64, sha256: Digest, gitSHA1: String? = nil) {
    self.path = path
    self.size = size
    self.sha256 = sha256
    self.gitSHA1 = gitSHA1
  }
}

/// What `reconcile lock` pinned for an `include:` variant: the source at a commit and the globs
/// the file list was made for.
public struct VariantLock: Sendable, Hashable, Codable {
  /// The source the files were listed from, at a fixed revision (a Hub commit).
  public var source: SourceURL
  /// The globs the lock was made for; the lock is stale when the variant's differ.
  public var include: [String]

  /// Creates a lock record.
  public init(source: SourceURL, include: [String]) {
    self.source = source
    self.include = include
  }
}

/// A reference to a model variant: `name@version[:variant]`, optionally pinned.
public struct ModelReference: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The model and version.
  public var model: ModelID
  /// The variant, or nil for the model's implicit variant.
  public var variant: String?
  /// Whether the holder wants it never evicted.
  public var pin: Bool

  /// Creates a reference.
  public init(model: ModelID, variant: String? = nil, pin: Bool = false) {
    self.model = model
    self.variant = variant
    self.pin = pin
  }

  /// `name@version[:variant]`.
  public var description: String { variant.map { "\(model):\($0)" } ?? model.description }

  /// Parses `name@version[:variant]`; nil when the text has another shape.
  public init?(parsing text: String) {
    guard let at = text.firstIndex(of: "@") else { return nil }
    let name = String(text[..<at])
    let rest = text[text.index(after: at)...]
    let version: String
    var variant: String?
    if let colon = rest.firstIndex(of: ":") {
      version = String(rest[..<colon])
      variant = String(rest[rest.index(after: colon)...])
    } else {
      version = String(rest)
    }
    guard !name.isEmpty, !version.isEmpty, variant?.isEmpty != true else { return nil }
    self.init(model: ModelID(name: name, version: version), variant: variant)
  }
}

/// A team that uses models on the nodes of the pools that serve it.
public struct Tenant: Sendable, Hashable, Codable {
  /// The tenant's name.
  public var name: String
  /// The tier that gives default quotas.
  public var tier: String?
  /// Limits that override the tier's.
  public var quota: Quota?
  /// The unix group that owns the tenant's view.
  public var group: String?
  /// The model variants the tenant uses.
  public var models: [ModelReference]

  /// Creates a tenant.
  public init(name: String, tier: String? = nil, quota: Quota? = nil, group: String? = nil, models: [ModelReference] = []) {
    self.name = name
    self.tier = tier
    self.quota = quota
    self.group = group
    self.models = models
  }
}

/// Limits for a tenant or a tier; nil means unlimited.
public struct Quota: Sendable, Hashable, Codable {
  /// Bytes of disk.
  public var disk: Int64?
  /// Number of model variants.
  public var models: Int?
  /// Downloads at once.
  public var concurrentDownloads: Int?
  /// Bytes per second.
  public var bandwidth: Int64?

  /// Creates a quota.
  public init(disk: Int64? = nil, models: Int? = nil, concurrentDownloads: Int? = nil, bandwidth: Int64? = nil) {
    self.disk = disk
    self.models = models
    self.concurrentDownloads = concurrentDownloads
    self.bandwidth = bandwidth
  }
}

/// A group of nodes that together hold the models of the tenants it serves.
public struct Pool: Sendable, Hashable, Codable {
  /// The pool's name.
  public var name: String
  /// Tenants whose models live in this pool.
  public var serves: [String]
  /// Copies of each model variant across the pool; nil means every node holds every one.
  public var replicas: Int?
  /// How variants are assigned to nodes.
  public var placement: Placement
  /// The pool's nodes in name order.
  public var nodes: [PoolNode]

  /// Creates a pool.
  public init(name: String, serves: [String] = [], replicas: Int? = nil, placement: Placement = .spread, nodes: [PoolNode] = []) {
    self.name = name
    self.serves = serves
    self.replicas = replicas
    self.placement = placement
    self.nodes = nodes
  }
}

/// How a pool assigns each model variant to nodes.
public enum Placement: String, Sendable, Hashable, Codable, CaseIterable {
  /// Rendezvous hashing: stable, even, and few moves when nodes come and go.
  case spread
  /// Largest variants first, each to the nodes holding the fewest bytes so far.
  case leastLoaded = "least-loaded"
  /// Largest variants first, each to the fullest nodes that still have room.
  case binpack
}

/// One machine of a pool.
public struct PoolNode: Sendable, Hashable, Codable {
  /// The node's name, as `--node` gives it.
  public var name: String
  /// Disk the store may use, in bytes.
  public var disk: Int64
  /// GPU memory, in bytes.
  public var vram: Int64?
  /// A draining node receives nothing and gives up what it holds.
  public var draining: Bool
  /// Free-form labels.
  public var labels: [String: String]

  /// Creates a node.
  public init(name: String, disk: Int64, vram: Int64? = nil, draining: Bool = false, labels: [String: String] = [:]) {
    self.name = name
    self.disk = disk
    self.vram = vram
    self.draining = draining
    self.labels = labels
  }
}
