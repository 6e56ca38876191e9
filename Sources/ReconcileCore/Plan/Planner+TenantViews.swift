import Foundation

extension Planner {
  /// Tenant-view changes: a link for every view of a served tenant that is missing, differs
  /// from its blobs, holds something else or has the wrong group or mode; an unlink for every
  /// entry a served tenant no longer uses and for the directory of every tenant this node no
  /// longer serves.
  static func tenantViewChanges(_ desired: DesiredState, _ target: NodeTarget, _ observed: ObservedState, _ served: [TenantUsage]) -> [Change] {
    let views = observed.tenantViews
    let servedNames = Set(served.map(\.tenant))
    var changes: [Change] = []
    var present = Set<String>()
    for path in Array(views.files.keys) + Array(views.directories.keys) {
      if let tenant = path.split(separator: "/").first { present.insert(String(tenant)) }
    }
    for tenant in present.sorted() where !servedNames.contains(tenant) {
      changes.append(unlink(TenantViewTarget(tenant: tenant, group: nil, entry: nil), reason: .tenantNotServed))
    }
    for usage in served {
      let tenant = Tenant(name: usage.tenant, group: usage.group)
      let entries = TenantViewLayout.entries(usage.variants.filter { target.variants.contains($0) })
      for (name, id) in entries.sorted(by: { $0.key < $1.key }) {
        let files = desired.model(id.model)?.variant(id.variant)?.files ?? []
        let view = TenantViewTarget(
          tenant: tenant.name, group: tenant.group, entry: name,
          files: files.map { ViewFile(path: $0.path, sha256: $0.sha256, size: $0.size) })
        guard let reason = tenantViewProblem(view, views: views, observed: observed) else { continue }
        var change = Change(action: .link, subject: ChangeSubject(variant: id, tenant: tenant.name), digest: nil, bytes: 0, reason: reason, files: files.count)
        change.tenantView = view
        changes.append(change)
      }
      let prefix = tenant.name + "/"
      var stale = Set<String>()
      for path in Array(views.files.keys) + Array(views.directories.keys) where path.hasPrefix(prefix) {
        if let entry = path.dropFirst(prefix.count).split(separator: "/").first, entries[String(entry)] == nil { stale.insert(String(entry)) }
      }
      for entry in stale.sorted() {
        changes.append(unlink(TenantViewTarget(tenant: tenant.name, group: tenant.group, entry: entry), reason: .tenantDropped))
      }
    }
    return changes
  }

  /// The removal of a tenant's entry, or of its whole directory.
  static func unlink(_ view: TenantViewTarget, reason: Reason) -> Change {
    let subject = ChangeSubject(variant: VariantID(parsing: view.entry ?? "") ?? VariantID(name: view.entry ?? view.tenant, version: "", variant: ""), path: view.relativePath, tenant: view.tenant)
    var change = Change(action: .unlink, subject: subject, digest: nil, bytes: 0, reason: reason, files: 0)
    change.tenantView = view
    return change
  }

  /// Why one tenant view must be linked again, or nil when it is as it should be: every file a
  /// hard link to its verified blob, nothing else in it, its directories of the tenant's
  /// group and mode.
  static func tenantViewProblem(_ view: TenantViewTarget, views: ObservedTenantViews, observed: ObservedState) -> Reason? {
    guard let entry = view.entry else { return nil }
    let base = "\(view.tenant)/\(entry)"
    let mode = TenantViewLayout.mode(group: view.group)
    let group = view.group.flatMap { views.groupIDs[$0] }
    func directoryDiffers(_ path: String) -> Bool {
      guard let directory = views.directories[path] else { return true }
      return directory.mode != mode || (group.map { directory.group != $0 } ?? false)
    }
    guard views.directories[base] != nil else { return .viewMissing }
    var wantedFiles = Set<String>()
    var wantedDirectories: Set<String> = [view.tenant, base]
    var missing = false
    var differs = false
    for file in view.files {
      let path = base + "/" + file.path
      wantedFiles.insert(path)
      for parent in PathRules.parents(of: file.path) { wantedDirectories.insert(base + "/" + parent) }
      guard let blob = observed.blobs[file.sha256], let linked = views.files[path] else {
        missing = true
        continue
      }
      if !linked.isRegularFile || !linked.isLink(to: blob) { differs = true }
    }
    if missing { return .viewMissing }
    for directory in wantedDirectories where directoryDiffers(directory) { return .viewDiffers }
    let prefix = base + "/"
    for path in views.files.keys where path.hasPrefix(prefix) && !wantedFiles.contains(path) { return .viewDiffers }
    for path in views.directories.keys where path.hasPrefix(prefix) && !wantedDirectories.contains(path) { return .viewDiffers }
    return differs ? .viewDiffers : nil
  }
}
