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
  /// Every desired view of the digest on this node, all (re)linked once the blob is good.
  var views: [ChangeSubject]
  /// Where to fetch it: the primary change's sources first, then those of other models that
  /// list the same digest.
  var sources: [(source: SourceURL, path: String)]

  /// One job per digest the plan downloads, verifies or links, in plan order.
  static func jobs(for plan: Plan, desired: DesiredState, target: NodeTarget) -> [DigestJob] {
    var views: [Digest: [ChangeSubject]] = [:]
    var alternatives: [Digest: [(SourceURL, String)]] = [:]
    for id in target.variants.sorted() {
      guard let model = desired.model(id.model), let variant = model.variant(id.variant) else { continue }
      for file in variant.files {
        views[file.sha256, default: []].append(ChangeSubject(variant: id, path: file.path))
        alternatives[file.sha256, default: []] += model.sources.map { ($0, file.path) }
      }
    }
    var order: [Digest] = []
    var jobs: [Digest: DigestJob] = [:]
    for change in plan.changes where change.action != .evict {
      guard let digest = change.digest, let path = change.subject.path else { continue }
      if jobs[digest] == nil {
        order.append(digest)
        let size = desired.model(change.subject.variant.model)?.variant(change.subject.variant.variant)?.files.first { $0.path == path }?.size ?? change.bytes
        jobs[digest] = DigestJob(digest: digest, size: size, primary: nil, linkChanges: [], views: views[digest] ?? [change.subject], sources: [])
      }
      let isPrimary = change.action != .link || change.reason == .missing
      if isPrimary, jobs[digest]?.primary == nil {
        jobs[digest]?.primary = change
        var seen = Set<String>()
        // Other models' sources come after the plan's, once each; a Hub repository the plan
        // already names (pinned to a commit) is not tried again at its branch.
        let planned = Set(change.sources.compactMap(Self.hubRepository))
        let others = (alternatives[digest] ?? []).filter { Self.hubRepository($0.0).map { !planned.contains($0) } ?? true }
        let candidates = change.sources.map { ($0, path) } + others
        jobs[digest]?.sources = candidates.filter { seen.insert("\($0.0.url)|\($0.1)").inserted }
      } else {
        jobs[digest]?.linkChanges.append(change)
      }
    }
    return order.compactMap { jobs[$0] }
  }

  /// `[datasets/]ORG/REPO` of a Hub source, without its revision; nil for other schemes.
  static func hubRepository(_ source: SourceURL) -> String? {
    guard source.scheme == .hf else { return nil }
    let rest = source.url.dropFirst("hf://".count)
    return String(rest.prefix { $0 != "@" }).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
  }
}
