import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// `reconcile agent` on the built binary: its HTTP endpoints, a run on SIGHUP and on a change
/// of the desired files, systemd notifications, a real Prometheus scraping it, and SIGTERM.
@Suite(.serialized) struct AgentTests {
  /// A unix datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
  final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []

    init(path: String) throws {
      self.path = path
      let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
      self.fd = fd
      var address = sockaddr_un()
      address.sun_family = sa_family_t(AF_UNIX)
      withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
      }
      let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
      }
      guard bound == 0 else { throw Binary.Failure(description: "bind \(path): \(String(cString: strerror(errno)))") }
      Thread.detachNewThread {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
          let count = recv(fd, &buffer, buffer.count, 0)
          guard count > 0 else { return }
          let message = String(decoding: buffer[0..<count], as: UTF8.self)
          self.lock.withLock { self.received.append(message) }
        }
      }
    }

    var messages: [String] { lock.withLock { received } }

    deinit {
      shutdown(fd, Int32(SHUT_RDWR))
      close(fd)
    }
  }

  struct Agent {
    let fixture: ApplyFixture
    let process: ReconcileProcess
    let port: UInt16

    func get(_ path: String, token: String? = nil) throws -> (Int, String) {
      let (status, body) = try LoopbackHTTP.call(port: port, "GET", path, headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
      return (status, String(decoding: body, as: UTF8.self))
    }

    /// The agent's metrics, by series.
    func metrics() throws -> [String: Double] { OperationsTests.samples(try get("/metrics").1) }

    func waitForRuns(_ count: Double, timeout: Double = 60) -> Bool {
      waitUntil(timeout: timeout) { ((try? metrics())?["reconcile_runs_total{outcome=\"ok\"}"] ?? 0) >= count }
    }
  }

  @Test func agentServesRunsOnChangeAndHupAndStopsOnSigterm() throws {
    let fixture = try ApplyFixture()
    let weights = try fixture.makeFile("alpha/weights.bin", size: 1 << 20)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]])])
    let port = UInt16(try PostgresServer.freePort())
    let tokenFile = fixture.directory.path + "/token"
    let notify = try NotifySocket(path: fixture.directory.path + "/notify.sock")
    var agent: Agent!
    let token = "s3cr3t-token-\(UInt32.random(in: 0...UInt32.max))"
    try "\(token)\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
    let process = try ReconcileProcess(
      ["agent", "--listen", "127.0.0.1:\(port)", "--interval", "1h", "--token-file", tokenFile, "--log-format", "json"] + fixture.locations,
      in: fixture.directory.url, environment: ["NOTIFY_SOCKET": notify.path])
    agent = Agent(fixture: fixture, process: process, port: port)

    // Alive at once; ready once the first run verified everything.
    try #require(waitUntil(timeout: 60) { (try? agent.get("/healthz").0) == 200 }, "the agent should answer /healthz")
    try #require(agent.waitForRuns(1), "the first run should succeed")
    #expect(waitUntil(timeout: 10) { notify.messages.contains { $0.contains("READY=1") } }, "\(notify.messages)")
    fixture.expectLinked(fixture.view("alpha", "fp16", "weights.bin"), to: weights)

    // /readyz and /v1/status need the token; /metrics and /healthz do not.
    #expect(try agent.get("/readyz").0 == 401)
    #expect(try agent.get("/readyz", token: "wrong").0 == 401)
    #expect(try agent.get("/readyz", token: token + "x").0 == 401)
    let ready = try agent.get("/readyz", token: token)
    #expect(ready.0 == 200, "\(ready.1)")
    let status = try agent.get("/v1/status", token: token)
    #expect(status.0 == 200)
    let document = try #require(try JSONSerialization.jsonObject(with: Data(status.1.utf8)) as? [String: Any], "\(status.1)")
    #expect(document["node"] as? String == "e2e")
    #expect((document["variants"] as? [[String: Any]])?.first?["state"] as? String == "ok", "\(status.1)")

    // The exposition passes promtool.
    let exposition = try agent.get("/metrics").1
    let check = try Binary.external("promtool", ["check", "metrics"], stdin: Data(exposition.utf8))
    #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

    // A change of the desired files runs at once (the interval is an hour).
    let beta = try fixture.makeFile("beta/weights.bin", size: 1 << 20)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["weights.bin": weights]]),
      ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["fp16": ["weights.bin": beta]]),
    ])
    #expect(agent.waitForRuns(2, timeout: 30), "a changed desired state should start a run")
    fixture.expectLinked(fixture.view("beta", "fp16", "weights.bin"), to: beta)

    // So does SIGHUP.
    kill(process.pid, SIGHUP)
    #expect(agent.waitForRuns(3, timeout: 30), "SIGHUP should start a run")

    // A real Prometheus scrapes it; the series come back through its HTTP API.
    let prometheus = try PrometheusServer(scraping: port, in: fixture.directory.path + "/prometheus")
    defer { prometheus.stop() }
    let value = waitUntil(timeout: 60) { ((try? prometheus.query("reconcile_runs_total{outcome=\"ok\"}")) ?? 0) >= 3 }
    #expect(value, "Prometheus should have scraped reconcile_runs_total: \(prometheus.log())")
    #expect(try prometheus.query("reconcile_variants{state=\"verified\"}") == 2)

    // SIGTERM: stops within 5 s with 143, tells systemd, and every log line is JSON.
    let sent = Date()
    kill(process.pid, SIGTERM)
    let result = try process.wait(timeout: 30)
    #expect(result.status == 143, "\(result.stderr)")
    #expect(Date().timeIntervalSince(sent) < 5)
    #expect(notify.messages.contains { $0.contains("STOPPING=1") }, "\(notify.messages)")
    let lines = try OperationsTests.jsonLines(result.stderr)
    #expect(lines.contains { $0["event"] as? String == "listening" })
    #expect(lines.contains { $0["event"] as? String == "desired_changed" })
    #expect(lines.contains { $0["event"] as? String == "reload" })
    #expect(lines.last?["event"] as? String == "stopped", "\(result.stderr)")
    #expect(!result.stderr.contains(token), "the token is never logged")
  }

  @Test func agentRefusesABadListenAddressAndAMissingTokenFile() throws {
    let fixture = try ApplyFixture()
    try fixture.writeDesired([])
    let bad = try fixture.reconcile("agent", ["--listen", "localhost"])
    #expect(bad.status == 1)
    #expect(bad.stderr.contains("listen address 'localhost' is not HOST:PORT"), "\(bad.stderr)")
    let missing = try fixture.reconcile("agent", ["--token-file", "/nonexistent/token"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("cannot read the token file '/nonexistent/token'"), "\(missing.stderr)")
  }
}

/// A real Prometheus server on loopback scraping one target every second.
final class PrometheusServer {
  let process: Process
  let port: Int
  let directory: String
  private let logPath: String

  init(scraping target: UInt16, in directory: String) throws {
    self.directory = directory
    try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
    port = try PostgresServer.freePort()
    let config = """
      global:
        scrape_interval: 1s
        scrape_timeout: 900ms
      scrape_configs:
        - job_name: reconcile
          static_configs:
            - targets: ['127.0.0.1:\(target)']
      """
    try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
    logPath = directory + "/prometheus.log"
    FileManager.default.createFile(atPath: logPath, contents: nil)
    process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
    process.arguments = [
      "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data", "--web.listen-address=127.0.0.1:\(port)",
    ]
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    process.standardOutput = log
    process.standardError = log
    process.standardInput = FileHandle.nullDevice
    try process.run()
  }

  /// The value of an instant query with one series; nil when there is none (yet).
  func query(_ promql: String) throws -> Double? {
    let encoded = promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promql
    let (status, body) = try LoopbackHTTP.call(port: UInt16(port), "GET", "/api/v1/query?query=\(encoded)")
    guard status == 200, let document = try JSONSerialization.jsonObject(with: body) as? [String: Any],
      let data = document["data"] as? [String: Any], let result = data["result"] as? [[String: Any]], let first = result.first,
      let value = first["value"] as? [Any], value.count == 2, let text = value[1] as? String
    else { return nil }
    return Double(text)
  }

  func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)).map { String($0.suffix(2000)) } ?? "" }

  func stop() {
    process.terminate()
    process.waitUntilExit()
  }

  deinit { if process.isRunning { stop() } }
}
