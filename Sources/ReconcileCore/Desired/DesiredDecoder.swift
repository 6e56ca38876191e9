/// Decodes one file's tree into models, tenants, pools and policy, reporting every schema error.
struct DesiredDecoder {
  let sink: DiagnosticSink
  var map = SourceMap()
  var models: [Model] = []
  var tenants: [Tenant] = []
  var pools: [Pool] = []
  var policy: (Policy, SourceLocation)?

  static let topLevelKeys = ["models", "tenants", "pools", "policy"]

  init(sink: DiagnosticSink) { self.sink = sink }

  mutating func decode(_ root: DocumentNode) {
    guard let top = MappingReader(root, what: "the top level", known: Self.topLevelKeys, sink: sink) else { return }
    for item in top.list("models") ?? [] { model(item) }
    for item in top.list("tenants") ?? [] { tenant(item) }
    for item in top.list("pools") ?? [] { pool(item) }
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
    guard let (name, nameLocation) = name, let (version, versionLocation) = version else { return }
    if version.isEmpty || version.contains("/") || version.contains("@") || version.contains(":") || version == "." || version == ".." {
      sink.error(versionLocation, "version '\(version)' of model '\(name)' must be non-empty without '/', '@' or ':'")
    }
    let id = ModelID(name: name, version: version)
    let what = "model '\(id)'"
    let fields = MappingReader(mapping: reader.mapping, what: what, sink: sink)
    var model = Model(name: name, version: version, pin: fields.bool("pin") ?? false)
    if let items = fields.list("sources", required: true) {
      model.sources = sources(items, of: what)
      if items.isEmpty { sink.error(fields.mapping["sources"]?.value.location, "\(what) needs at least one source") }
    }
    if let (variant, location) = fields.string("default_variant") {
      model.defaultVariant = variant
      map.defaultVariants[id] = location
    }
    for entry in fields.entries("variants", required: true) ?? [] {
      if let variant = self.variant(entry, of: id) { model.variants.append(variant) }
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
    map.models[id] = nameLocation
    map.requires[id] = requireLocations
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

  static let variantKeys = ["vram", "files"]
  static let fileKeys = ["path", "size", "sha256"]

  func variant(_ entry: DocumentNode.Entry, of model: ModelID) -> Variant? {
    let what = "variant '\(entry.key)' of model '\(model)'"
    guard Names.isValid(entry.key) else {
      sink.error(entry.keyLocation, "variant name '\(entry.key)' must use only a-z, 0-9, '.', '_' and '-'")
      return nil
    }
    guard let reader = MappingReader(entry.value, what: what, known: Self.variantKeys, sink: sink) else { return nil }
    var variant = Variant(name: entry.key, vram: reader.bytes("vram"))
    var seen: [String: SourceLocation] = [:]
    for item in reader.list("files", required: true) ?? [] {
      guard let file = MappingReader(item, what: "file of \(what)", known: Self.fileKeys, sink: sink) else { continue }
      let path = file.string("path", required: true)
      let size = file.bytes("size", required: true)
      let digest = file.string("sha256", required: true)
      if let (path, location) = path {
        if let problem = PathRules.problem(path) {
          sink.error(location, "path '\(PathRules.printable(path))' in \(what) \(problem)")
          continue
        }
        if let first = seen[path] {
          sink.error(location, "path '\(path)' appears twice in \(what)", notes: [.note(at: first, "first listed here")])
          continue
        }
        seen[path] = location
      }
      var checked: Digest?
      if let (hex, location) = digest {
        checked = Digest(hex: hex)
        if checked == nil { sink.error(location, DigestRules.problem(hex)) }
      }
      if let (path, _) = path, let size, let checked {
        variant.files.append(FileSpec(path: path, size: size, sha256: checked))
      }
    }
    for (path, location) in seen {
      if let parent = PathRules.parents(of: path).first(where: { seen[$0] != nil }) {
        sink.error(location, "path '\(path)' in \(what) is inside '\(parent)', which is listed as a file")
      }
    }
    variant.files.sort { $0.path < $1.path }
    return variant
  }

  // MARK: Tenants and pools

  static let tenantKeys = ["name", "tier", "quota", "group", "models"]
  static let referenceKeys = ["model", "pin"]

  mutating func tenant(_ node: DocumentNode) {
    guard let reader = MappingReader(node, what: "tenant", known: Self.tenantKeys, sink: sink),
      let (name, location) = reader.name()
    else { return }
    let what = "tenant '\(name)'"
    var tenant = Tenant(name: name)
    if let (tier, tierLocation) = reader.string("tier") {
      tenant.tier = tier
      map.tenantTiers[name] = tierLocation
    }
    tenant.group = reader.string("group")?.0
    if let quota = reader.value("quota") { tenant.quota = QuotaDecoder(sink: sink).decode(quota, what: "quota of \(what)") }
    var locations: [SourceLocation] = []
    for item in reader.list("models") ?? [] {
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
    map.tenants[name] = location
    map.tenantModels[name] = locations
    tenants.append(tenant)
  }

  static let poolKeys = ["name", "serves", "replicas", "placement", "nodes"]
  static let nodeKeys = ["name", "disk", "vram", "draining", "labels"]

  mutating func pool(_ node: DocumentNode) {
    guard let reader = MappingReader(node, what: "pool", known: Self.poolKeys, sink: sink),
      let (name, location) = reader.name()
    else { return }
    let what = "pool '\(name)'"
    var pool = Pool(name: name, replicas: reader.integer("replicas", minimum: 1), placement: reader.choice("placement", Placement.self) ?? .spread)
    if let replicas = reader.mapping["replicas"] { map.poolReplicas[name] = replicas.value.location }
    let serves = reader.strings("serves") ?? []
    pool.serves = serves.map(\.0)
    map.poolServes[name] = serves.map(\.1)
    for item in reader.list("nodes", required: true) ?? [] {
      guard let node = MappingReader(item, what: "node of \(what)", known: Self.nodeKeys, sink: sink),
        let (nodeName, nodeLocation) = node.name()
      else { continue }
      let nodeWhat = "node '\(nodeName)'"
      let nodeReader = MappingReader(mapping: node.mapping, what: nodeWhat, sink: sink)
      guard let disk = nodeReader.bytes("disk", required: true) else { continue }
      var labels: [String: String] = [:]
      for entry in nodeReader.entries("labels") ?? [] {
        guard case .scalar(let scalar) = entry.value, scalar.kind != .null else {
          sink.error(entry.value.location, "label '\(entry.key)' of \(nodeWhat) must be a string, got \(entry.value.typeDescription)")
          continue
        }
        labels[entry.key] = scalar.text
      }
      if let first = map.nodes[nodeName] {
        sink.error(nodeLocation, "duplicate node '\(nodeName)'", notes: [.note(at: first, "first defined here")])
        continue
      }
      map.nodes[nodeName] = nodeLocation
      pool.nodes.append(PoolNode(name: nodeName, disk: disk, vram: nodeReader.bytes("vram"), draining: nodeReader.bool("draining") ?? false, labels: labels))
    }
    pool.nodes.sort { $0.name < $1.name }
    map.pools[name] = location
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
