import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// The tenants' isolated views: `<root>/tenants/<tenant>/<model>/<path>`, hard links to the
/// blobs of the variants each tenant uses that this node holds.
///
/// A tenant's directory and every directory in it belong to the tenant's unix group with mode
/// 0750 (0700, the applier's own group, when the tenant names none); the files are the blobs
/// themselves (0444), so they are readable only through those directories. While the node
/// serves tenants, `<root>` and `tenants/` are 0711 (enter, not list) and `blobs/`, `models/`
/// and `.reconcile/` are 0700, so a tenant reaches nothing but its own view.
public struct TenantViews: Sendable {
  /// The node root.
  public var root: NodeRoot

  /// The views of `root`.
  public init(root: NodeRoot) { self.root = root }

  /// What one pass changed.
  public struct Outcome: Sendable, Hashable {
    /// View files linked or replaced.
    public var linked = 0
    /// View files removed.
    public var removed = 0
  }

  /// Tenants whose unix group does not exist on this node.
  public struct UnknownGroupError: Error, Sendable, CustomStringConvertible, ReportedError {
    /// Each tenant and the group it names.
    public var missing: [(tenant: String, group: String)]

    /// One message per tenant, each saying what to do.
    public var messages: [String] {
      missing.map { "tenant '\($0.tenant)': group '\($0.group)' does not exist on this node; create it or fix the tenant's group" }
    }

    /// The messages, separated by semicolons.
    public var description: String { messages.joined(separator: "; ") }

    /// One `error:` line per tenant.
    public var reportLines: [String] { messages.map { "error: " + $0 } }
  }

  /// The group id of each tenant's group, by tenant name (tenants without a group are left
  /// out); throws naming every tenant whose group does not exist.
  public static func groupIDs(for tenants: [Tenant]) throws(UnknownGroupError) -> [String: gid_t] {
    var ids: [String: gid_t] = [:]
    var missing: [(String, String)] = []
    for tenant in tenants {
      guard let group = tenant.group else { continue }
      if let id = groupID(named: group) { ids[tenant.name] = id } else { missing.append((tenant.name, group)) }
    }
    if !missing.isEmpty { throw UnknownGroupError(missing: missing) }
    return ids
  }

  /// `getgrnam_r`: the id of the group called `name`, or nil when there is none.
  public static func groupID(named name: String) -> gid_t? {
    var group = group()
    var result: UnsafeMutablePointer<group>?
    var buffer = [CChar](repeating: 0, count: 16 << 10)
    let status = getgrnam_r(name, &group, &buffer, buffer.count, &result)
    guard status == 0, result != nil else { return nil }
    return group.gr_gid
  }

  /// Makes one tenant's view of a variant what the plan says: its directories of the tenant's
  /// group and mode, every file a hard link to its blob when `isGood` vouches for it (removed
  /// otherwise), nothing else in it.
  public func link(_ view: TenantViewTarget, isGood: (Digest) -> Bool) throws {
    guard let entry = view.entry else { return }
    let tenant = Tenant(name: view.tenant, group: view.group)
    let gid = try Self.groupIDs(for: [tenant])[view.tenant]
    let base = root.tenants + "/" + view.tenant
    try ensureDirectory(base, group: gid)
    var outcome = Outcome()
    try converge(base + "/" + entry, files: view.files, group: gid, isGood: isGood, &outcome)
  }

  /// Removes a tenant's entry, or its whole directory, without following links.
  public func remove(_ view: TenantViewTarget) throws {
    _ = try StoreFiles.removeTree(root.path + "/" + view.relativePath)
  }

  /// One variant's view in a tenant's directory: every file a hard link to its good blob,
  /// nothing else.
  func converge(_ base: String, files: [ViewFile], group: gid_t?, isGood: (Digest) -> Bool, _ outcome: inout Outcome) throws {
    try ensureDirectory(base, group: group)
    var wantedFiles = Set<String>()
    var wantedDirectories = Set<String>()
    for file in files.sorted(by: { $0.path < $1.path }) {
      let target = base + "/" + file.path
      let blob = root.blob(file.sha256)
      guard isGood(file.sha256), let stored = FileStatus.of(blob), stored.kind == .regular else {
        // No blob known good: whatever is there (a link to content found wrong) must go.
        if FileStatus.of(target) != nil { outcome.removed += try StoreFiles.removeTree(target) }
        continue
      }
      wantedFiles.insert(file.path)
      let parents = Self.parents(of: file.path)
      wantedDirectories.formUnion(parents)
      for parent in parents { try ensureDirectory(base + "/" + parent, group: group) }
      if let existing = FileStatus.of(target) {
        if existing.kind == .regular, existing.fingerprint.isSameFile(as: stored.fingerprint) { continue }
        if existing.kind == .directory { outcome.removed += try StoreFiles.removeTree(target) }
      }
      try StoreFiles.linkReplacing(blob, at: target)
      outcome.linked += 1
    }
    outcome.removed += try prune(base, prefix: "", files: wantedFiles, directories: wantedDirectories)
  }

  /// Removes what is under `directory` that is neither a wanted file nor a parent of one.
  func prune(_ directory: String, prefix: String, files: Set<String>, directories: Set<String>) throws -> Int {
    var removed = 0
    for name in DirectoryListing.names(directory) {
      let relative = prefix.isEmpty ? name : prefix + "/" + name
      let full = directory + "/" + name
      guard let status = FileStatus.of(full) else { continue }
      if status.kind == .directory, directories.contains(relative) {
        removed += try prune(full, prefix: relative, files: files, directories: directories)
      } else if status.kind == .directory || !files.contains(relative) {
        removed += try StoreFiles.removeTree(full)
      }
    }
    return removed
  }

  // MARK: File system

  /// `<root>` and `tenants/` 0711, `blobs/`, `models/` and `.reconcile/` 0700.
  func lockDownRoot() throws {
    try StoreFiles.makeDirectories(root.tenants, inside: root.path)
    for (path, mode) in [(root.path, 0o711), (root.tenants, 0o711), (root.path + "/blobs", 0o700), (root.models, 0o700), (root.state, 0o700)] {
      guard FileStatus.of(path)?.kind == .directory else { continue }
      try setMode(path, mode_t(mode))
    }
  }

  /// A real directory at `path` owned by `group` (the applier's own group when nil), mode 0750
  /// (0700 without a group); anything else at `path` is replaced. A new directory is made 0700
  /// first, so it is never open to the wrong group.
  func ensureDirectory(_ path: String, group: gid_t?) throws {
    let gid = group ?? getegid()
    let mode: mode_t = group == nil ? 0o700 : 0o750
    var info = stat()
    if lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR { try StoreFiles.removeTree(path) }
    if lstat(path, &info) != 0 {
      guard mkdir(path, 0o700) == 0 else { throw BlobStore.StoreError(what: "mkdir \(path)", code: errno) }
      guard lstat(path, &info) == 0 else { throw BlobStore.StoreError(what: "stat \(path)", code: errno) }
    }
    if info.st_gid != gid {
      // The owner stays whoever runs apply (root on a node); only the group changes.
      guard chown(path, uid_t.max, gid) == 0 else { throw BlobStore.StoreError(what: "chown :\(gid) \(path)", code: errno) }
    }
    if info.st_mode & 0o7777 != mode { try setMode(path, mode) }
  }

  func setMode(_ path: String, _ mode: mode_t) throws {
    var info = stat()
    if lstat(path, &info) == 0, info.st_mode & 0o7777 == mode { return }
    guard chmod(path, mode) == 0 else { throw BlobStore.StoreError(what: "chmod \(String(mode, radix: 8)) \(path)", code: errno) }
  }

  /// `a`, `a/b` for `a/b/c.bin`.
  static func parents(of path: String) -> [String] {
    let segments = path.split(separator: "/").dropLast()
    return segments.indices.map { segments[segments.startIndex...$0].joined(separator: "/") }
  }
}
