/// Decodes one file's tree into models, tenants, pools and policy, reporting every schema error.
struct DesiredDecoder {
  let sink: DiagnosticSink
  var map = SourceMap()
  var models: [Model] = []
  var tenants: [Tenant] = []
  var pools: [Pool] = []
  var policy: (Policy, SourceLocation)?
  var locks: [(LockEntry, SourceLocation)] = []

  static let topLevelKeys = ["models", "tenants", "pools", "policy", "locks"]

  init(sink: DiagnosticSink) { self.sink = sink }

  mutating func decode(_ root: DocumentNode) {
    guard let top = MappingReader(root, what: "the top level", known: Self.topLevelKeys, sink: sink) else { return }
    for item in top.list("models") ?? [] { model(item) }
    for item in top.list("tenants") ?? [] { tenant(item) }
    for item in top.list("pools") ?? [] { pool(item) }
    for item in top.list("locks") ?? [] { lock(item) }
    if let node = top.value("policy"), let entry = top.mapping["policy"] {
      policy = (PolicyDecoder(sink: sink).decode(node), entry.keyLocation)
      map.policy = entry.keyLocation
    }
  }

  // MARK: Models

  static let modelKeys = ["name", "version", "sources", "default_variant", "variants", "requires", "pin"]

  mutating func model(_ node: DocumentNode) {
    guard let reader = MappingReader(node, what: "model", known: Self.modelKeys, sink: sink) else { return }
    let name = reader.name()
    let version = reader.string("version", required: true)
    var id: ModelID?
    if let (name, _) = name, let (version, _) = version { id = ModelID(name: name, version: version) }
    // The other fields are checked even without a usable name or version, so one run reports every problem.
    let what = id.map { "model '\($0)'" } ?? "model"
    if let (version, versionLocation) = version,
      version.isEmpty || version.contains("/") || version.contains("@") || version.contains(":") || version == "." || version == ".."
    {
      let owner = name.map { "model '\($0.0)'" } ?? "model"
      sink.error(versionLocation, "version '\(version)' of \(owner) must be non-empty without '/', '@' or ':'")
    }
    let fields = MappingReader(mapping: reader.mapping, what: what, sink: sink)
    var model = Model(name: id?.name ?? "", version: id?.version ?? "", pin: fields.bool("pin") ?? false)
    if let items = fields.list("sources", required: true) {
      model.sources = sources(items, of: what)
      if items.isEmpty { sink.error(fields.mapping["sources"]?.value.location, "\(what) needs at least one source") }
    }
    let defaultVariant = fields.string("default_variant")
    model.defaultVariant = defaultVariant?.0
    var digests: [String: [String: SourceLocation]] = [:]
    for entry in fields.entries("variants", required: true) ?? [] {
      if let variant = self.variant(entry, of: what, digests: &digests[entry.key, default: [:]]) { model.variants.append(variant) }
    }
    if let variants = fields.mapping["variants"], case .mapping(let mapping) = variants.value, mapping.entries.isEmpty {
      sink.error(variants.value.location, "\(what) needs at least one variant")
    }
    model.variants.sort { $0.name < $1.name }
    var requireLocations: [SourceLocation] = []
    for (text, location) in fields.strings("requires") ?? [] {
      guard let reference = ModelReference(parsing: text) else {
        sink.error(location, "requires '\(text)' of \(what) must be name@version or name@version:variant")
        continue
      }
      model.requires.append(reference)
      requireLocations.append(location)
    }
    guard let id, let (_, nameLocation) = name else { return }
    if let first = map.models[id] {
      sink.error(nameLocation, "duplicate model '\(id)'", notes: [.note(at: first, "first defined here")])
      return
    }
    map.models[id] = nameLocation
    map.defaultVariants[id] = defaultVariant?.1
    map.requires[id] = requireLocations
    for (variant, locations) in digests { map.files[VariantID(model: id, variant: variant)] = locations }
    models.append(model)
  }

  func sources(_ items: [DocumentNode], of what: String) -> [SourceURL] {
    items.compactMap { item in
      guard case .scalar(let scalar) = item, scalar.kind == .string else {
        sink.error(item.location, "sources of \(what) must be URLs, got \(item.typeDescription)")
        return nil
      }
      guard let scheme = SourceURL.scheme(of: scalar.text) else {
        let schemes = SourceURL.Scheme.allCases.map { "\($0.rawValue)://" }.joined(separator: ", ")
        sink.error(scalar.location, "unsupported source '\(scalar.text)'; use one of \(schemes)")
        return nil
      }
      let rest = scalar.text.drop { $0 != ":" }.dropFirst(3)
      if rest.isEmpty || rest == "/" && scheme != .file {
        sink.error(scalar.location, "source '\(scalar.text)' has no location after '\(scheme.rawValue)://'")
        return nil
      }
      return SourceURL(scheme: scheme, url: scalar.text)
    }
  }

  static let variantKeys = ["vram", "files", "include"]
  static let fileKeys = ["path", "size", "sha256", "git_sha1"]

  /// The variant in `entry`; `digests` gets where each file's sha256 is, by path.
  func variant(_ entry: DocumentNode.Entry, of model: String, digests: inout [String: SourceLocation]) -> Variant? {
    let what = "variant '\(entry.key)' of \(model)"
    // A bad name still lets the files be checked, so one run reports every problem.
    let validName = Names.isValid(entry.key)
    if !validName {
      sink.error(entry.keyLocation, "variant name '\(entry.key)' must use only a-z, 0-9, '.', '_' and '-'")
    }
    guard let reader = MappingReader(entry.value, what: what, known: Self.variantKeys, sink: sink) else { return nil }
    var variant = Variant(name: entry.key, vram: reader.bytes("vram"))
    if let globs = reader.strings("include") {
      if reader.mapping["files"] != nil {
        sink.error(reader.mapping["include"]?.keyLocation, "\(what) lists both files and include; use one: include is resolved into files by 'reconcile lock'")
      }
      if globs.isEmpty, let entry = reader.mapping["include"] { sink.error(entry.value.location, "\(what) has an empty include list") }
      for (glob, location) in globs {
        if let problem = PathRules.problem(glob.replacingAll("*", with: "x").replacingAll("?", with: "x")) {
          sink.error(location, "include glob '\(glob)' in \(what) \(problem)")
        }
      }
      variant.include = globs.map(\.0)
      return validName ? variant : nil
    }
    let items = reader.list("files", required: true)
    if let items, items.isEmpty, let entry = reader.mapping["files"] {
      sink.error(entry.value.location, "\(what) lists no files")
    }
    variant.files = files(items ?? [], of: what, digests: &digests)
    variant.files.sort { $0.path < $1.path }
    return validName ? variant : nil
  }

  /// Decodes a list of `{ path, size, sha256, git_sha1 }`, checking paths, digests and repeats.
  func files(_ items: [DocumentNode], of what: String, digests: inout [String: SourceLocation]) -> [FileSpec] {
    var result: [FileSpec] = []
    var seen: [String: SourceLocation] = [:]
    for item in items {
      guard let file = MappingReader(item, what: "file of \(what)", known: Self.fileKeys, sink: sink) else { continue }
      let path = file.string("path", required: true)
      let size = file.bytes("size", required: true)
      let digest = file.string("sha256", required: true)
      var gitSHA1: String?
      if let (hex, location) = file.string("git_sha1") {
        if hex.utf8.count == 40, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
          gitSHA1 = hex
        } else {
          sink.error(location, "git_sha1 must be 40 lowercase hex digits, got \(hex.unicodeScalars.count) characters")
        }
      }
      // A bad path still lets the digest be checked, so one run reports both.
      var checkedPath: String?
      if let (path, location) = path {
        if let problem = PathRules.problem(path) {
          sink.error(location, "path '\(PathRules.printable(path))' in \(what) \(problem)")
        } else if let first = seen[path] {
          sink.error(location, "path '\(path)' appears twice in \(what)", notes: [.note(at: first, "first listed here")])
        } else {
          seen[path] = location
          checkedPath = path
        }
      }
      var checked: Digest?
      if let (hex, location) = digest {
        checked = Digest(hex: hex)
        if checked == nil { sink.error(location, DigestRules.problem(hex)) }
      }
      if let path = checkedPath, let size, let checked, let (_, location) = digest {
        result.append(FileSpec(path: path, size: size, sha256: checked, gitSHA1: gitSHA1))
        digests[path] = location
      }
    }
    for (path, location) in seen {
      if let parent = PathRules.parents(of: path).first(where: { seen[$0] != nil }) {
        sink.error(location, "path '\(path)' in \(what) is inside '\(parent)', which is listed as a file")
      }
    }
    return result.sorted { $0.path < $1.path }
  }

  // MARK: Locks

  static let lockKeys = ["model", "variant", "source", "include", "files"]

  /// One entry of a lock file written by `reconcile lock`.
  mutating func lock(_ node: DocumentNode) {
    guard let reader = MappingReader(node, what: "lock", known: Self.lockKeys, sink: sink),
      let (modelText, location) = reader.string("model", required: true),
      let (variant, _) = reader.name("variant"),
      let (sourceText, sourceLocation) = reader.string("source", required: true)
    else { return }
    guard let model = ModelID(parsing: modelText) else {
      sink.error(location, "lock model '\(modelText)' must be name@version")
      return
    }
    guard let scheme = SourceURL.scheme(of: sourceText) else {
      sink.error(sourceLocation, "unsupported source '\(sourceText)' in the lock of \(model):\(variant)")
      return
    }
    var digests: [String: SourceLocation] = [:]
    let what = "the lock of \(model):\(variant)"
    let include = reader.strings("include")?.map(\.0) ?? []
    let files = files(reader.list("files", required: true) ?? [], of: what, digests: &digests)
    locks.append((LockEntry(variant: VariantID(model: model, variant: variant), source: SourceURL(scheme: scheme, url: sourceText), include: include, files: files), location))
  }

  // MARK: Tenants and pools

  static let tenantKeys = ["name", "tier", "quota", "group", "models"]
  static let referenceKeys = ["model", "pin"]

  mutating func tenant(_ node: DocumentNode) {
    guard let reader = MappingReader(node, what: "tenant", known: Self.tenantKeys, sink: sink) else { return }
    let name = reader.name()
    // The other fields are checked even without a usable name, so one run reports every problem.
    let what = name.map { "tenant '\($0.0)'" } ?? "tenant"
    let fields = MappingReader(mapping: reader.mapping, what: what, sink: sink)
    var tenant = Tenant(name: name?.0 ?? "")
    let tier = fields.string("tier")
    tenant.tier = tier?.0
    tenant.group = fields.string("group")?.0
    if let quota = fields.value("quota") { tenant.quota = QuotaDecoder(sink: sink).decode(quota, what: "quota of \(what)") }
    var locations: [SourceLocation] = []
    for item in fields.list("models") ?? [] {
      var text: (String, SourceLocation)?
      var pin = false
      if case .scalar(let scalar) = item, scalar.kind == .string {
        text = (scalar.text, scalar.location)
      } else if let entry = MappingReader(item, what: "model reference of \(what)", known: Self.referenceKeys, sink: sink) {
        text = entry.string("model", required: true)
        pin = entry.bool("pin") ?? false
      }
      guard let (reference, at) = text else { continue }
      guard var parsed = ModelReference(parsing: reference) else {
        sink.error(at, "model reference '\(reference)' of \(what) must be name@version or name@version:variant")
        continue
      }
      parsed.pin = pin
      tenant.models.append(parsed)
      locations.append(at)
    }
    guard let (name, location) = name else { return }
    if let first = map.tenants[name] {
      sink.error(location, "duplicate tenant '\(name)'", notes: [.note(at: first, "first defined here")])
      return
    }
    map.tenants[name] = location
    map.tenantTiers[name] = tier?.1
    map.tenantModels[name] = locations
    tenants.append(tenant)
  }

  static let poolKeys = ["name", "serves", "replicas", "placement", "nodes"]
  static let nodeKeys = ["name", "disk", "vram", "draining", "labels"]

  mutating func pool(_ node: DocumentNode) {
    guard let reader = MappingReader(node, what: "pool", known: Self.poolKeys, sink: sink) else { return }
    let name = reader.name()
    // The other fields are checked even without a usable name, so one run reports every problem.
    let what = name.map { "pool '\($0.0)'" } ?? "pool"
    let fields = MappingReader(mapping: reader.mapping, what: what, sink: sink)
    var pool = Pool(name: name?.0 ?? "", replicas: fields.integer("replicas", minimum: 1), placement: fields.choice("placement", Placement.self) ?? .spread)
    let serves = fields.strings("serves") ?? []
    pool.serves = serves.map(\.0)
    for item in fields.list("nodes", required: true) ?? [] {
      guard let node = MappingReader(item, what: "node of \(what)", known: Self.nodeKeys, sink: sink) else { continue }
      let nodeName = node.name()
      let nodeWhat = nodeName.map { "node '\($0.0)'" } ?? "node of \(what)"
      let nodeReader = MappingReader(mapping: node.mapping, what: nodeWhat, sink: sink)
      let disk = nodeReader.bytes("disk", required: true)
      let vram = nodeReader.bytes("vram")
      let draining = nodeReader.bool("draining") ?? false
      var labels: [String: String] = [:]
      for entry in nodeReader.entries("labels") ?? [] {
        guard case .scalar(let scalar) = entry.value, scalar.kind != .null else {
          sink.error(entry.value.location, "label '\(entry.key)' of \(nodeWhat) must be a string, got \(entry.value.typeDescription)")
          continue
        }
        labels[entry.key] = scalar.text
      }
      guard let (nodeName, nodeLocation) = nodeName, let disk else { continue }
      if let first = map.nodes[nodeName] {
        sink.error(nodeLocation, "duplicate node '\(nodeName)'", notes: [.note(at: first, "first defined here")])
        continue
      }
      map.nodes[nodeName] = nodeLocation
      pool.nodes.append(PoolNode(name: nodeName, disk: disk, vram: vram, draining: draining, labels: labels))
    }
    pool.nodes.sort { $0.name < $1.name }
    guard let (name, location) = name else { return }
    if let first = map.pools[name] {
      sink.error(location, "duplicate pool '\(name)'", notes: [.note(at: first, "first defined here")])
      return
    }
    map.pools[name] = location
    if let replicas = fields.mapping["replicas"] { map.poolReplicas[name] = replicas.value.location }
    map.poolServes[name] = serves.map(\.1)
    pools.append(pool)
  }
}

extension MappingReader {
  /// A reader over a mapping already checked for unknown keys, with a more precise name.
  init(mapping: DocumentNode.Mapping, what: String, sink: DiagnosticSink) {
    self.mapping = mapping
    self.what = what
    self.sink = sink
  }
}
