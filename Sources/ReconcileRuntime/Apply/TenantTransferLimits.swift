import Foundation
import ReconcileCore

/// Which tenant's bandwidth bucket and download slots each blob's download is charged to.
///
/// A download is charged to one tenant per limit: the bandwidth bucket of the tenant with the
/// lowest `bandwidth` among the tenants this node serves that use the blob, and the download
/// slots of the one with the lowest `concurrent_downloads`. A blob no limited tenant uses is
/// not throttled. Every download of a tenant shares its bucket and its slots.
public struct TenantTransferLimits: Sendable {
  /// The bucket each digest's download draws from.
  public var buckets: [Digest: BandwidthLimiter]
  /// The slots each digest's download takes one of.
  public var slots: [Digest: DownloadSlots]
  /// The tenant each digest's bandwidth is charged to, for messages and tests.
  public var bandwidthTenant: [Digest: String]

  /// Limits for the tenants `target`'s node serves under `desired`.
  public init(_ desired: DesiredState, target: NodeTarget) {
    var buckets: [String: BandwidthLimiter] = [:]
    var slots: [String: DownloadSlots] = [:]
    var rate: [Digest: (Int64, String)] = [:]
    var width: [Digest: (Int64, String)] = [:]
    for tenant in target.servedTenants(in: desired) {
      let usage = TenantUsage.of(tenant, in: desired)
      let bandwidth = usage.quota.bandwidth?.value
      let concurrency = usage.quota.concurrentDownloads?.value
      guard bandwidth != nil || concurrency != nil else { continue }
      if let bandwidth { buckets[tenant.name] = BandwidthLimiter(bytesPerSecond: bandwidth) }
      if let concurrency { slots[tenant.name] = DownloadSlots(Int(concurrency)) }
      for id in usage.variants where target.variants.contains(id) {
        for file in desired.model(id.model)?.variant(id.variant)?.files ?? [] {
          if let bandwidth, (bandwidth, tenant.name) < (rate[file.sha256] ?? (.max, "")) { rate[file.sha256] = (bandwidth, tenant.name) }
          if let concurrency, (concurrency, tenant.name) < (width[file.sha256] ?? (.max, "")) { width[file.sha256] = (concurrency, tenant.name) }
        }
      }
    }
    self.buckets = rate.compactMapValues { buckets[$0.1] }
    self.slots = width.compactMapValues { slots[$0.1] }
    self.bandwidthTenant = rate.mapValues(\.1)
  }

  /// Whether any download is limited.
  public var isEmpty: Bool { buckets.isEmpty && slots.isEmpty }

  /// `transfers`, each wrapped so that a download takes its tenant's slot and draws on its
  /// tenant's bucket; unchanged when nothing is limited.
  public func wrapping(_ transfers: [SourceURL.Scheme: any Transfer]) -> [SourceURL.Scheme: any Transfer] {
    guard !isEmpty else { return transfers }
    return transfers.mapValues { TenantLimitedTransfer(inner: $0, limits: self) }
  }
}

/// A transfer that holds one of its tenant's download slots while it runs and throttles its
/// writes through its tenant's bucket; the digest the request expects says which tenant.
struct TenantLimitedTransfer: Transfer {
  let inner: any Transfer
  let limits: TenantTransferLimits

  func fetch(_ request: TransferRequest) throws(TransferError) -> TransferResult {
    guard let digest = request.expectedSHA256 else { return try inner.fetch(request) }
    var request = request
    if let bucket = limits.buckets[digest] {
      let earlier = request.throttle
      request.throttle = { bytes in
        earlier?(bytes)
        bucket.consume(bytes)
      }
    }
    guard let slots = limits.slots[digest] else { return try inner.fetch(request) }
    slots.acquire()
    defer { slots.release() }
    return try inner.fetch(request)
  }
}

/// A counting semaphore: at most `width` downloads of one tenant at once.
public final class DownloadSlots: @unchecked Sendable {
  /// How many downloads may run at once.
  public let width: Int
  private let semaphore: DispatchSemaphore

  /// Slots for `width` downloads at once (at least 1).
  public init(_ width: Int) {
    self.width = max(1, width)
    semaphore = DispatchSemaphore(value: self.width)
  }

  /// Waits for a free slot and takes it.
  public func acquire() { semaphore.wait() }

  /// Gives a slot back.
  public func release() { semaphore.signal() }
}
