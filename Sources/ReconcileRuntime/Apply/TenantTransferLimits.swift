import Foundation
import ReconcileCore

/// Which bandwidth bucket and download slots each blob's download is charged to: its tenant's,
/// within the node's.
///
/// A download is charged to one tenant per limit: the bandwidth bucket of the tenant with the
/// lowest `bandwidth` among the tenants this node serves that use the blob, and the download
/// slots of the one with the lowest `concurrent_downloads`. Every download of a tenant shares
/// its bucket and its slots. With a node limit (`policy.bandwidth`), every tenant's bucket lies
/// within the node's, and a blob no limited tenant uses draws on the node's alone; without
/// one, such a blob is not throttled.
public struct TenantTransferLimits: Sendable {
  /// The bucket each digest's download draws from.
  public var buckets: [Digest: BandwidthLimiter]
  /// The slots each digest's download takes one of.
  public var slots: [Digest: DownloadSlots]
  /// The tenant each digest's bandwidth is charged to, for messages and tests.
  public var bandwidthTenant: [Digest: String]

  /// The node's bucket, which every download draws on; nil without a node limit.
  public var node: BandwidthLimiter?

  /// Limits for the downloads of `plan`, from the tenant each is charged to, within a node
  /// limit of `nodeBandwidth` bytes per second (nil: none). Pauses for a bandwidth limit wait
  /// on `cancellation`, so a cancelled run does not sleep them out.
  public init(_ plan: Plan, nodeBandwidth: Int64? = nil, cancellation: CancellationFlag? = nil) {
    var buckets: [String: BandwidthLimiter] = [:]
    var slots: [String: DownloadSlots] = [:]
    self.buckets = [:]
    self.slots = [:]
    self.bandwidthTenant = [:]
    let sleep = BandwidthLimiter.sleep(cancellable: cancellation)
    let node = nodeBandwidth.map { BandwidthLimiter(bytesPerSecond: $0, sleep: sleep) }
    self.node = node
    for change in plan.changes {
      guard let digest = change.digest else { continue }
      let charge = change.charge
      if let tenant = charge?.bandwidthTenant, let rate = charge?.bytesPerSecond {
        let bucket = buckets[tenant] ?? BandwidthLimiter(bytesPerSecond: rate, parent: node, sleep: sleep)
        buckets[tenant] = bucket
        self.buckets[digest] = bucket
        self.bandwidthTenant[digest] = tenant
      } else if let node, self.buckets[digest] == nil {
        self.buckets[digest] = node
      }
      if let tenant = charge?.slotsTenant, let width = charge?.slots {
        let tenantSlots = slots[tenant] ?? DownloadSlots(Int(clamping: width), cancellation: cancellation)
        slots[tenant] = tenantSlots
        self.slots[digest] = tenantSlots
      }
    }
  }

  /// Whether any download is limited.
  public var isEmpty: Bool { buckets.isEmpty && slots.isEmpty }

  /// `transfers`, each wrapped so that a download takes its tenant's slot and draws on its
  /// tenant's bucket and the node's; unchanged when nothing is limited.
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
    guard slots.acquire() else { throw TransferError(.cancelled, url: request.url, message: "cancelled while waiting for a download slot") }
    defer { slots.release() }
    return try inner.fetch(request)
  }
}

/// A counting semaphore: at most `width` downloads of one tenant at once.
public final class DownloadSlots: @unchecked Sendable {
  /// How many downloads may run at once.
  public let width: Int
  private let semaphore: DispatchSemaphore
  private let cancellation: CancellationFlag?

  /// Slots for `width` downloads at once (at least 1); a wait ends early when `cancellation` is set.
  public init(_ width: Int, cancellation: CancellationFlag? = nil) {
    self.width = max(1, width)
    self.cancellation = cancellation
    semaphore = DispatchSemaphore(value: self.width)
  }

  /// Waits for a free slot and takes it; false, with no slot taken, when the run was cancelled.
  @discardableResult
  public func acquire() -> Bool {
    while semaphore.wait(timeout: .now() + 0.2) == .timedOut {
      if cancellation?.isCancelled == true { return false }
    }
    return true
  }

  /// Gives a slot back.
  public func release() { semaphore.signal() }
}
