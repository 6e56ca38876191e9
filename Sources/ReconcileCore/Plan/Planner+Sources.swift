import Foundation

extension Planner {
  /// For each digest the node needs, every declared source that lists it: each wanted model's
  /// sources with the file's path in that model, in variant order.
  static func alternateSources(_ desired: DesiredState, _ target: NodeTarget) -> [Digest: [PlannedSource]] {
    var alternates: [Digest: [PlannedSource]] = [:]
    var seen = Set<String>()
    for id in target.variants.sorted() {
      guard let model = desired.model(id.model), let variant = model.variant(id.variant) else { continue }
      for file in variant.files {
        for source in model.sources where seen.insert("\(file.sha256.hex)|\(source.url)|\(file.path)").inserted {
          alternates[file.sha256, default: []].append(PlannedSource(source: source, path: file.path))
        }
      }
    }
    return alternates
  }

  /// `[datasets/]ORG/REPO` of a Hub source, without its revision; nil for other schemes.
  static func hubRepository(_ source: SourceURL) -> String? {
    guard source.scheme == .hf else { return nil }
    let rest = source.url.dropFirst("hf://".count)
    return String(rest.prefix { $0 != "@" }).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
  }

  /// Which tenant limits each blob's download is charged to: the bandwidth bucket of the
  /// tenant with the lowest `bandwidth` among the tenants this node serves that use the blob,
  /// and the download slots of the one with the lowest `concurrent_downloads`. A blob no
  /// limited tenant uses is not charged.
  static func transferCharges(_ desired: DesiredState, _ target: NodeTarget, _ served: [TenantUsage]) -> [Digest: TransferCharge] {
    var rate: [Digest: (Int64, String)] = [:]
    var width: [Digest: (Int64, String)] = [:]
    for usage in served {
      let bandwidth = usage.quota.bandwidth?.value
      let concurrency = usage.quota.concurrentDownloads?.value
      guard bandwidth != nil || concurrency != nil else { continue }
      for id in usage.variants where target.variants.contains(id) {
        for file in desired.model(id.model)?.variant(id.variant)?.files ?? [] {
          if let bandwidth, (bandwidth, usage.tenant) < (rate[file.sha256] ?? (.max, "")) { rate[file.sha256] = (bandwidth, usage.tenant) }
          if let concurrency, (concurrency, usage.tenant) < (width[file.sha256] ?? (.max, "")) { width[file.sha256] = (concurrency, usage.tenant) }
        }
      }
    }
    var charges: [Digest: TransferCharge] = [:]
    for digest in Set(rate.keys).union(width.keys) {
      charges[digest] = TransferCharge(
        bandwidthTenant: rate[digest]?.1, bytesPerSecond: rate[digest]?.0, slotsTenant: width[digest]?.1, slots: width[digest]?.0)
    }
    return charges
  }
}
