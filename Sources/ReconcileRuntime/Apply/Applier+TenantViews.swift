import Foundation
import ReconcileCore

extension Applier {
  /// Brings the tenants' views in line once the jobs and evictions ran, linking only blobs
  /// known good in this run. It runs before `recordFingerprints()`, since a hard link made or
  /// removed here changes its blob's ctime and the new fingerprint must be the one recorded.
  func linkTenantViews(desired: DesiredState, target: NodeTarget) {
    let good = verified.current
    do {
      let outcome = try TenantViews(root: store.root).converge(desired, target: target) { good[$0] != nil }
      summary.update { $0.tenantViews = outcome.tenants }
    } catch {
      let subject = ChangeSubject(variant: VariantID(name: "tenants", version: "-", variant: "-"))
      summary.update { $0.failures.append((ApplyAction(action: .link, subject: subject, bytes: 0), "tenant views in \(store.root.path)/tenants: \(error)")) }
    }
  }

  /// Brings the tenants' views in line on a run whose plan has no changes (a tenant added, a
  /// group changed, a view removed by hand), without an audit run: only blobs the scan found
  /// verified are linked, and when a link was made or removed their new fingerprints are
  /// recorded, so the next run still hashes nothing.
  public static func refreshTenantViews(
    root: NodeRoot, registry: SQLiteRegistry, desired: DesiredState, observed: ObservedState, node: String
  ) throws -> TenantViews.Outcome {
    let target = try NodeTarget.resolve(desired, node: node)
    let options = ApplyOptions(concurrency: 1, retry: desired.policy.retry, user: "", command: "", sourceBase: root.path)
    let applier = Applier(root: root, registry: registry, transfers: [:], options: options, events: { _ in })
    for (digest, blob) in observed.blobs where blob.verification == .verified {
      applier.verified.update { $0[digest] = blob.fingerprint }
    }
    let good = applier.verified.current
    let outcome = try TenantViews(root: root).converge(desired, target: target) { good[$0] != nil }
    if outcome.touchedBlobs {
      applier.recordFingerprints()
      if let failure = applier.summary.current.failures.first { throw ApplyFailure(failure.cause) }
    }
    return outcome
  }
}
