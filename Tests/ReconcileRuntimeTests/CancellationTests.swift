import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// A cancelled run stops: transfers between chunks, pauses (a bandwidth limit, a retry's
/// backoff) at once, hashing between buffers; the partial file stays for the next run and the
/// run is recorded as interrupted. The bounds below are far under what the run would take
/// uncancelled (a behaviour, not a timing: `make bench` measures speed).
@Suite struct CancellationTests {
  /// A node root with one model of `size` random bytes behind `source`, its plan and its registry.
  struct Fixture {
    let directory: ScratchDirectory
    let root: NodeRoot
    let registry: SQLiteRegistry
    let ledger: SQLiteNodeLedger
    let desired: DesiredState

    init(size: Int, source: String? = nil, tenantBandwidth: Int64? = nil, retry: RetryPolicy = RetryPolicy(attempts: 1)) throws {
      directory = try ScratchDirectory("cancel")
      let bytes = Data(repeating: 0x42, count: size)
      try FileManager.default.createDirectory(atPath: directory.path("mirror"), withIntermediateDirectories: true)
      try bytes.write(to: URL(fileURLWithPath: directory.path("mirror/model.bin")))
      let file = FileSpec(path: "model.bin", size: Int64(size), sha256: SHA256Hasher.digest(bytes))
      let url = source ?? "file://\(directory.path("mirror"))/"
      let model = Model(name: "m", version: "1", sources: [SourceURL(scheme: SourceURL.scheme(of: url) ?? .file, url: url)], variants: [Variant(name: "v", files: [file])])
      let tenants = tenantBandwidth.map { [Tenant(name: "t", quota: Quota(bandwidth: $0), models: [ModelReference(model: model.id)])] } ?? []
      desired = DesiredState(models: [model], tenants: tenants, policy: Policy(retry: retry))
      root = NodeRoot(directory.path("root"))
      try FileManager.default.createDirectory(atPath: root.state, withIntermediateDirectories: true)
      registry = try SQLiteRegistry(path: root.registry)
      ledger = try registry.ledger(node: "n")
    }

    /// Applies the plan, cancelling after `delay` seconds; returns the summary and the seconds taken.
    func applyCancelled(after delay: Double) throws -> (ApplySummary, Double) {
      let observed = NodeRootScanner(root: root).scan(verified: try registry.verifiedDigests())
      let plan = try Planner.plan(desired, observed, on: "n", at: Date())
      let cancellation = CancellationFlag()
      let transfers = TenantTransferLimits(plan, cancellation: cancellation).wrapping([.file: FileTransfer(), .http: HTTPTransfer()])
      let options = ApplyOptions(concurrency: 2, retry: desired.policy.retry, user: "test", command: "test", sourceBase: "/")
      let applier = Applier(root: root, cache: registry, ledger: ledger, transfers: transfers, options: options, cancellation: cancellation, events: { _ in })
      DispatchQueue.global().asyncAfter(deadline: .now() + delay) { cancellation.cancel(reason: "SIGTERM") }
      let started = Date()
      let summary = try applier.apply(plan, observed: observed)
      return (summary, Date().timeIntervalSince(started))
    }
  }

  @Test func aCancelledDownloadStopsKeepsItsPartialAndIsRecordedInterrupted() throws {
    // 4 MiB at 256 KiB/s would take 16 s.
    let fixture = try Fixture(size: 4 << 20, tenantBandwidth: 256 << 10)
    let (summary, seconds) = try fixture.applyCancelled(after: 0.5)
    #expect(seconds < 3, "took \(seconds) s")
    #expect(summary.cancelled == "SIGTERM" && !summary.isSuccess)
    let run = try #require(try fixture.ledger.recentRuns(limit: 1).first)
    #expect(run.outcome == .interrupted)
    let actions = try fixture.ledger.actions(ofRun: run.id)
    #expect(actions.map(\.outcome) == [.interrupted], "\(actions)")
    let partials = try FileManager.default.contentsOfDirectory(atPath: fixture.root.temporary).filter { $0.hasSuffix(".part") }
    #expect(partials.count == 1, "the partial file is kept for the next run: \(partials)")
    let kept = try #require(partials.first.flatMap { FileStatus.of(fixture.root.temporary + "/" + $0) })
    #expect(kept.fingerprint.size > 0 && kept.fingerprint.size < 4 << 20)
    #expect(NodeRootScanner(root: fixture.root).scan(verified: [:]).blobs.isEmpty, "nothing unverified is installed")
  }

  @Test func aCancelledRetryPauseEndsAtOnce() throws {
    // Nothing listens on port 9; each retry would wait 60 s first.
    let fixture = try Fixture(size: 1000, source: "http://127.0.0.1:9/", retry: RetryPolicy(attempts: 3, backoff: 60, maxBackoff: 60))
    let (summary, seconds) = try fixture.applyCancelled(after: 0.5)
    #expect(seconds < 3, "took \(seconds) s")
    #expect(summary.cancelled == "SIGTERM")
    #expect(try fixture.ledger.recentRuns(limit: 1).first?.outcome == .interrupted)
  }

  @Test func hashingStopsWhenCancelled() throws {
    let directory = try ScratchDirectory("cancel-hash")
    try Data(count: 8 << 20).write(to: URL(fileURLWithPath: directory.path("big.bin")))
    let cancellation = CancellationFlag()
    cancellation.cancel()
    #expect(throws: FileStreamError.self) { try FileHasher.digest(ofFileAt: directory.path("big.bin"), cancellation: cancellation) }
    #expect(throws: FileStreamError.self) { try FileHasher.digestOnThisThread(ofFileAt: directory.path("big.bin"), cancellation: cancellation) }
    #expect(try FileHasher.digest(ofFileAt: directory.path("big.bin")).size == 8 << 20)
  }

  @Test func waitingForTheRootsMutexEndsWhenCancelled() throws {
    let directory = try ScratchDirectory("cancel-mutex")
    let root = NodeRoot(directory.path("root"))
    try FileManager.default.createDirectory(atPath: root.state, withIntermediateDirectories: true)
    let holder = try RootMutex(root: root, timeout: 1, command: "holder")
    defer { holder.release() }
    let cancellation = CancellationFlag()
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancellation.cancel(reason: "SIGTERM") }
    let started = Date()
    let error = try #require(throws: RootMutex.Cancelled.self) {
      _ = try RootMutex(root: root, timeout: 60, command: "waiter", cancellation: cancellation)
    }
    #expect(Date().timeIntervalSince(started) < 3, "a 60 s wait ends when the run is cancelled")
    #expect(error.description == "stopped (SIGTERM) while waiting for \(root.mutex); nothing was changed")
  }

  @Test func aWaitEndsWhenTheFlagIsSet() {
    let flag = CancellationFlag()
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { flag.cancel(reason: "SIGINT") }
    #expect(flag.wait(seconds: 60))
    #expect(flag.reason == "SIGINT")
    #expect(!CancellationFlag().wait(seconds: 0.01))
  }
}

/// A cached fleet snapshot that is not one (truncated, garbage) is no snapshot: never a crash.
@Suite struct CachedSnapshotTests {
  @Test func aGarbledCachedSnapshotReadsAsNone() throws {
    let directory = try ScratchDirectory("cached-snapshot")
    let session = Session(desired: directory.path("desired"), root: directory.path("root"), node: "n", registry: "postgresql://127.0.0.1:9/none")
    try FileManager.default.createDirectory(atPath: session.root.state, withIntermediateDirectories: true)
    let reconciler = Reconciler(session: session, settings: ReconcileSettings(lockTimeout: 1, user: "t", command: "t"))
    for garbage in ["", "{", "{\"nodes\": 7}", String(repeating: "[", count: 100_000)] {
      try garbage.write(toFile: reconciler.cachedSnapshotPath, atomically: true, encoding: .utf8)
      #expect(reconciler.loadCached() == nil)
    }
    let snapshot = FleetSnapshot(nodes: [FleetNode(heartbeat: NodeHeartbeat(node: "n", agentVersion: "t", at: Date(timeIntervalSince1970: 5)))], takenAt: Date(timeIntervalSince1970: 9), ttl: 60)
    reconciler.saveCached(snapshot)
    #expect(reconciler.loadCached() == snapshot)
  }
}
