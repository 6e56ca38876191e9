import Foundation

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
    try load(files, pipelineFrom: pipelineThreshold)
  }

  /// The size from which a YAML file's models are decoded on a second thread while the rest of
  /// the file is still being read. Below it, a thread costs more than it saves.
  static let pipelineThreshold = 1 << 20

  /// Loads `files`, decoding the models of each YAML file of `threshold` bytes or more on a
  /// second thread as they are read (`ModelPipeline`): the result is the same either way.
  static func load(_ files: [DesiredFile], pipelineFrom threshold: Int) throws(DiagnosticsError) -> LoadedDesiredState {
    let sink = DiagnosticSink()
    var merged = MergedState(sink: sink)
    var budget = YAMLReader.maximumValues
    for file in files.sorted(by: { $0.path < $1.path }) {
      let isTOML = file.path.hasSuffix(".toml")
      let pipeline = !isTOML && file.text.utf8.count >= threshold ? ModelPipeline() : nil
      let tree: DocumentNode
      do throws(DiagnosticsError) {
        tree = isTOML
          ? try TOMLReader.read(file.text, file: file.path)
          : try YAMLReader.read(file.text, file: file.path, budget: &budget, handOff: pipeline?.handOff)
      } catch {
        // As without the pipeline: a file that does not parse reports only that.
        pipeline?.cancel()
        sink.append(contentsOf: error.diagnostics)
        continue
      }
      if let pipeline {
        let models = pipeline.finish()
        sink.append(contentsOf: models.sink.diagnostics)
        merged.add(models)
      }
      var decoder = DesiredDecoder(sink: sink)
      decoder.decode(tree)
      merged.add(decoder)
      Retired.release(tree)
    }
    var state = merged.state
    let stale = LockApplication.apply(merged.locks.map(\.0), to: &state)
    DesiredValidator(state: state, map: merged.map, sink: sink).validate()
    if sink.hasErrors { throw DiagnosticsError(sink.sorted) }
    return LoadedDesiredState(state: state, sourceMap: merged.map, staleLocks: stale, locks: merged.locks.map(\.0))
  }
}

/// Decodes the models of one large file on a thread of its own while the reader goes on with
/// the rest: on a 10 MB file the two take about as long as each other. Items arrive in order
/// and are decoded in order, into a decoder and a sink of the pipeline's own, so the models,
/// their source map and their errors are what decoding the whole tree afterwards gives.
final class ModelPipeline: @unchecked Sendable {
  private let condition = NSCondition()
  /// Items handed over and not yet taken (under `condition`).
  private var pending: [DocumentNode] = []
  private var closed = false
  private var cancelled = false
  /// Items read and not yet handed over (the reading thread's alone): handing them over in
  /// batches keeps the lock out of the reader's way.
  private var batch: [DocumentNode] = []
  private let done = DispatchSemaphore(value: 0)
  /// The decoder (the pipeline thread's alone until `done`).
  private var decoder: DesiredDecoder

  init() {
    decoder = DesiredDecoder(sink: DiagnosticSink())
    let thread = Thread { [self] in run() }
    thread.name = "reconcile-decode"
    thread.start()
  }

  /// What the reader hands the items of `models` to.
  var handOff: YAMLEventReader.HandOff {
    YAMLEventReader.HandOff(key: "models") { [self] item in
      batch.append(item)
      if batch.count >= 256 { flush() }
    }
  }

  /// Waits for every item to be decoded; the decoder holds the file's models.
  func finish() -> DesiredDecoder {
    flush()
    close(cancelling: false)
    return decoder
  }

  /// Stops, dropping what was not decoded yet.
  func cancel() {
    batch = []
    close(cancelling: true)
  }

  private func flush() {
    guard !batch.isEmpty else { return }
    condition.lock()
    pending.append(contentsOf: batch)
    condition.signal()
    condition.unlock()
    batch.removeAll(keepingCapacity: true)
  }

  private func close(cancelling: Bool) {
    condition.lock()
    closed = true
    cancelled = cancelled || cancelling
    condition.signal()
    condition.unlock()
    done.wait()
  }

  private func run() {
    while true {
      condition.lock()
      while pending.isEmpty, !closed { condition.wait() }
      let items = pending
      pending = []
      let last = closed, stop = cancelled
      condition.unlock()
      if stop { break }
      for item in items { decoder.model(item) }
      if last { break }
    }
    done.signal()
  }
}

/// Frees what is no longer needed on another thread. Freeing the tree of a 10 MB desired-state
/// file, node by node, costs about a fifth of reading it, and the caller has the state to plan
/// with meanwhile.
enum Retired {
  static func release(_ tree: DocumentNode) {
    DispatchQueue.global(qos: .utility).async { withExtendedLifetime(tree) {} }
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
