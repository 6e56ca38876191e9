import Foundation

extension Planner {
  /// A publication for every variant the node holds whose source is a Hub repository at a
  /// commit, when its snapshot in the Hugging Face cache is missing, does not resolve to the
  /// store's blobs, or its ref names another commit; and one for every variant whose source is
  /// at a branch or tag, with the commit left to pin. Nothing without a configured cache.
  static func cachePublications(_ desired: DesiredState, _ target: NodeTarget, _ observed: ObservedState) -> [Change] {
    guard let cache = observed.hfCache.path else { return [] }
    var changes: [Change] = []
    for id in target.variants.sorted() {
      guard let model = desired.model(id.model), let variant = model.variant(id.variant),
        let (reference, declared) = hubSource(model: model, variant: variant)
      else { continue }
      let prefix = reference.kind == .dataset ? "datasets" : "models"
      var publication = CachePublication(
        cache: cache, repository: "\(prefix)--\(reference.repo.replacingOccurrences(of: "/", with: "--"))", repo: reference.repo,
        commit: reference.isCommit ? reference.revision : "", ref: HubReference.isCommitID(declared) ? nil : declared,
        lockedFromHub: variant.lock?.source.scheme == .hf && !variant.needsLock,
        files: variant.files.map { ViewFile(path: $0.path, sha256: $0.sha256, size: $0.size, gitSHA1: $0.gitSHA1) })
      guard reference.isCommit else {
        // A branch or tag: whether the snapshot is current depends on the commit it points to
        // now, which the plan learns when it pins Hub revisions (`publication(pinning:…)`).
        publication.pinnedFrom = reference.repository
        var change = Change(action: .publish, subject: ChangeSubject(variant: id), digest: nil, bytes: 0, reason: .viewMissing, files: publication.files.count)
        change.publication = publication
        changes.append(change)
        continue
      }
      if let change = publicationChange(id, publication, observed) { changes.append(change) }
    }
    return changes
  }

  /// The change that publishes `publication` (at a known commit), or nil when the cache
  /// already holds every file of its snapshot and its ref names that commit.
  public static func publicationChange(_ id: VariantID, _ publication: CachePublication, _ observed: ObservedState) -> Change? {
    var published = 0
    for file in publication.files {
      if let blob = observed.blobs[file.sha256], let entry = observed.hfCache.snapshots[publication.snapshotPath(file.path)], entry.isSameFile(as: blob.fingerprint) {
        published += 1
      }
    }
    let refCurrent = publication.ref.map { observed.hfCache.refs["\(publication.repository)/refs/\($0)"] == publication.commit } ?? true
    guard published < publication.files.count || !refCurrent else { return nil }
    var change = Change(
      action: .publish, subject: ChangeSubject(variant: id), digest: nil, bytes: 0, reason: published == 0 ? .viewMissing : .viewDiffers,
      files: publication.files.count)
    change.publication = publication
    return change
  }

  /// The publish change of a branch or tag once its commit is known (nil: nothing to publish),
  /// or nil when it could not be pinned (`commit` nil).
  public static func publication(pinning change: Change, to commit: String?, _ observed: ObservedState) -> Change? {
    guard var publication = change.publication, let commit, !commit.isEmpty else { return nil }
    publication.commit = commit
    return publicationChange(change.subject.variant, publication, observed)
  }

  /// The Hub source a variant's files come from: its lock's pinned source, else the model's
  /// first `hf://` source; with the revision the desired state names (a branch, tag or commit).
  static func hubSource(model: Model, variant: Variant) -> (HubReference, declared: String)? {
    let declaredSource = model.sources.first { $0.scheme == .hf }
    guard let source = variant.lock?.source.scheme == .hf ? variant.lock?.source : declaredSource,
      let reference = try? HubReference(parsing: source.url)
    else { return nil }
    let declared = declaredSource.flatMap { try? HubReference(parsing: $0.url) }?.revision ?? reference.revision
    return (reference, declared)
  }
}
