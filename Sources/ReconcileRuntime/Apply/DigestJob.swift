import Foundation
import ReconcileCore

/// Everything a plan does with one digest: fetch or verify it once, then link every view of it.
struct DigestJob: Sendable {
  /// The content.
  var digest: Digest
  /// Its declared size.
  var size: Int64
  /// The download, verification or adoption the blob needs; nil when it only needs links.
  var primary: Change?
  /// The plan's link changes for this digest, reported as done when the views are linked.
  var linkChanges: [Change]
  /// The views of the digest the plan links once the blob is good.
  var views: [ChangeSubject]
  /// Where to fetch it, in order: the primary change's sources, then its alternates.
  var sources: [PlannedSource]

  /// One job per digest the plan downloads, verifies or links in a variant's view, in plan order.
  static func jobs(for plan: Plan) -> [DigestJob] {
    var order: [Digest] = []
    var jobs: [Digest: DigestJob] = [:]
    for change in plan.changes where [.download, .verify, .link].contains(change.action) && change.subject.tenant == nil {
      guard let digest = change.digest, change.subject.path != nil else { continue }
      if jobs[digest] == nil {
        order.append(digest)
        jobs[digest] = DigestJob(digest: digest, size: change.bytes, primary: nil, linkChanges: [], views: [], sources: [])
      }
      jobs[digest]?.views.append(change.subject)
      let isPrimary = change.action != .link || change.reason == .missing
      if isPrimary, jobs[digest]?.primary == nil {
        jobs[digest]?.primary = change
        if change.action != .link { jobs[digest]?.size = change.bytes }
        jobs[digest]?.sources = change.plannedSources
      } else {
        jobs[digest]?.linkChanges.append(change)
      }
    }
    return order.compactMap { jobs[$0] }
  }
}
