import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// Operating a node: signals, `check`, metrics files and JSON logs, on the built binary.
@Suite struct OperationsTests {
  /// One model with a 64 MiB file served at 4 MiB/s, so a run is mid-download for seconds.
  static func slowModel(_ fixture: ApplyFixture) throws -> ServedFile {
    let weights = try fixture.makeFile("alpha/weights.bin", size: 64 << 20)
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .throttle, rate: 4 << 20)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    return weights
  }

  /// Waits until a partial download has at least `bytes` on disk.
  static func waitForPartial(_ fixture: ApplyFixture, bytes: Int64) -> Bool {
    waitUntil(timeout: 60) {
      fixture.temporaryFiles().contains { name in
        name.hasSuffix(".part") && (Stat(fixture.root.temporary + "/" + name)?.size ?? 0) >= bytes
      }
    }
  }

  @Test(arguments: [(SIGTERM, Int32(143), "SIGTERM"), (SIGINT, Int32(130), "SIGINT")])
  func signalMidDownloadStopsRecordsAndExits(signal: Int32, code: Int32, name: String) throws {
    let fixture = try ApplyFixture()
    let weights = try Self.slowModel(fixture)
    let apply = try fixture.start("apply", ["--auto-approve"])
    try #require(Self.waitForPartial(fixture, bytes: 1 << 20), "the throttled download should be writing its partial file")
    let sent = Date()
    kill(apply.pid, signal)
    let result = try apply.wait(timeout: 30)
    let took = Date().timeIntervalSince(sent)
    #expect(result.status == code, "\(result.stdout)\(result.stderr)")
    #expect(took < 5, "stopping took \(took) s")
    #expect(result.stdout.contains("Apply interrupted by \(name)"), "one final line: \(result.stdout)")
    #expect(result.stdout.contains("Partial downloads are kept"), "\(result.stdout)")
    // The partial file stays for resume; nothing half-done is visible.
    let partials = fixture.temporaryFiles().filter { $0.hasSuffix(".part") }
    #expect(partials.count == 1, "\(fixture.temporaryFiles())")
    #expect(Stat(fixture.view("alpha", "fp16", "weights.bin")) == nil)
    #expect(Stat(fixture.blob(weights)) == nil)
    // The run is recorded as interrupted now, not left running until the next apply.
    let history = try fixture.reconcile("history", ["--json"])
    let document = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])
    let run = try #require((document["runs"] as? [[String: Any]])?.first)
    #expect(run["outcome"] as? String == "interrupted", "\(history.stdout)")
    #expect(run["detail"] as? String == name, "\(history.stdout)")
    let text = try fixture.reconcile("history")
    #expect(text.stdout.contains("interrupted (\(name))"), "\(text.stdout)")
    // The root's lock is free: another apply runs at once (and resumes).
    try fixture.server.reset()
    let again = try fixture.apply(["--lock-timeout", "0"])
    #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    let ranges = try fixture.requests(endingIn: "/weights.bin").compactMap(\.range)
    let firsts = ranges.compactMap { Int64($0.replacingOccurrences(of: "bytes=", with: "").split(separator: "-").first ?? "") }
    #expect(!firsts.isEmpty && firsts.min() ?? 0 > 0, "the second apply resumes after what it kept, in ranges: \(ranges)")
  }

  /// A download in ranges killed outright (no cleanup) leaves holes; the sidecar's prefix (and
  /// the spans after it, see `OperationsTests+Ranges.swift`) tells the next apply where they
  /// may be, and it fetches only the rest.
  @Test func aKilledRangedDownloadResumesAfterItsPrefix() throws {
    let fixture = try ApplyFixture()
    let weights = try Self.slowModel(fixture)
    let apply = try fixture.start("apply", ["--auto-approve"])
    let marked = waitUntil(timeout: 60) {
      fixture.temporaryFiles().filter { $0.hasSuffix(".meta") }.contains { name in
        guard let data = FileManager.default.contents(atPath: fixture.root.temporary + "/" + name),
          let meta = try? JSONDecoder().decode(PartialMetadata.self, from: data)
        else { return false }
        return (meta.validPrefix ?? 0) >= 4 << 20
      }
    }
    try #require(marked && apply.isRunning, "the ranged download should have marked a prefix")
    apply.kill()
    try fixture.server.reset()
    let again = try fixture.apply()
    #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)
    let log = try fixture.requests(endingIn: "/weights.bin").filter { $0.method == "GET" }
    let firsts = log.compactMap(\.range).compactMap { Int64($0.replacingOccurrences(of: "bytes=", with: "").split(separator: "-").first ?? "") }
    #expect(firsts.count > 1, "in ranges: \(log)")
    #expect((firsts.min() ?? 0) >= 4 << 20, "nothing before the kept prefix is fetched again: \(firsts)")
    #expect(log.allSatisfy { $0.ifRange != nil }, "every range is conditional on the same content")
  }

  @Test func secondSignalExitsAtOnce() throws {
    let fixture = try ApplyFixture()
    _ = try Self.slowModel(fixture)
    let apply = try fixture.start("apply", ["--auto-approve"])
    try #require(Self.waitForPartial(fixture, bytes: 1 << 20))
    kill(apply.pid, SIGTERM)
    kill(apply.pid, SIGTERM)
    let result = try apply.wait(timeout: 10)
    #expect(result.status == 143, "\(result.stdout)\(result.stderr)")
  }

  @Test func sigtermMidVerifyStopsWithinSeconds() throws {
    let fixture = try ApplyFixture()
    // A 32 GiB sparse blob: hashing it takes far longer than the test waits; it occupies no disk.
    let fake = String(repeating: "ab", count: 32)
    let directory = fixture.root.blobs + "/ab"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = directory + "/" + fake
    let fd = open(path, O_CREAT | O_WRONLY, 0o644)
    try #require(fd >= 0)
    #expect(ftruncate(fd, 32 << 30) == 0)
    close(fd)
    try fixture.writeDesired([])
    try FileManager.default.createDirectory(atPath: fixture.root.state, withIntermediateDirectories: true)
    _ = try SQLiteRegistry(path: fixture.root.registry)
    let verify = try fixture.start("verify", ["--full"])
    Thread.sleep(forTimeInterval: 1)
    try #require(verify.isRunning, "verify should still be hashing")
    let sent = Date()
    kill(verify.pid, SIGTERM)
    let result = try verify.wait(timeout: 30)
    #expect(result.status == 143, "\(result.stdout)\(result.stderr)")
    #expect(Date().timeIntervalSince(sent) < 5)
    #expect(result.stderr.contains("Verify interrupted by SIGTERM"), "\(result.stderr)")
    #expect(!result.stderr.contains("hashes to"), "a hash cut short is no mismatch: \(result.stderr)")
  }

  @Test func checkSaysWhatIsWrongAndStatusStaysZero() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 1 << 20)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])

    let before = try fixture.reconcile("check")
    #expect(before.status == 1, "\(before.stdout)\(before.stderr)")
    #expect(before.stdout.contains("unhealthy: variant alpha@1:fp16 is missing on this node"), "\(before.stdout)")
    #expect(before.stdout.contains("unhealthy: no reconcile run is recorded"), "\(before.stdout)")

    #expect(try fixture.apply().status == 0)
    let healthy = try fixture.reconcile("check", ["--max-age", "1h"])
    #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
    #expect(healthy.stdout.hasPrefix("ok: node e2e:"), "\(healthy.stdout)")

    // A stale success fails --max-age; a failed run fails check.
    Thread.sleep(forTimeInterval: 2.1)
    let stale = try fixture.reconcile("check", ["--max-age", "1s"])
    #expect(stale.status == 1)
    #expect(stale.stdout.contains("unhealthy: the last successful run ended"), "\(stale.stdout)")
    #expect(stale.stdout.contains("more than the --max-age of 1 s"), "\(stale.stdout)")

    try FileManager.default.removeItem(atPath: fixture.view("alpha", "fp16", "weights.bin"))
    try FileManager.default.removeItem(atPath: fixture.blob(weights))
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .status, status: 503)
    #expect(try fixture.apply().status == 1)
    let broken = try fixture.reconcile("check")
    #expect(broken.status == 1)
    #expect(broken.stdout.contains("unhealthy: variant alpha@1:fp16 is missing"), "\(broken.stdout)")
    #expect(broken.stdout.contains("unhealthy: the last run ("), "\(broken.stdout)")
    #expect(broken.stdout.contains("failed: 1 of 1 actions failed"), "\(broken.stdout)")
    let status = try fixture.reconcile("status")
    #expect(status.status == 0, "status keeps exit 0: \(status.stderr)")
  }

  @Test func metricsFilePassesPromtoolAndCountsTheRun() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 1 << 20)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    let metrics = fixture.directory.path + "/reconcile.prom"
    try fixture.server.behave(path: "/alpha/weights.bin", mode: .fail, count: 1)
    let result = try fixture.apply(["--metrics-file", metrics])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    let text = try String(contentsOfFile: metrics, encoding: .utf8)
    let check = try Binary.external("promtool", ["check", "metrics"], stdin: Data(text.utf8))
    #expect(check.status == 0, "promtool: \(check.stdout)\(check.stderr)\n\(text)")
    let samples = Self.samples(text)
    #expect(samples["reconcile_runs_total{outcome=\"ok\"}"] == 1, "\(text)")
    #expect(samples["reconcile_downloaded_bytes_total{scheme=\"http\"}"] == Double(weights.size), "\(text)")
    #expect(samples["reconcile_retries_total{scheme=\"http\"}"] == 1, "\(text)")
    #expect(samples["reconcile_source_failures_total{scheme=\"http\",cause=\"http_5xx\"}"] == 1 || samples["reconcile_source_failures_total{cause=\"http_5xx\",scheme=\"http\"}"] == 1, "\(text)")
    #expect(samples["reconcile_variants{state=\"verified\"}"] == 1, "\(text)")
    #expect(samples["reconcile_last_run_success"] == 1, "\(text)")
    #expect((samples["reconcile_disk_capacity_bytes"] ?? 0) > 0, "\(text)")
    #expect(samples["reconcile_ready"] == 1, "\(text)")

    // Counters keep counting across one-shot runs.
    _ = try fixture.apply(["--metrics-file", metrics])
    let second = Self.samples(try String(contentsOfFile: metrics, encoding: .utf8))
    #expect(second["reconcile_runs_total{outcome=\"ok\"}"] == 2)
    #expect(second["reconcile_downloaded_bytes_total{scheme=\"http\"}"] == Double(weights.size))
  }

  @Test func jsonLogsCarryTimeLevelNodeAndRunForEveryLine() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 1 << 20)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    let result = try fixture.apply(["--log-format", "json"])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.isEmpty, "everything is a JSON line on standard error: \(result.stdout)")
    let lines = try Self.jsonLines(result.stderr)
    #expect(lines.count >= 4)
    let runs = Set(lines.compactMap { $0["run"] as? String })
    #expect(runs.count == 1, "one run id: \(runs)")
    for line in lines {
      #expect(line["node"] as? String == "e2e", "\(line)")
      #expect(["info", "warning", "error"].contains(line["level"] as? String ?? ""), "\(line)")
      let ts = line["ts"] as? String ?? ""
      #expect(ts.hasSuffix("Z") && ISO8601DateFormatter().date(from: ts.replacingOccurrences(of: #"\.\d+"#, with: "", options: .regularExpression)) != nil, "RFC 3339 UTC: \(ts)")
    }
    #expect(lines.contains { $0["event"] as? String == "plan" })
    #expect(lines.contains { $0["event"] as? String == "finished" })
    #expect(lines.contains { $0["event"] as? String == "summary" && ($0["message"] as? String ?? "").hasPrefix("Apply complete") })

    // Errors too, for any command.
    try "models: [ {name: broken} ]\n".write(toFile: fixture.desired + "/broken.yaml", atomically: true, encoding: .utf8)
    let invalid = try fixture.reconcile("plan", ["--log-format", "json"])
    #expect(invalid.status == 1)
    let errors = try Self.jsonLines(invalid.stderr)
    #expect(!errors.isEmpty && errors.allSatisfy { $0["level"] as? String == "error" && $0["event"] as? String == "error" }, "\(invalid.stderr)")
    #expect(errors.contains { ($0["message"] as? String ?? "").contains("broken.yaml:1:") }, "\(invalid.stderr)")
  }

  /// A variant is published (views, tenant views) only once everything it requires is verified;
  /// until then status and check say what it waits for.
  @Test func aVariantWaitsForWhatItRequires() throws {
    let fixture = try ApplyFixture()
    let alpha = try fixture.makeFile("alpha/weights.bin", size: 4096)
    let beta = try fixture.makeFile("beta/encoder.bin", size: 4096)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": alpha]], requires: ["beta@1:raw"]),
      ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["raw": ["encoder.bin": beta]]),
    ])
    try fixture.server.behave(path: "/beta/encoder.bin", mode: .status, status: 503)
    let failed = try fixture.apply()
    #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
    #expect(failed.stdout.contains("waiting: alpha@1:fp16 is not published until beta@1:raw is verified"), "\(failed.stdout)")
    #expect(Stat(fixture.blob(alpha)) != nil, "alpha's bytes are fetched and verified")
    #expect(Stat(fixture.view("alpha", "fp16", "weights.bin")) == nil, "but not published while beta is missing")

    let status = try fixture.reconcile("status")
    let row = status.stdout.split(separator: "\n").first { $0.hasPrefix("alpha ") }.map(String.init) ?? ""
    #expect(row.hasSuffix("waiting for beta@1:raw"), "\(status.stdout)")
    let check = try fixture.reconcile("check")
    #expect(check.status == 1)
    #expect(check.stdout.contains("unhealthy: variant alpha@1:fp16 is waiting for beta@1:raw"), "\(check.stdout)")

    try fixture.server.reset()
    let fixed = try fixture.apply()
    #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: alpha)
    fixture.expectLinked(fixture.view("beta", "raw", "encoder.bin"), to: beta)
    #expect(try fixture.reconcile("check").status == 0)
  }

  @Test func gcAndTouchAreInTheHistory() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 4096)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    #expect(try fixture.apply().status == 0)
    // An orphan blob for gc to free.
    let orphan = String(repeating: "cd", count: 32)
    try FileManager.default.createDirectory(atPath: fixture.root.blobs + "/cd", withIntermediateDirectories: true)
    try Data(count: 1000).write(to: URL(fileURLWithPath: fixture.root.blobs + "/cd/" + orphan))
    #expect(try fixture.reconcile("gc").status == 0)
    #expect(try fixture.reconcile("touch", ["alpha"]).status == 0)
    let history = try fixture.reconcile("history")
    let runs = history.stdout.split(separator: "\n").filter { $0.hasPrefix("run ") }.map(String.init)
    #expect(runs.count == 3, "\(history.stdout)")
    #expect(runs.first?.contains(": recorded use of alpha@1:fp16") == true, "\(history.stdout)")
    #expect(runs.dropFirst().first?.contains(" ok in ") == true && runs.dropFirst().first?.contains(": freed 1000 B (1 item)") == true, "\(history.stdout)")
    #expect(history.stdout.contains("— reconcile gc"), "\(history.stdout)")
    #expect(history.stdout.contains("— reconcile touch alpha"), "\(history.stdout)")
  }

  /// A one-character relative root or desired directory (`--root r`) once trapped inside
  /// Foundation's `deletingLastPathComponent`.
  @Test func oneCharacterRelativePathsWork() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 1000)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    try FileManager.default.createSymbolicLink(atPath: fixture.directory.path + "/d", withDestinationPath: fixture.desired)
    for command in [["apply", "--auto-approve"], ["status"], ["check"], ["lock"]] {
      let result = try ReconcileProcess(command + ["--desired", "d", "--root", "r", "--node", "e2e"], in: fixture.directory.url).wait()
      #expect(result.status == 0, "\(command): \(result.stdout)\(result.stderr)")
      #expect(!result.stderr.contains("crashed"), "\(command): \(result.stderr)")
    }
    #expect(FileManager.default.fileExists(atPath: fixture.directory.path + "/r/models/alpha/1/fp16/weights.bin"))
  }

  // MARK: Helpers

  /// `name{labels} value` lines of an exposition, by series.
  static func samples(_ text: String) -> [String: Double] {
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
      samples[String(line[..<space])] = value
    }
    return samples
  }

  static func jsonLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { line in
      try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
    }
  }
}
