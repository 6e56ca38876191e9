import Foundation

/// What a node's root holds, as the runtime saw it: plain values the planner reads.
public struct ObservedState: Sendable, Hashable, Codable {
  /// Content-addressed blobs under `blobs/sha256/`.
  public var blobs: [Digest: ObservedBlob]
  /// Model variant views under `models/<name>/<version>/<variant>/`.
  public var variants: [VariantID: ObservedVariant]
  /// The latest use of each variant, from view access times or `reconcile touch`.
  public var lastUse: [VariantID: Date]
  /// When each variant was first found unwanted on this node.
  public var unwantedSince: [VariantID: Date]
  /// Partial downloads under `.reconcile/tmp/`.
  public var partials: [PartialDownload]
  /// Size and free space of the filesystem holding the root, when known.
  public var filesystem: FilesystemSpace?
  /// The tenants' views under `tenants/`.
  public var tenantViews: ObservedTenantViews
  /// The node's Hugging Face cache, when one is configured.
  public var hfCache: ObservedHFCache

  /// Creates an observed state; empty by default, as on a new node.
  public init(
    blobs: [Digest: ObservedBlob] = [:], variants: [VariantID: ObservedVariant] = [:], lastUse: [VariantID: Date] = [:],
    unwantedSince: [VariantID: Date] = [:], partials: [PartialDownload] = [], filesystem: FilesystemSpace? = nil,
    tenantViews: ObservedTenantViews = ObservedTenantViews(), hfCache: ObservedHFCache = ObservedHFCache()
  ) {
    self.blobs = blobs
    self.variants = variants
    self.lastUse = lastUse
    self.unwantedSince = unwantedSince
    self.partials = partials
    self.filesystem = filesystem
    self.tenantViews = tenantViews
    self.hfCache = hfCache
  }
}

/// What `<root>/tenants/` holds, and the unix groups the tenants name.
public struct ObservedTenantViews: Sendable, Hashable, Codable {
  /// Files (and links) by path relative to `tenants/`, for example `research/llama/config.json`.
  public var files: [String: ObservedFile]
  /// Directories by path relative to `tenants/`, with their group and mode.
  public var directories: [String: ObservedDirectory]
  /// The id of each unix group a tenant names, when it exists on this node.
  public var groupIDs: [String: UInt32]

  /// Creates an observation; empty by default.
  public init(files: [String: ObservedFile] = [:], directories: [String: ObservedDirectory] = [:], groupIDs: [String: UInt32] = [:]) {
    self.files = files
    self.directories = directories
    self.groupIDs = groupIDs
  }
}

/// A directory's owner group and permission bits.
public struct ObservedDirectory: Sendable, Hashable, Codable {
  /// The group id.
  public var group: UInt32
  /// The permission bits, for example `0o750`.
  public var mode: UInt32

  /// Creates a directory record.
  public init(group: UInt32, mode: UInt32) {
    self.group = group
    self.mode = mode
  }
}

/// What the Hugging Face cache holds of snapshots and refs.
public struct ObservedHFCache: Sendable, Hashable, Codable {
  /// The cache directory, when one is configured.
  public var path: String?
  /// Each snapshot entry (`models--ORG--REPO/snapshots/<commit>/<path>`, relative to the
  /// cache) that is a symbolic link resolving to a file, with that file's fingerprint.
  public var snapshots: [String: StatFingerprint]
  /// Each ref file (`models--ORG--REPO/refs/<name>`) and the commit it holds.
  public var refs: [String: String]

  /// Creates an observation; empty by default.
  public init(path: String? = nil, snapshots: [String: StatFingerprint] = [:], refs: [String: String] = [:]) {
    self.path = path
    self.snapshots = snapshots
    self.refs = refs
  }
}

/// Whether a file's content is known to match its digest.
public enum Verification: String, Sendable, Hashable, Codable {
  /// Its fingerprint matches the registry's record of a successful hash.
  case verified
  /// Never hashed on this node.
  case neverVerified = "never-verified"
  /// Hashed once, but its size changed since.
  case sizeChanged = "size-changed"
  /// Hashed once, but it was modified or replaced since (mtime, ctime or inode differ).
  case modified
}

/// One blob file in the store.
public struct ObservedBlob: Sendable, Hashable, Codable {
  /// The digest its name claims.
  public var digest: Digest
  /// Its stat fingerprint.
  public var fingerprint: StatFingerprint
  /// Whether its content is known to match the digest.
  public var verification: Verification

  /// Creates an observed blob.
  public init(digest: Digest, fingerprint: StatFingerprint, verification: Verification) {
    self.digest = digest
    self.fingerprint = fingerprint
    self.verification = verification
  }

  /// The size on disk.
  public var size: Int64 { fingerprint.size }
}

/// The files found under one variant's view directory.
public struct ObservedVariant: Sendable, Hashable, Codable {
  /// The variant.
  public var id: VariantID
  /// Files by path relative to the view directory.
  public var files: [String: ObservedFile]

  /// Creates an observed variant.
  public init(id: VariantID, files: [String: ObservedFile] = [:]) {
    self.id = id
    self.files = files
  }
}

/// One file in a view.
public struct ObservedFile: Sendable, Hashable, Codable {
  /// Its stat fingerprint.
  public var fingerprint: StatFingerprint
  /// The digest the registry recorded for this exact fingerprint, if any.
  public var verifiedDigest: Digest?
  /// False for a symbolic link or other non-regular entry, which reconcile never follows.
  public var isRegularFile: Bool

  /// Creates an observed file.
  public init(fingerprint: StatFingerprint, verifiedDigest: Digest? = nil, isRegularFile: Bool = true) {
    self.fingerprint = fingerprint
    self.verifiedDigest = verifiedDigest
    self.isRegularFile = isRegularFile
  }

  /// Whether this file is the given blob (a hard link to it).
  public func isLink(to blob: ObservedBlob) -> Bool {
    fingerprint.isSameFile(as: blob.fingerprint)
  }
}

/// A partial download left by an interrupted apply.
public struct PartialDownload: Sendable, Hashable, Codable {
  /// The digest being downloaded.
  public var digest: Digest
  /// The file name under `.reconcile/tmp/`.
  public var name: String
  /// Bytes already written.
  public var bytes: Int64
  /// When it was last written.
  public var modified: Date

  /// Creates a partial download record.
  public init(digest: Digest, name: String, bytes: Int64, modified: Date) {
    self.digest = digest
    self.name = name
    self.bytes = bytes
    self.modified = modified
  }
}

/// Size and free space of a filesystem.
public struct FilesystemSpace: Sendable, Hashable, Codable {
  /// Total bytes.
  public var total: Int64
  /// Bytes an unprivileged writer may still use.
  public var available: Int64

  /// Creates a filesystem record.
  public init(total: Int64, available: Int64) {
    self.total = total
    self.available = available
  }
}
