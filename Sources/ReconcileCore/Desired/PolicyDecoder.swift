/// Decodes the `policy` section.
struct PolicyDecoder {
  let sink: DiagnosticSink

  static let keys = ["min_free", "eviction", "gc_grace", "concurrency", "retry", "bandwidth", "connect_timeout", "stall_timeout", "connections_per_file", "tiers", "fleet"]
  /// The longest `connect_timeout` or `stall_timeout`: a day.
  static let longestTimeout: Int64 = 86400
  static let retryKeys = ["attempts", "backoff", "max_backoff"]
  static let fleetKeys = ["node_ttl"]

  func decode(_ node: DocumentNode) -> Policy {
    var policy = Policy()
    guard let reader = MappingReader(node, what: "policy", known: Self.keys, sink: sink) else { return policy }
    if let headroom = reader.value("min_free") { policy.minFree = minFree(headroom) ?? policy.minFree }
    policy.eviction = reader.choice("eviction", Eviction.self) ?? policy.eviction
    policy.gcGrace = reader.seconds("gc_grace") ?? policy.gcGrace
    policy.concurrency = reader.integer("concurrency", minimum: 1, limit: 256) ?? policy.concurrency
    policy.connectionsPerFile = reader.integer("connections_per_file", minimum: 1, limit: 64) ?? policy.connectionsPerFile
    if let retry = reader.value("retry"), let retryReader = MappingReader(retry, what: "policy.retry", known: Self.retryKeys, sink: sink) {
      policy.retry.attempts = retryReader.integer("attempts", minimum: 1, limit: 100) ?? policy.retry.attempts
      policy.retry.backoff = retryReader.seconds("backoff") ?? policy.retry.backoff
      policy.retry.maxBackoff = retryReader.seconds("max_backoff") ?? policy.retry.maxBackoff
    }
    if let node = reader.value("bandwidth"), let rate = QuotaDecoder.bandwidth(node, what: "policy", sink: sink) {
      if rate > 0 { policy.bandwidth = rate } else { sink.error(node.location, "'bandwidth' in policy must be more than 0 bytes per second; leave it out for no limit") }
    }
    policy.connectTimeout = timeout("connect_timeout", reader) ?? policy.connectTimeout
    policy.stallTimeout = timeout("stall_timeout", reader) ?? policy.stallTimeout
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

  /// A duration of 1 s to a day.
  func timeout(_ key: String, _ reader: MappingReader) -> Int64? {
    guard let seconds = reader.seconds(key), let node = reader.value(key) else { return nil }
    guard seconds >= 1, seconds <= Self.longestTimeout else {
      let written = if case .scalar(let scalar) = node { scalar.text } else { "\(seconds)" }
      sink.error(node.location, "'\(key)' in policy must be between 1s and 24h, got '\(written)'")
      return nil
    }
    return seconds
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
    if let node = reader.value("bandwidth"), let rate = Self.bandwidth(node, what: what, sink: sink) {
      // A rate of 0 would hold the tenant's downloads forever.
      if rate > 0 { quota.bandwidth = rate } else { sink.error(node.location, "'bandwidth' in \(what) must be more than 0 bytes per second; leave it out for no limit") }
    }
    return quota
  }

  /// A size per second, `/s` optional: `500MiB/s`.
  static func bandwidth(_ node: DocumentNode, what: String, sink: DiagnosticSink) -> Int64? {
    var perSecond = node
    if case .scalar(var scalar) = node, scalar.text.hasSuffix("/s") {
      scalar.text = String(scalar.text.dropLast(2))
      perSecond = .scalar(scalar)
    }
    return MappingReader.bytes(perSecond, key: "bandwidth", what: what, sink: sink)
  }
}
