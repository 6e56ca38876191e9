import Foundation
import ReconcileCore

/// One node's view of the world: its desired-state directory, its root and its name.
///
/// The session does the I/O around the pure core: it reads files, scans the root, opens the
/// registry, and stamps plans with digests of what they were made from.
public struct Session: Sendable {
  /// Where the desired-state files are.
  public var desired: DesiredDirectory
  /// The node's store.
  public var root: NodeRoot
  /// The node's name as pools list it.
  public var node: String
  /// How to reach Hub and S3 sources; plans resolve Hub branches and tags to commits with it.
  public var sources: SourceSettings?
  /// Where the node publishes Hub models as a Hugging Face cache, if anywhere.
  public var hfCache: String?
  /// The fleet registry's connection string, when the node is in a fleet; nil for one node on
  /// its embedded SQLite file.
  public var registry: String?

  /// Creates a session.
  public init(desired: String, root: String, node: String, sources: SourceSettings? = nil, hfCache: String? = nil, registry: String? = nil) {
    self.desired = DesiredDirectory(path: desired)
    self.root = NodeRoot(root)
    self.node = node
    self.sources = sources
    self.hfCache = hfCache
    self.registry = registry
  }

  /// Reads and validates the desired state; throws `DesiredDirectory.ReadError` or `DiagnosticsError`.
  public func loadDesired() throws -> LoadedDesiredState {
    try DesiredStateLoader.load(try desired.files())
  }

  /// The desired state and a digest of the files it was read from.
  public func loadDesiredWithDigest() throws -> (LoadedDesiredState, String) {
    let files = try desired.files()
    return (try DesiredStateLoader.load(files), Self.digest(of: files))
  }

  /// Opens the registry if the root has one; a root that was never applied has none yet.
  public func existingRegistry() throws -> SQLiteRegistry? {
    guard FileStatus.of(root.registry) != nil else { return nil }
    do {
      let registry = try SQLiteRegistry(path: root.registry)
      _ = try registry.verifiedDigests()
      return registry
    } catch where SQLiteRegistry.isCorruption(error) {
      throw RegistryUnreadable(path: root.registry, cause: (error as? SQLiteError)?.message ?? "\(error)")
    }
  }

  /// Scans the root, its tenant views and the Hugging Face cache, trusting files whose
  /// fingerprints the verified-file cache recorded, with this node's ledger's times.
  public func observe(_ desired: DesiredState) throws -> ObservedState {
    try checkStoreReadable()
    guard let registry = try existingRegistry() else { return try observe(desired, cache: nil, ledger: nil) }
    return try observe(desired, cache: registry, ledger: registry.ledger(node: node))
  }

  /// Scans the root's store and model views alone, for `verify`.
  public func observe() throws -> ObservedState {
    try checkStoreReadable()
    let registry = try existingRegistry()
    return NodeRootScanner(root: root).scan(verified: try registry?.verifiedDigests() ?? [:])
  }

  /// Scans the root with an open cache and ledger (nil for a root never applied).
  func observe(_ desired: DesiredState, cache: (any VerifiedFileCache)?, ledger: (any NodeLedger)?) throws -> ObservedState {
    let scanner = NodeRootScanner(root: root)
    var observed = scanner.scan(
      verified: try cache?.verifiedDigests() ?? [:], lastUse: try ledger?.lastUse() ?? [:], unwantedSince: try ledger?.unwantedSince() ?? [:])
    observed.tenantViews = scanner.scanTenantViews(groups: Set(desired.tenants.compactMap(\.group)))
    if let hfCache { observed.hfCache = scanner.scanHFCache(hfCache) }
    return observed
  }

  /// Plans from what was loaded and observed, stamped and with Hub revisions pinned.
  func plan(_ desiredState: DesiredState, _ observed: ObservedState, digest: String, at now: Date, fleet: FleetSnapshot? = nil) throws -> Plan {
    var plan = try Planner.plan(desiredState, observed, on: node, at: now, fleet: fleet)
    plan.desired = DesiredStamp(path: desired.path, commit: desired.gitCommit(), digest: digest)
    plan.observedDigest = Self.digest(of: observed)
    return pinningHubRevisions(plan, observed: observed)
  }

  /// A SHA-256 over the desired-state files' names and contents, in name order. Any edit,
  /// even a comment, changes it: a saved plan is refused rather than applied to a state it was
  /// not made from.
  public static func digest(of files: [DesiredFile]) -> String {
    let hasher = SHA256Hasher()
    for file in files.sorted(by: { $0.path < $1.path }) {
      hasher.update("\((file.path as NSString).lastPathComponent)\n\(file.text.utf8.count)\n")
      hasher.update(file.text)
    }
    return hasher.finalize().hex
  }

  /// A SHA-256 of what the plan depends on in the observed state: blobs, views, tenant views
  /// and the Hugging Face cache, with their fingerprints and verification. Free space and
  /// partial downloads are left out because they change without changing what apply must do.
  public static func digest(of observed: ObservedState) -> String {
    let hasher = SHA256Hasher()
    for (path, file) in observed.tenantViews.files.sorted(by: { $0.key < $1.key }) {
      hasher.update("t \(path) \(file.fingerprint) \(file.isRegularFile)\n")
    }
    for (path, directory) in observed.tenantViews.directories.sorted(by: { $0.key < $1.key }) {
      hasher.update("d \(path) \(directory.group) \(directory.mode)\n")
    }
    for (path, fingerprint) in observed.hfCache.snapshots.sorted(by: { $0.key < $1.key }) {
      hasher.update("s \(path) \(fingerprint)\n")
    }
    for (path, commit) in observed.hfCache.refs.sorted(by: { $0.key < $1.key }) {
      hasher.update("r \(path) \(commit)\n")
    }
    for blob in observed.blobs.values.sorted(by: { $0.digest < $1.digest }) {
      hasher.update("b \(blob.digest.hex) \(blob.fingerprint) \(blob.verification.rawValue)\n")
    }
    for variant in observed.variants.values.sorted(by: { $0.id < $1.id }) {
      for (path, file) in variant.files.sorted(by: { $0.key < $1.key }) {
        hasher.update("v \(variant.id) \(path) \(file.fingerprint) \(file.verifiedDigest?.hex ?? "-") \(file.isRegularFile)\n")
      }
    }
    return hasher.finalize().hex
  }

  /// The plan with every Hub source at a branch or tag replaced by the commit it points to now,
  /// so the plan shows, and apply fetches, exactly that commit. A source that cannot be
  /// resolved (offline, no access) stays as written; apply reports its error if it is used.
  ///
  /// A Hugging Face cache publication of a branch or tag is pinned the same way, then kept only
  /// when the cache does not already hold that commit's snapshot under that ref; one that cannot
  /// be pinned is left out (the cache keeps what it has).
  public func pinningHubRevisions(_ plan: Plan, observed: ObservedState) -> Plan {
    var plan = plan
    let branchPublications = plan.changes.indices.filter { plan.changes[$0].publication?.pinnedFrom != nil && plan.changes[$0].publication?.commit.isEmpty == true }
    guard let settings = sources?.hub else {
      plan.changes.removeAll { $0.publication?.pinnedFrom != nil && $0.publication?.commit.isEmpty == true }
      return plan
    }
    var resolved: [String: String] = [:]
    // When the Hub cannot be reached at all, one failed attempt is enough: the plan of a large
    // fleet must not wait for every repository in turn.
    var reachable = true
    func resolve(_ url: String, _ reference: HubReference) -> String? {
      if resolved[url] == nil {
        guard reachable else { return nil }
        do {
          resolved[url] = try HubAPI(settings: settings, timeout: 15).resolveRevision(reference)
        } catch {
          resolved[url] = ""
          if error.kind == .network || error.kind == .timedOut { reachable = false }
        }
      }
      return resolved[url].flatMap { $0.isEmpty ? nil : $0 }
    }
    for index in plan.changes.indices where plan.changes[index].action == .download {
      var pinned: [SourceURL] = []
      for source in plan.changes[index].sources {
        guard reachable, source.scheme == .hf, let reference = try? HubReference(parsing: source.url), !reference.isCommit else {
          pinned.append(source)
          continue
        }
        if let commit = resolve(source.url, reference) {
          pinned.append(SourceURL(scheme: .hf, url: reference.at(revision: commit).description))
        } else {
          pinned.append(source)
        }
      }
      // A locked source and the declared branch pinned to the same commit are one source.
      var seen = Set<String>()
      plan.changes[index].sources = pinned.filter { seen.insert($0.url).inserted }
    }
    var dropped = Set<Int>()
    for index in branchPublications {
      let change = plan.changes[index]
      let commit = change.publication?.pinnedFrom.flatMap { url in (try? HubReference(parsing: url)).flatMap { resolve(url, $0) } }
      if let pinned = Planner.publication(pinning: change, to: commit, observed) {
        plan.changes[index] = pinned
      } else {
        dropped.insert(index)
      }
    }
    plan.changes = plan.changes.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
    return plan
  }
}
