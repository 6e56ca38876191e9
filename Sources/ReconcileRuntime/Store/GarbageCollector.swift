import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// One thing `reconcile gc` removes: an orphan blob, a stale partial download, a quarantined
/// file or an entry of the trash.
public struct GarbageItem: Sendable, Hashable {
  /// Why it is garbage.
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// A blob under `blobs/` that no view under `models/` or `tenants/` is a hard link to.
    case orphanBlob = "orphan"
    /// A `.part` file under `.reconcile/tmp/` (with its `.meta`) not written for `partAge`.
    case partial
    /// Any other file under `.reconcile/tmp/` as old: a `.meta` without its `.part`, a leftover of a crash.
    case temporary
    /// A file moved to `.reconcile/quarantine/` after failing verification.
    case quarantined
    /// An evicted view left in `.reconcile/trash/` by an interrupted eviction.
    case trash
  }

  /// Why it is garbage.
  public var kind: Kind
  /// Its paths: one, or a partial file and its `.meta`.
  public var paths: [String]
  /// Bytes of its files (each file's size; a directory's files summed).
  public var bytes: Int64
  /// When it was last modified.
  public var modified: Date
  /// The files it consists of, to tell what removing it frees.
  var files: [FileUse]

  /// One file inside an item: its inode and how many names the inode has.
  struct FileUse: Sendable, Hashable {
    var inode: InodeKey
    var links: Int
    var size: Int64
  }
}

/// What `GarbageCollector.find` found, nothing removed yet.
public struct GarbageReport: Sendable {
  /// The items, in the order they are listed: orphan blobs, partials, other temporary files,
  /// quarantine, trash; by path within each kind.
  public var items: [GarbageItem]

  /// Bytes removing every item frees: a file's bytes count only when every name of its inode is
  /// among the items, so a blob also linked from elsewhere (an `hf_cache`, a user's hard link)
  /// frees nothing, and a blob and a trash entry linked to it count once.
  public var freedBytes: Int64 { GarbageCollector.freedBytes(items) }
}

/// What `GarbageCollector.collect` did.
public struct GarbageCollection: Sendable {
  /// Items removed.
  public var removed: [GarbageItem]
  /// Items that could not be removed (or only in part), with the cause.
  public var failures: [(item: GarbageItem, cause: String)]
  /// Bytes freed by the removed items.
  public var freedBytes: Int64
  /// Verified-file records the registry dropped because their files are gone.
  public var prunedRecords: Int
}

/// Finds and removes what no view needs: orphan blobs, stale partial downloads, quarantined
/// files and the trash. It never follows a symbolic link, and it reads no desired state: a blob
/// is needed exactly when a file under `models/` or `tenants/` is a hard link to it.
///
/// `collect` must run holding the root's `RootMutex` (as apply does): a blob an apply has just renamed
/// into the store is an orphan until apply links its views.
public struct GarbageCollector: Sendable {
  /// The root.
  public var root: NodeRoot
  /// Partial downloads not written for this many seconds are stale.
  public var partAge: TimeInterval

  /// A collector for `root`; partial downloads older than `partAge` seconds (24 h by default) go.
  public init(root: NodeRoot, partAge: TimeInterval = 24 * 3600) {
    self.root = root
    self.partAge = partAge
  }

  var store: BlobStore { BlobStore(root: root) }

  /// Lists the garbage in the root as of `now`, changing nothing.
  public func find(now: Date = Date()) -> GarbageReport {
    var referenced = Set<InodeKey>()
    for directory in [root.models, root.tenants] {
      StoreFiles.walk(directory) { _, status in
        if status.kind == .regular { referenced.insert(InodeKey(status.fingerprint)) }
      }
    }
    var items: [GarbageItem] = []
    StoreFiles.walk(root.blobs) { relative, status in
      guard !referenced.contains(InodeKey(status.fingerprint)) else { return }
      items.append(item(.orphanBlob, paths: ["\(root.blobs)/\(relative)"]))
    }
    items += temporaryItems(now: now)
    for (kind, directory) in [(GarbageItem.Kind.quarantined, store.quarantine), (.trash, store.trash)] {
      items += DirectoryListing.names(directory).map { item(kind, paths: ["\(directory)/\($0)"]) }
    }
    return GarbageReport(items: items)
  }

  /// Partial downloads and other files in `.reconcile/tmp/` not modified for `partAge`.
  func temporaryItems(now: Date) -> [GarbageItem] {
    let names = DirectoryListing.names(root.temporary)
    let present = Set(names)
    var items: [GarbageItem] = []
    for name in names {
      let path = "\(root.temporary)/\(name)"
      if name.hasSuffix(PartialMetadata.path(for: ".part")), present.contains(String(name.dropLast(PartialMetadata.suffix.count))) { continue }  // goes with its .part
      let paths = name.hasSuffix(".part") && present.contains(PartialMetadata.path(for: name)) ? [path, PartialMetadata.path(for: path)] : [path]
      let candidate = item(name.hasSuffix(".part") ? .partial : .temporary, paths: paths)
      if now.timeIntervalSince(candidate.modified) >= partAge { items.append(candidate) }
    }
    return items
  }

  /// An item of `paths` (at least one), with the sizes and inodes of every file under them.
  func item(_ kind: GarbageItem.Kind, paths: [String]) -> GarbageItem {
    var files: [GarbageItem.FileUse] = []
    for path in paths {
      if let status = FileStatus.of(path), status.kind != .directory { files.append(Self.use(status)) }
      StoreFiles.walk(path) { _, status in files.append(Self.use(status)) }
    }
    // A partial's age is its own: its `.meta` is written once, when the download starts.
    let modified = FileStatus.of(paths[0]).map { Date(timeIntervalSince1970: Double($0.fingerprint.mtimeNs) / 1e9) } ?? .distantPast
    return GarbageItem(kind: kind, paths: paths, bytes: files.reduce(0) { $0 + $1.size }, modified: modified, files: files)
  }

  /// Removes `report`'s items and returns what that freed. With a registry, its verified-file
  /// cache then forgets files that are gone, and keeps trusting the blobs whose only change is
  /// the ctime an unlinked hard link gave them (as apply does after its own link changes).
  public func collect(_ report: GarbageReport, registry: (any VerifiedFileCache)?) -> GarbageCollection {
    let recorded = (try? registry?.verifiedDigests()) ?? [:]
    let before = blobFingerprints()
    var removed: [GarbageItem] = []
    var failures: [(item: GarbageItem, cause: String)] = []
    for item in report.items {
      do {
        for path in item.paths { try StoreFiles.removeTree(path) }
        removed.append(item)
      } catch {
        failures.append((item, "\(error)"))
      }
    }
    // Prefix directories the orphans leave empty go too; rmdir refuses any other.
    for item in removed where item.kind == .orphanBlob {
      for path in item.paths { rmdir(PathText.parent(of: path)) }
    }
    var pruned = 0
    if let registry {
      var refreshed: [(StatFingerprint, Digest)] = []
      for (path, now) in blobFingerprints() {
        guard let old = before[path], let digest = recorded[old], old != now, now.keepsContent(of: old) else { continue }
        refreshed.append((now, digest))
      }
      try? registry.recordVerified(refreshed, at: Date())
      var present = Set<StatFingerprint>()
      for directory in [root.blobs, root.models, root.tenants] {
        StoreFiles.walk(directory) { _, status in if status.kind == .regular { present.insert(status.fingerprint) } }
      }
      pruned = (try? registry.pruneVerified(keeping: present)) ?? 0
    }
    return GarbageCollection(removed: removed, failures: failures, freedBytes: Self.freedBytes(removed), prunedRecords: pruned)
  }

  /// Every file under `blobs/` and its fingerprint.
  func blobFingerprints() -> [String: StatFingerprint] {
    var fingerprints: [String: StatFingerprint] = [:]
    StoreFiles.walk(root.blobs) { relative, status in fingerprints["\(root.blobs)/\(relative)"] = status.fingerprint }
    return fingerprints
  }

  /// Bytes removing `items` frees: inodes whose every name is among them, each counted once.
  static func freedBytes(_ items: [GarbageItem]) -> Int64 {
    var names: [InodeKey: (count: Int, use: GarbageItem.FileUse)] = [:]
    for file in items.flatMap(\.files) {
      names[file.inode] = ((names[file.inode]?.count ?? 0) + 1, file)
    }
    return names.values.filter { $0.count >= $0.use.links }.reduce(0) { $0 + $1.use.size }
  }

  static func use(_ status: FileStatus) -> GarbageItem.FileUse {
    GarbageItem.FileUse(inode: InodeKey(status.fingerprint), links: status.links, size: status.fingerprint.size)
  }
}
