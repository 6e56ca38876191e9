/// Checks what no single file can: references between files, cycles and consistency.
struct DesiredValidator {
  let state: DesiredState
  let map: SourceMap
  let sink: DiagnosticSink

  func validate() {
    let models = Dictionary(uniqueKeysWithValues: state.models.map { ($0.id, $0) })
    for model in state.models {
      if let variant = model.defaultVariant, model.variant(variant) == nil {
        sink.error(map.defaultVariants[model.id], "default_variant '\(variant)' of model '\(model.id)' is not one of its variants (\(model.variants.map(\.name).joined(separator: ", ")))")
      }
      for (index, reference) in model.requires.enumerated() {
        check(reference, at: map.requires[model.id]?[safe: index], in: "model '\(model.id)'", models: models)
      }
    }
    for tenant in state.tenants {
      if let tier = tenant.tier, state.policy.tiers[tier] == nil {
        let known = state.policy.tiers.keys.sorted()
        let hint = Suggestion.closest(to: tier, in: known).map { "; did you mean '\($0)'?" }
          ?? (known.isEmpty ? "; declare it under policy.tiers" : "; known tiers: \(known.joined(separator: ", "))")
        sink.error(map.tenantTiers[tenant.name], "tenant '\(tenant.name)' uses unknown tier '\(tier)'\(hint)")
      }
      for (index, reference) in tenant.models.enumerated() {
        check(reference, at: map.tenantModels[tenant.name]?[safe: index], in: "tenant '\(tenant.name)'", models: models)
      }
    }
    let tenantNames = state.tenants.map(\.name)
    for pool in state.pools {
      for (index, tenant) in pool.serves.enumerated() where !tenantNames.contains(tenant) {
        let hint = Suggestion.closest(to: tenant, in: tenantNames).map { "; did you mean '\($0)'?" } ?? ""
        sink.error(map.poolServes[pool.name]?[safe: index], "pool '\(pool.name)' serves unknown tenant '\(tenant)'\(hint)")
      }
      if let replicas = pool.replicas, replicas > pool.nodes.count {
        sink.error(map.poolReplicas[pool.name], "pool '\(pool.name)' wants \(replicas) replicas but has \(pool.nodes.count) node\(pool.nodes.count == 1 ? "" : "s")")
      }
    }
    checkCycles(models: models)
    checkDigestSizes()
    checkTotalSize()
  }

  /// The most bytes the files of a desired state may add up to: far beyond any fleet, and far
  /// enough below `Int64.max` that no sum of them (a node's share, a tenant's usage, a plan's
  /// downloads) can overflow and trap.
  static let maximumTotalBytes: Int64 = 1 << 60

  /// Sums every declared file's size with overflow checked; the file where the sum passes
  /// `maximumTotalBytes` is an error, once.
  func checkTotalSize() {
    var total: Int64 = 0
    for model in state.models {
      for variant in model.variants {
        for file in variant.files {
          let (sum, overflow) = total.addingReportingOverflow(file.size)
          guard overflow || sum > Self.maximumTotalBytes else {
            total = sum
            continue
          }
          let location = map.files[VariantID(model: model.id, variant: variant.name)]?[file.path] ?? map.models[model.id]
          sink.error(
            location,
            "size \(file.size) of \(model.id):\(variant.name) \(file.path) is too large: the desired state's files add up to more than 1 EiB (\(Self.maximumTotalBytes) bytes); check the file's 'size'")
          return
        }
      }
    }
  }

  func check(_ reference: ModelReference, at location: SourceLocation?, in owner: String, models: [ModelID: Model]) {
    guard let model = models[reference.model] else {
      let versions = state.models.filter { $0.name == reference.model.name }.map(\.version)
      let hint: String
      if !versions.isEmpty {
        hint = "; declared versions: \(versions.joined(separator: ", "))"
      } else {
        hint = Suggestion.closest(to: reference.model.name, in: state.models.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
      }
      sink.error(location, "\(owner) refers to unknown model '\(reference.model)'\(hint)")
      return
    }
    let names = model.variants.map(\.name)
    if let variant = reference.variant {
      if model.variant(variant) == nil {
        sink.error(location, "\(owner) refers to unknown variant '\(variant)' of model '\(model.id)'; its variants: \(names.joined(separator: ", "))")
      }
    } else if model.implicitVariant == nil {
      sink.error(location, "\(owner) refers to model '\(model.id)' without a variant, and it has several (\(names.joined(separator: ", "))) and no default_variant; write '\(model.id):\(names.first ?? "variant")'")
    }
  }

  /// A model that requires itself, directly or not, can never be placed: print the cycle.
  func checkCycles(models: [ModelID: Model]) {
    var state: [ModelID: Bool] = [:]  // false: on the path; true: done
    var path: [ModelID] = []
    var reported = Set<Set<ModelID>>()

    func visit(_ id: ModelID) {
      state[id] = false
      path.append(id)
      for reference in models[id]?.requires ?? [] where models[reference.model] != nil {
        switch state[reference.model] {
        case .none: visit(reference.model)
        case .some(false):
          guard let start = path.firstIndex(of: reference.model) else { continue }
          let cycle = Array(path[start...])
          guard reported.insert(Set(cycle)).inserted else { continue }
          let text = (cycle + [reference.model]).map(\.description).joined(separator: " -> ")
          let index = models[cycle[cycle.count - 1]]?.requires.firstIndex(of: reference) ?? 0
          sink.error(map.requires[cycle[cycle.count - 1]]?[safe: index], "requires cycle: \(text)")
        case .some(true): continue
        }
      }
      path.removeLast()
      state[id] = true
    }
    for id in models.keys.sorted() where state[id] == nil { visit(id) }
  }

  /// One digest is one content, so it has one size.
  func checkDigestSizes() {
    // Where each digest was first listed, as indexes: names and locations are looked up only
    // for an error, since this runs for every file of every variant.
    let files = state.models.reduce(0) { total, model in model.variants.reduce(total) { $0 + $1.files.count } }
    var first: [Digest: (size: Int64, model: Int, variant: Int, file: Int)] = .init(minimumCapacity: files)
    for (m, model) in state.models.enumerated() {
      for (v, variant) in model.variants.enumerated() {
        for (f, file) in variant.files.enumerated() {
          guard let seen = first[file.sha256] else {
            first[file.sha256] = (file.size, m, v, f)
            continue
          }
          guard seen.size != file.size else { continue }
          let (owner, location) = describe(model: m, variant: v, file: f)
          let (firstOwner, firstLocation) = describe(model: seen.model, variant: seen.variant, file: seen.file)
          // At the file's sha256 rather than the model's name: a variant may list hundreds of files.
          sink.error(
            location ?? map.models[model.id],
            "sha256 \(file.sha256.short)… of \(owner) has size \(file.size), but \(firstOwner) lists the same digest with size \(seen.size)",
            notes: firstLocation.map { [.note(at: $0, "\(firstOwner) is listed here")] } ?? [])
        }
      }
    }
  }

  /// `name@version:variant path` of a file, and where its sha256 is written.
  private func describe(model m: Int, variant v: Int, file f: Int) -> (String, SourceLocation?) {
    let model = state.models[m], variant = model.variants[v], file = variant.files[f]
    return ("\(model.id):\(variant.name) \(file.path)", map.files[VariantID(model: model.id, variant: variant.name)]?[file.path])
  }
}

extension Array {
  subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
