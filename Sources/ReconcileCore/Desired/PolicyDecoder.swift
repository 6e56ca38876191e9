/// Decodes the `policy` section.
struct PolicyDecoder {
  let sink: DiagnosticSink

  static let keys = ["min_free", "eviction", "gc_grace", "concurrency", "retry", "tiers"]
  static let retryKeys = ["attempts", "backoff", "max_backoff"]

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

/// What makes a file path in a variant safe to create under the node root.
enum PathRules {
  /// Why `path` is unsafe, or nil when it is a clean relative path.
  static func problem(_ path: String) -> String? {
    if path.isEmpty { return "must not be empty" }
    // One pass over the bytes: this runs for every file of every variant.
    var hasNUL = false, hasBackslash = false, hasEmpty = false, hasDot = false, hasDotDot = false
    var segmentLength = 0, dots = 0
    func endSegment() {
      if segmentLength == 0 { hasEmpty = true }
      if segmentLength == 1, dots == 1 { hasDot = true }
      if segmentLength == 2, dots == 2 { hasDotDot = true }
      segmentLength = 0
      dots = 0
    }
    for byte in path.utf8 {
      switch byte {
      case 0: hasNUL = true
      case UInt8(ascii: "\\"): hasBackslash = true
      case UInt8(ascii: "/"):
        endSegment()
        continue
      case UInt8(ascii: "."): dots += 1
      default: break
      }
      segmentLength += 1
    }
    endSegment()
    if hasNUL { return "must not contain NUL" }
    if hasBackslash { return "must use '/' and not contain '\\'" }
    if path.utf8.first == UInt8(ascii: "/") { return "must be relative, not absolute" }
    if hasDotDot { return "must not contain '..'" }
    if hasEmpty { return "must not contain an empty segment ('//' or a trailing '/')" }
    if hasDot { return "must not contain '.' segments" }
    return nil
  }

  /// The path with NUL shown as `\0`, for messages.
  static func printable(_ path: String) -> String { path.replacingAll("\0", with: "\\0") }

  /// `a/b/c` → `a/b`, `a`.
  static func parents(of path: String) -> [String] {
    var segments = path.split(separator: "/").map(String.init)
    var parents: [String] = []
    while segments.count > 1 {
      segments.removeLast()
      parents.append(segments.joined(separator: "/"))
    }
    return parents
  }
}

/// What a sha256 in the desired state must look like.
enum DigestRules {
  /// The message for a malformed digest.
  static func problem(_ text: String) -> String {
    let count = text.unicodeScalars.count
    if count != 64 { return "sha256 must be 64 hex digits, got \(count)" }
    if text.lowercased() != text, Digest.isValid(text.lowercased()) { return "sha256 must be lowercase hex" }
    return "sha256 must be 64 lowercase hex digits (0-9, a-f)"
  }
}

extension String {
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var result = ""
    for character in self { if character == target { result += replacement } else { result.append(character) } }
    return result
  }
}
