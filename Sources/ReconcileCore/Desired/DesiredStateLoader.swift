/// One desired-state file's name and text, as the runtime read it.
public struct DesiredFile: Sendable, Hashable {
  /// The path as the user should see it, for example `Desired/models.yaml`.
  public var path: String
  /// The file's content.
  public var text: String

  /// Creates a file.
  public init(path: String, text: String) {
    self.path = path
    self.text = text
  }

  /// Whether reconcile reads a file with this name: `.yaml`, `.yml` or `.toml`.
  public static func isDesiredStateFile(_ name: String) -> Bool {
    name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".toml")
  }
}

/// A validated desired state and where each part of it was written.
public struct LoadedDesiredState: Sendable {
  /// The merged, validated state.
  public var state: DesiredState
  /// Positions of names and references, for later messages.
  public var sourceMap: SourceMap
  /// Lock entries for variants that no longer exist or no longer use `include:`; `reconcile
  /// lock` drops them.
  public var staleLocks: [VariantID] = []
  /// Every lock entry, as read.
  public var locks: [LockEntry] = []
}

/// Parses, merges and validates desired-state files. Pure: the caller reads the files.
public enum DesiredStateLoader {
  /// Loads `files` (in any order) into one state, or throws every problem found.
  public static func load(_ files: [DesiredFile]) throws(DiagnosticsError) -> LoadedDesiredState {
    let sink = DiagnosticSink()
    var merged = MergedState(sink: sink)
    var budget = YAMLReader.maximumValues
    for file in files.sorted(by: { $0.path < $1.path }) {
      let tree: DocumentNode
      do throws(DiagnosticsError) {
        tree = file.path.hasSuffix(".toml")
          ? try TOMLReader.read(file.text, file: file.path)
          : try YAMLReader.read(file.text, file: file.path, budget: &budget)
      } catch {
        sink.append(contentsOf: error.diagnostics)
        continue
      }
      var decoder = DesiredDecoder(sink: sink)
      decoder.decode(tree)
      merged.add(decoder)
    }
    var state = merged.state
    let stale = LockApplication.apply(merged.locks.map(\.0), to: &state)
    DesiredValidator(state: state, map: merged.map, sink: sink).validate()
    if sink.hasErrors { throw DiagnosticsError(sink.sorted) }
    return LoadedDesiredState(state: state, sourceMap: merged.map, staleLocks: stale, locks: merged.locks.map(\.0))
  }
}

/// Files merged one by one; the first definition of a name wins and repeats are errors.
struct MergedState {
  let sink: DiagnosticSink
  var models: [ModelID: Model] = [:]
  var tenants: [String: Tenant] = [:]
  var pools: [String: Pool] = [:]
  var policy: Policy?
  var locks: [(LockEntry, SourceLocation)] = []
  var map = SourceMap()

  init(sink: DiagnosticSink) { self.sink = sink }

  mutating func add(_ file: DesiredDecoder) {
    for model in file.models {
      if let first = map.models[model.id] {
        duplicate("model '\(model.id)'", at: file.map.models[model.id], first: first)
      } else {
        models[model.id] = model
      }
    }
    for tenant in file.tenants {
      if let first = map.tenants[tenant.name] {
        duplicate("tenant '\(tenant.name)'", at: file.map.tenants[tenant.name], first: first)
      } else {
        tenants[tenant.name] = tenant
      }
    }
    for pool in file.pools {
      if let first = map.pools[pool.name] {
        duplicate("pool '\(pool.name)'", at: file.map.pools[pool.name], first: first)
        continue
      }
      var kept = pool
      kept.nodes = pool.nodes.filter { node in
        guard let first = map.nodes[node.name] else { return true }
        duplicate("node '\(node.name)'", at: file.map.nodes[node.name], first: first)
        return false
      }
      pools[pool.name] = kept
    }
    for (lock, location) in file.locks {
      if let first = locks.first(where: { $0.0.variant == lock.variant }) {
        duplicate("lock of \(lock.variant)", at: location, first: first.1)
      } else {
        locks.append((lock, location))
      }
    }
    if let (policy, location) = file.policy {
      if let first = map.policy {
        duplicate("policy", at: location, first: first)
      } else {
        self.policy = policy
      }
    }
    map.merge(file.map)
  }

  func duplicate(_ what: String, at location: SourceLocation?, first: SourceLocation) {
    sink.error(location, "duplicate \(what)", notes: [.note(at: first, "first defined here")])
  }

  var state: DesiredState {
    DesiredState(
      models: models.values.sorted { $0.id < $1.id },
      tenants: tenants.values.sorted { $0.name < $1.name },
      pools: pools.values.sorted { $0.name < $1.name },
      policy: policy ?? Policy())
  }
}

/// Fills `include:` variants with the files of their lock.
enum LockApplication {
  /// Applies `locks` to the variants they belong to; returns the entries that belong to none.
  static func apply(_ locks: [LockEntry], to state: inout DesiredState) -> [VariantID] {
    var stale: [VariantID] = []
    for lock in locks {
      guard let m = state.models.firstIndex(where: { $0.id == lock.variant.model }),
        let v = state.models[m].variants.firstIndex(where: { $0.name == lock.variant.variant }),
        let include = state.models[m].variants[v].include
      else {
        stale.append(lock.variant)
        continue
      }
      state.models[m].variants[v].lock = VariantLock(source: lock.source, include: lock.include)
      if lock.include == include { state.models[m].variants[v].files = lock.files }
    }
    return stale.sorted()
  }
}
