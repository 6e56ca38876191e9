import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

extension NodeRootScanner {
  /// Everything under `<root>/tenants/`: files with their fingerprints, directories with their
  /// group and mode; and the id of each of `groups` that exists on this node.
  public func scanTenantViews(groups: Set<String>) -> ObservedTenantViews {
    var views = ObservedTenantViews()
    for group in groups.sorted() {
      if let id = TenantViews.groupID(named: group) { views.groupIDs[group] = id }
    }
    StoreFiles.walk(root.tenants, includingDirectories: true) { path, status in
      if status.kind == .directory {
        var info = stat()
        if lstat(root.tenants + "/" + path, &info) == 0 {
          views.directories[path] = ObservedDirectory(group: info.st_gid, mode: UInt32(info.st_mode & 0o7777))
        }
      } else {
        views.files[path] = ObservedFile(fingerprint: status.fingerprint, isRegularFile: status.kind == .regular)
      }
    }
    return views
  }

  /// The snapshots and refs of the Hugging Face cache at `cache`: each snapshot entry that is a
  /// symbolic link to a file, with that file's fingerprint, and each ref's commit.
  public func scanHFCache(_ cache: String) -> ObservedHFCache {
    var observed = ObservedHFCache(path: cache)
    for repository in DirectoryListing.names(cache) where repository.hasPrefix("models--") || repository.hasPrefix("datasets--") {
      let base = "\(cache)/\(repository)"
      StoreFiles.walk(base + "/snapshots") { relative, status in
        let path = "\(repository)/snapshots/\(relative)"
        guard status.kind == .symlink, let fingerprint = HFCachePublisher.resolvedFingerprint(ofSnapshotEntry: "\(cache)/\(path)") else { return }
        observed.snapshots[path] = fingerprint
      }
      StoreFiles.walk(base + "/refs") { relative, status in
        let path = "\(repository)/refs/\(relative)"
        guard status.kind == .regular, let text = try? String(contentsOfFile: "\(cache)/\(path)", encoding: .utf8) else { return }
        observed.refs[path] = text.trimmingCharacters(in: .whitespacesAndNewlines)
      }
    }
    return observed
  }
}
