import Foundation
import Testing

@testable import ReconcileAgent
@testable import ReconcileCore
@testable import ReconcileRuntime

/// The agent's pure parts: the exposition of a reading, health, and the token comparison.
@Suite struct AgentUnitTests {
  static func metrics(lastOutcome: RunOutcome, pending: [NodeMetrics.Pending] = [], free: Int64 = 500) -> NodeMetrics {
    var stats = RunStats()
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    stats.lastRun = RunStats.Run(id: "abc", startedAt: start, finishedAt: start.addingTimeInterval(3), outcome: lastOutcome, reason: lastOutcome == .ok ? nil : "1 of 2 actions failed")
    stats.lastSuccess = lastOutcome == .ok ? start.addingTimeInterval(3) : nil
    stats.runs = [lastOutcome: 1]
    stats.downloadedBytes = ["https": 1234]
    stats.sourceFailures = [RunStats.FailureKey(scheme: "https", cause: "http_5xx"): 2]
    return NodeMetrics(
      node: "gpu-a-01", at: start.addingTimeInterval(60), stats: stats, variants: [.ok: 2, .missing: pending.count], pending: pending,
      disk: .init(capacity: 1000, free: free, used: 300, unwanted: 10, minFree: 100),
      tenants: [.init(name: "research", used: 300, quota: 800, models: 2, modelQuota: nil)], inFleet: false, nodeTTL: 900)
  }

  @Test func theExpositionNamesEverySeriesWithHelpAndValues() {
    let text = MetricsExposition.render(Self.metrics(lastOutcome: .ok))
    for line in [
      "reconcile_info{node=\"gpu-a-01\",version=\"\(reconcileVersion)\"} 1.0",
      "reconcile_runs_total{outcome=\"ok\"} 1",
      "reconcile_downloaded_bytes_total{scheme=\"https\"} 1234",
      "reconcile_last_run_duration_seconds 3.0",
      "reconcile_last_run_success 1.0",
      "reconcile_variants{state=\"verified\"} 2.0",
      "reconcile_disk_free_bytes 500.0",
      "reconcile_tenant_quota_bytes{tenant=\"research\"} 800.0",
      "reconcile_ready 1.0",
    ] {
      #expect(text.contains(line + "\n"), "missing \(line) in\n\(text)")
    }
    #expect(text.contains("reconcile_source_failures_total{scheme=\"https\",cause=\"http_5xx\"} 2") || text.contains("reconcile_source_failures_total{cause=\"http_5xx\",scheme=\"https\"} 2"))
    let names = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.prefix { $0 != "{" && $0 != " " }) })
    let helped = Set(text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.map { String($0.dropFirst(7).prefix { $0 != " " }) })
    #expect(names.isSubset(of: helped), "every series has HELP: \(names.subtracting(helped))")
    #expect(!text.contains("reconcile_fleet_heartbeat_age_seconds"), "no heartbeat outside a fleet")
  }

  @Test func healthListsEveryReason() {
    let pending = [NodeMetrics.Pending(variant: VariantID(name: "m", version: "1", variant: "fp16"), state: .missing)]
    let problems = Self.metrics(lastOutcome: .failed, pending: pending, free: 50).problems(maxAge: 30)
    let text = problems.map(\.description)
    #expect(text.contains("variant m@1:fp16 is missing on this node; run 'reconcile apply'"), "\(text)")
    #expect(text.contains { $0.hasPrefix("the last run (abc, ") && $0.hasSuffix("failed: 1 of 2 actions failed") }, "\(text)")
    #expect(text.contains("no run has succeeded on this node yet"), "\(text)")
    #expect(text.contains { $0.hasPrefix("the disk has 50 B free, below policy.min_free") }, "\(text)")
    #expect(Self.metrics(lastOutcome: .ok).problems(maxAge: 120).isEmpty)
    #expect(Self.metrics(lastOutcome: .ok).problems(maxAge: 10).count == 1, "a success 57 s ago is stale for a 10 s max age")
    #expect(MetricsExposition.render(Self.metrics(lastOutcome: .failed)).contains("reconcile_ready 0.0\n"))
  }

  @Test func tokensCompareWholly() {
    #expect(AgentRoutes.constantTimeEqual(Array("s3cret".utf8), Array("s3cret".utf8)))
    #expect(!AgentRoutes.constantTimeEqual(Array("s3cret".utf8), Array("s3cres".utf8)))
    #expect(!AgentRoutes.constantTimeEqual(Array("s3cret".utf8), Array("s3cretx".utf8)))
    #expect(!AgentRoutes.constantTimeEqual([], Array("x".utf8)))
    #expect(AgentRoutes.constantTimeEqual([], []))
  }

  @Test func runStatsSurviveAFileAndSaturate() throws {
    var stats = RunStats()
    stats.downloadedBytes = ["s3": .max - 1]
    var more = RunStats()
    more.downloadedBytes = ["s3": 10]
    stats.add(more)
    #expect(stats.downloadedBytes["s3"] == .max, "a counter saturates instead of trapping")
    let data = try RunStatsFile.encoder.encode(Self.metrics(lastOutcome: .interrupted).stats)
    let decoded = try RunStatsFile.decoder.decode(RunStats.self, from: data)
    #expect(decoded == Self.metrics(lastOutcome: .interrupted).stats)
  }
}

/// Runs record their stats after the root's lock is released: runs ending at the same moment
/// must each count, not overwrite one another's read-add-write.
extension AgentUnitTests {
  @Test func runsEndingAtOnceEachCount() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-stats-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory.appendingPathComponent(".reconcile"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = RunStatsFile(root: NodeRoot(directory.path))
    var counts = RunStats()
    counts.downloadedBytes = ["https": 1]
    let runs = 64
    let done = DispatchGroup()
    for index in 0..<runs {
      done.enter()
      let thread = Thread { [counts] in
        let run = RunStats.Run(id: "run-\(index)", startedAt: Date(), finishedAt: Date(), outcome: .ok, reason: nil)
        #expect(file.record(run, counts: counts, heartbeat: nil) == nil)
        done.leave()
      }
      thread.start()
    }
    done.wait()
    let stats = file.load()
    #expect(stats.runs[.ok] == Int64(runs))
    #expect(stats.downloadedBytes["https"] == Int64(runs))
  }
}

/// A scrape loads the desired state again only when its files changed; when they did, the
/// metrics say so at once.
extension AgentUnitTests {
  @Test func metricsFollowAChangedDesiredState() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agent-desired-\(UUID().uuidString)")
    let desired = directory.appendingPathComponent("desired")
    try FileManager.default.createDirectory(at: desired, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    func write(models: Int) throws {
      let text = "models:\n" + (0..<models).map { index in
        "  - { name: m\(index), version: \"1\", sources: [\"https://example.invalid/m/\"], variants: { v: { files: [{ path: a.bin, size: 1, sha256: \(String(repeating: "a", count: 64)) }] } } }\n"
      }.joined()
      try Data(text.utf8).write(to: desired.appendingPathComponent("models.yaml"))
    }
    try write(models: 1)
    let state = AgentState(session: Session(desired: desired.path, root: directory.appendingPathComponent("root").path, node: "n1"), maxAge: 0)
    let (first, firstError) = state.metrics()
    #expect(firstError == nil && first.pending.count == 1, "\(first.pending) \(String(describing: firstError))")
    #expect(state.metrics().0.pending.count == 1, "unchanged files: the same state")
    try write(models: 3)
    #expect(state.metrics().0.pending.count == 3)
    try Data("models: [".utf8).write(to: desired.appendingPathComponent("models.yaml"))
    let (broken, error) = state.metrics()
    #expect(error != nil && broken.pending.isEmpty, "a broken desired state is an error, never the last good one")
  }
}
