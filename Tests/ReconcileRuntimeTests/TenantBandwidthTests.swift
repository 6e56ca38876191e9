import Foundation
import TestSupport
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Tenant bandwidth and download slots: the token bucket's arithmetic on a clock that moves
/// only when the bucket sleeps (no timing in a test; `make bench` measures the real rate),
/// which tenant a blob's download is charged to, and the transfers honouring the throttle.
@Suite struct TenantBandwidthTests {
  /// A clock in nanoseconds that only the bucket's sleeps advance; records each sleep.
  final class FakeTime: @unchecked Sendable {
    let now = Locked<UInt64>(1_000_000_000)
    let sleeps = Locked<[Double]>([])

    func limiter(_ rate: Int64, burst: Int64? = nil) -> BandwidthLimiter {
      BandwidthLimiter(bytesPerSecond: rate, burst: burst, clock: { self.now.value }, sleep: { seconds in self.pass(seconds) })
    }

    func pass(_ seconds: Double) {
      sleeps.update { $0.append(seconds) }
      now.update { $0 += UInt64((seconds * 1e9).rounded()) }
    }

    var slept: Double { sleeps.value.reduce(0, +) }
  }

  @Test func aWriterIsHeldToTheRateFromItsFirstByte() {
    let time = FakeTime()
    let bucket = time.limiter(1000, burst: 100)
    #expect(bucket.consume(500) == 0.5)
    #expect(bucket.consume(500) == 0.5)
    #expect(bucket.consume(250) == 0.25)
    #expect(time.slept == 1.25)
  }

  @Test func anIdleBucketSavesAtMostOneBurst() {
    let time = FakeTime()
    let bucket = time.limiter(1000, burst: 100)
    time.now.update { $0 += 10_000_000_000 }
    #expect(bucket.consume(100) == 0)
    #expect(bucket.consume(100) == 0.1)
  }

  @Test func writersSharingABucketQueueBehindEachOther() {
    let time = FakeTime()
    // Two writers at the same instant: the second pays for the first's bytes too.
    let bucket = BandwidthLimiter(bytesPerSecond: 1000, burst: 100, clock: { time.now.value }, sleep: { _ in })
    #expect(bucket.consume(500) == 0.5)
    #expect(bucket.consume(500) == 1.0)
  }

  /// Tenants a (10 MiB/s, 1 at once) and b (20 MiB/s, 3 at once) share m's blobs; b alone
  /// uses n; c has no limits and uses o; d is limited but its pool is another.
  static func desired() -> DesiredState {
    func model(_ name: String, _ files: [(String, Int)]) -> Model {
      let specs = files.map { FileSpec(path: $0.0, size: 100, sha256: digest($0.1)) }
      return Model(name: name, version: "1", sources: [SourceURL(scheme: .https, url: "https://mirror.example/\(name)/")], variants: [Variant(name: "v", files: specs)])
    }
    func ref(_ name: String) -> ModelReference { ModelReference(model: ModelID(name: name, version: "1")) }
    let tenants = [
      Tenant(name: "a", quota: Quota(concurrentDownloads: 1, bandwidth: 10 << 20), models: [ref("m")]),
      Tenant(name: "b", quota: Quota(concurrentDownloads: 3, bandwidth: 20 << 20), models: [ref("m"), ref("n")]),
      Tenant(name: "c", models: [ref("o")]),
      Tenant(name: "d", quota: Quota(concurrentDownloads: 1, bandwidth: 1), models: [ref("n"), ref("o")]),
    ]
    let pools = [
      Pool(name: "p", serves: ["a", "b", "c"], nodes: [PoolNode(name: "gpu-1", disk: 1 << 40)]),
      Pool(name: "q", serves: ["d"], nodes: [PoolNode(name: "gpu-2", disk: 1 << 40)]),
    ]
    return DesiredState(models: [model("m", [("a.bin", 1), ("b.bin", 2)]), model("n", [("c.bin", 3)]), model("o", [("d.bin", 4)])], tenants: tenants, pools: pools)
  }

  /// A valid digest that encodes `n`.
  static func digest(_ n: Int) -> Digest {
    let hex = String(n, radix: 16)
    return Digest(hex: String(repeating: "0", count: 64 - hex.count) + hex)!
  }

  @Test func aDownloadIsChargedToTheMostRestrictiveTenantThisNodeServes() throws {
    let desired = Self.desired()
    // The planner charges each download; the limits are built from the plan alone.
    let limits = TenantTransferLimits(try Planner.plan(desired, ObservedState(), on: "gpu-1", at: Date()))
    let d = Self.digest
    #expect(limits.bandwidthTenant == [d(1): "a", d(2): "a", d(3): "b"])
    #expect(limits.buckets[d(1)]?.bytesPerSecond == 10 << 20)
    #expect(limits.buckets[d(1)] === limits.buckets[d(2)], "one bucket per tenant, shared by its downloads")
    #expect(limits.buckets[d(3)]?.bytesPerSecond == 20 << 20)
    #expect(limits.buckets[d(4)] == nil && limits.slots[d(4)] == nil, "no limited tenant uses it")
    #expect(limits.slots[d(1)]?.width == 1 && limits.slots[d(3)]?.width == 3)
  }

  @Test func noLimitsLeaveTheTransfersAsTheyAre() throws {
    let desired = DesiredState(models: Self.desired().models, tenants: [Tenant(name: "c", models: [ModelReference(model: ModelID(name: "o", version: "1"))])])
    let limits = TenantTransferLimits(try Planner.plan(desired, ObservedState(), on: "solo", at: Date()))
    #expect(limits.isEmpty)
    #expect(limits.wrapping([.file: FileTransfer()])[.file] is FileTransfer)
  }

  @Test func fileAndHTTPTransfersPayTheBucketForEveryByte() throws {
    let directory = try ScratchDirectory("bandwidth")
    let bytes = Data(randomBytes(3 << 20))
    try FileManager.default.createDirectory(atPath: directory.path("served"), withIntermediateDirectories: true)
    try bytes.write(to: URL(fileURLWithPath: directory.path("served/model.bin")))
    let server = try TestHTTPServer(serving: directory.url.appendingPathComponent("served"))
    defer { server.stop() }
    let digest = SHA256Hasher.digest(bytes)
    let transfers: [(String, any Transfer)] = [("file://" + directory.path("served/model.bin"), FileTransfer()), (server.url("/model.bin"), HTTPTransfer())]
    for (index, (url, transfer)) in transfers.enumerated() {
      let time = FakeTime()
      let bucket = time.limiter(1 << 20)
      var request = TransferRequest(url: url, destination: directory.path("part-\(index)"), expectedSize: Int64(bytes.count))
      request.expectedSHA256 = digest
      request.throttle = { bucket.consume($0) }
      let result = try transfer.fetch(request)
      #expect(result.digest == digest)
      // The clock moves only when the bucket sleeps, so 3 MiB at 1 MiB/s is exactly 3 s of sleep.
      #expect(abs(time.slept - 3) < 1e-6, "\(url): slept \(time.slept) s")
    }
  }

  @Test func aTenantBucketWithinTheNodesPaysForTheSlowerOfTheTwo() {
    // 3 MiB in 1 MiB writes: at the node's 1 MiB/s whatever the tenant's 2 MiB/s, at the
    // tenant's 1 MiB/s within the node's 2 MiB/s; both taken at once, so no rate is lost to
    // one bucket refilling past its burst while the other sleeps.
    for (nodeRate, tenantRate) in [(Int64(1 << 20), Int64(2 << 20)), (2 << 20, 1 << 20)] {
      let time = FakeTime()
      let node = time.limiter(nodeRate)
      let tenant = BandwidthLimiter(bytesPerSecond: tenantRate, parent: node, clock: { time.now.value }, sleep: { time.pass($0) })
      for _ in 0..<3 { tenant.consume(1 << 20) }
      #expect(abs(time.slept - 3) < 1e-6, "node \(nodeRate), tenant \(tenantRate): slept \(time.slept) s")
    }
  }

  @Test func writersOfTwoTenantsShareTheNodesRate() {
    let time = FakeTime()
    let node = time.limiter(1 << 20)
    let a = BandwidthLimiter(bytesPerSecond: 10 << 20, parent: node, clock: { time.now.value }, sleep: { time.pass($0) })
    let b = BandwidthLimiter(bytesPerSecond: 10 << 20, parent: node, clock: { time.now.value }, sleep: { time.pass($0) })
    for _ in 0..<2 {
      a.consume(1 << 20)
      b.consume(1 << 20)
    }
    #expect(abs(time.slept - 4) < 1e-6, "4 MiB through a 1 MiB/s node: \(time.slept) s")
  }

  @Test func theNodeLimitCoversEveryDownloadAndHoldsEachTenantsBucket() throws {
    let desired = Self.desired()
    let plan = try Planner.plan(desired, ObservedState(), on: "gpu-1", at: Date())
    let limits = TenantTransferLimits(plan, nodeBandwidth: 100 << 20)
    let d = Self.digest
    let node = try #require(limits.node)
    #expect(node.bytesPerSecond == 100 << 20)
    #expect(limits.buckets[d(1)]?.parent === node && limits.buckets[d(3)]?.parent === node, "tenants within the node")
    #expect(limits.buckets[d(4)] === node, "a blob no limited tenant uses draws on the node alone")
    #expect(limits.bandwidthTenant[d(4)] == nil)
    let solo = TenantTransferLimits(try Planner.plan(DesiredState(models: desired.models), ObservedState(), on: "solo", at: Date()), nodeBandwidth: 1 << 20)
    #expect(!solo.isEmpty && Set(solo.buckets.values.map(ObjectIdentifier.init)).count == 1, "without tenants, every download shares the node's bucket")
    #expect(TenantTransferLimits(try Planner.plan(DesiredState(models: desired.models), ObservedState(), on: "solo", at: Date())).isEmpty)
  }

}
