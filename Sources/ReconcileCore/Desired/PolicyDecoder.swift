/// Decodes the `policy` section.
struct PolicyDecoder {
  let sink: DiagnosticSink

  static let keys = ["min_free", "eviction", "gc_grace", "concurrency", "retry", "tiers", "fleet"]
  static let retryKeys = ["attempts", "backoff", "max_backoff"]
  static let fleetKeys = ["node_ttl"]

  func decode(_ node: DocumentNode) -> Policy {
    var policy = Policy()
    guard let reader = MappingReader(node, what: "policy", known: Self.keys, sink: sink) else { return policy }
    if let headroom = reader.value("min_free") { policy.minFree = minFree(headroom) ?? policy.minFree }
    policy.eviction = reader.choice("eviction", Eviction.self) ?? policy.eviction
    policy.gcGrace = reader.seconds("gc_grace") ?? policy.gcGrace
    policy.concurrency = reader.integer("concurrency", minimum: 1, limit: 256) ?? policy.concurrency
    if let retry = reader.value("retry"), let retryReader = MappingReader(retry, what: "policy.retry", known: Self.retryKeys, sink: sink) {
      policy.retry.attempts = retryReader.integer("attempts", minimum: 1, limit: 100) ?? policy.retry.attempts
      policy.retry.backoff = retryReader.seconds("backoff") ?? policy.retry.backoff
      policy.retry.maxBackoff = retryReader.seconds("max_backoff") ?? policy.retry.maxBackoff
    }
    if let fleet = reader.value("fleet"), let fleetReader = MappingReader(fleet, what: "policy.fleet", known: Self.fleetKeys, sink: sink) {
      if let ttl = fleetReader.seconds("node_ttl") {
        if ttl > 0 { policy.nodeTTL = ttl } else { sink.error((fleetReader.value("node_ttl") ?? fleet).location, "'node_ttl' in policy.fleet must be longer than 0 s") }
      }
    }
    for entry in reader.entries("tiers") ?? [] {
      guard Names.isValid(entry.key) else {
        sink.error(entry.keyLocation, "tier name '\(entry.key)' must use only a-z, 0-9, '.', '_' and '-'")
        continue
      }
      if let quota = QuotaDecoder(sink: sink).decode(entry.value, what: "tier '\(entry.key)'") {
        policy.tiers[entry.key] = quota
      }
    }
    return policy
  }

  /// `10%` or a size.
  func minFree(_ node: DocumentNode) -> Headroom? {
    if case .scalar(let scalar) = node, scalar.text.hasSuffix("%") {
      let number = scalar.text.dropLast().trimmingSpaces
      guard let percent = Double(number), percent >= 0, percent < 100 else {
        sink.error(scalar.location, "'min_free' in policy must be a share of at least 0% and below 100%, got '\(scalar.text)'")
        return nil
      }
      return .share(percent: percent)
    }
    return MappingReader.bytes(node, key: "min_free", what: "policy", sink: sink).map(Headroom.bytes)
  }
}

/// Decodes a tenant's or tier's `quota`.
struct QuotaDecoder {
  let sink: DiagnosticSink

  static let keys = ["disk", "models", "concurrent_downloads", "bandwidth"]

  func decode(_ node: DocumentNode, what: String) -> Quota? {
    guard let reader = MappingReader(node, what: what, known: Self.keys, sink: sink) else { return nil }
    var quota = Quota(disk: reader.bytes("disk"), models: reader.integer("models"), concurrentDownloads: reader.integer("concurrent_downloads", minimum: 1))
    if let node = reader.value("bandwidth") {
      var perSecond = node
      if case .scalar(var scalar) = node, scalar.text.hasSuffix("/s") {
        scalar.text = String(scalar.text.dropLast(2))
        perSecond = .scalar(scalar)
      }
      quota.bandwidth = MappingReader.bytes(perSecond, key: "bandwidth", what: what, sink: sink)
    }
    return quota
  }
}
