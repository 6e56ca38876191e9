import Foundation
import ReconcileCore

extension Applier {
  /// Runs the plan's tenant-view changes once the jobs and evictions ran, linking only blobs
  /// known good in this run. It runs before `recordFingerprints()`, since a hard link made or
  /// removed here changes its blob's ctime and the new fingerprint must be the one recorded.
  func convergeTenantViews(_ plan: Plan) {
    // A tenant does not see a variant that waits for what it requires.
    let waiting = Set(summary.current.waiting.map(\.variant))
    let changes = plan.changes.filter {
      $0.tenantView != nil && ($0.action == .link || $0.action == .unlink) && !($0.action == .link && waiting.contains($0.subject.variant))
    }
    guard !changes.isEmpty else { return }
    let views = TenantViews(root: store.root)
    let good = verified.current
    var touched = Set<String>()
    if !plan.target.tenants.isEmpty {
      do {
        try views.lockDownRoot()
      } catch {
        let action = ApplyAction(action: .link, subject: ChangeSubject(variant: VariantID(name: "tenants", version: "-", variant: "-")), bytes: 0)
        finish(action, audit: nil, .failed("tenant views in \(store.root.tenants): \(error)"))
        return
      }
    }
    for change in changes {
      guard let view = change.tenantView else { continue }
      let action = ApplyAction(action: change.action, subject: change.subject, bytes: 0)
      let audit = beginAudit(action, source: nil)
      events(.actionStarted(action))
      do {
        if change.action == .unlink {
          try views.remove(view)
        } else {
          try views.link(view) { good[$0] != nil }
        }
        touched.insert(view.tenant)
        finish(action, audit: audit, .succeeded(source: nil, bytes: 0))
      } catch {
        finish(action, audit: audit, .failed("\(action): \(error)"))
      }
    }
    summary.update { $0.tenantViews = touched.sorted() }
  }

  /// Publishes the plan's Hugging Face cache snapshots whose blobs are all known good.
  func publish(_ changes: [Change]) {
    let good = verified.current
    for change in changes {
      guard let publication = change.publication else { continue }
      let action = ApplyAction(action: .publish, subject: change.subject, bytes: 0)
      guard publication.files.allSatisfy({ good[$0.sha256] != nil }) else {
        finish(action, audit: nil, .failed("\(action): its blobs are not all verified"))
        continue
      }
      let audit = beginAudit(action, source: nil)
      events(.actionStarted(action))
      do {
        try HFCachePublisher(root: store.root, cache: publication.cache).publish(publication)
        summary.update { $0.published.append("\(publication.repo)@\(publication.commit)") }
        finish(action, audit: audit, .succeeded(source: nil, bytes: 0))
      } catch {
        finish(action, audit: audit, .failed("\(action): \(error)"))
      }
    }
  }
}
