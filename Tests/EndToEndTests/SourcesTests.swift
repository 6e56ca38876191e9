import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// The built binary fetching from the Hugging Face Hub (`TestHubServer`: a Hub port and a CDN
/// port on loopback), falling back between sources, and keeping the token to itself. `reconcile
/// lock`, the Hugging Face cache view and S3 are in the `SourcesTests+…` files.
@Suite struct SourcesTests {
  /// What a hand-written variant lists: LFS weights and tokenizer, and a small non-LFS config.
  static let listed = ["config.json", "model.safetensors", "tokenizer.json"]

  /// The files of `repo` named in `paths`.
  static func files(_ repo: [String: HubRepoFile], _ paths: [String] = listed) -> [HubRepoFile] {
    paths.compactMap { repo[$0] }
  }

  /// The progress lines about `path` of `m@1:fp16` that are not its start: the outcome line
  /// (with the cause when there is one source) and the indented cause of each source after it.
  static func outcome(of path: String, in stderr: String) -> [String] {
    var lines: [String] = []
    var inside = false
    for line in stderr.split(separator: "\n").map(String.init) {
      if line.hasPrefix("download m@1:fp16 file \(path): ") {
        inside = !line.contains(": start (")
        if inside { lines.append(line) }
      } else if inside, line.hasPrefix(" ") {
        lines.append(line)
      } else {
        inside = false
      }
    }
    return lines
  }

  /// The `sources` of every change of a plan printed with `--json`.
  static func jsonSources(_ text: String) throws -> [[String]] {
    let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    let changes = try #require(document["changes"] as? [[String: Any]], "no changes in \(text)")
    return changes.map { $0["sources"] as? [String] ?? [] }
  }

  @Test func applyFromAPrivateRepositorySendsTheTokenToTheHubOnly() throws {
    let fixture = try HubFixture()
    let files = Self.files(try fixture.publish())
    try fixture.writeDesired(sources: ["hf://org/repo@main"], files: files.map(\.spec))

    // The plan pins the branch to the commit it points to now; a revision it cannot resolve (no
    // access) stays as written.
    let pinned = "hf://org/repo@\(HubFixture.commit)"
    let plan = try fixture.reconcile("plan")
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
    let line = plan.stdout.split(separator: "\n").first { $0.contains("+ download") }.map(String.init) ?? ""
    #expect(line.contains("m@1:fp16  3 files"), "\(plan.stdout)")
    #expect(line.hasSuffix("from \(pinned)"), "\(plan.stdout)")
    let json = try fixture.reconcile("plan", ["--json"])
    #expect(json.status == 0, "\(json.stderr)")
    let sources = try Self.jsonSources(json.stdout)
    #expect(sources.count == 3 && sources.allSatisfy { $0 == [pinned] }, "\(sources)")
    let anonymous = try fixture.reconcile("plan", extra: ["HF_TOKEN": ""])
    #expect(anonymous.status == 0, "\(anonymous.stdout)\(anonymous.stderr)")
    #expect(anonymous.stdout.split(separator: "\n").contains { $0.contains("+ download") && $0.hasSuffix("from hf://org/repo@main") }, "\(anonymous.stdout)")

    try fixture.hub.reset()
    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("Apply complete: 3 files downloaded"), "\(result.stdout)")
    for file in files { fixture.expectInstalled(file) }
    #expect(fixture.viewFiles() == Set(Self.listed))
    #expect(fixture.leftovers().isEmpty, "\(fixture.leftovers())")

    let hubLog = try fixture.hubRequests()
    let cdnLog = try fixture.cdnRequests()
    #expect(!hubLog.isEmpty)
    #expect(hubLog.allSatisfy { $0.authorizationPresent }, "every Hub request carries the token: \(hubLog)")
    let fetched = cdnLog.filter { $0.method == "GET" }.map { ($0.path as NSString).lastPathComponent }
    #expect(Set(fetched) == Set(Self.listed), "\(cdnLog)")
    #expect(cdnLog.allSatisfy { !$0.authorizationPresent }, "the token must never reach the CDN: \(cdnLog)")

    try fixture.hub.reset()
    let second = try fixture.apply()
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout.hasPrefix("No changes."), "\(second.stdout)")
    #expect(try fixture.hubRequests().isEmpty, "a converged node asks the Hub nothing")
    #expect(try fixture.cdnRequests().isEmpty)
  }

  /// A private repository asked without a token, or with one it refuses.
  struct Refusal: Sendable, CustomTestStringConvertible {
    var token: String?
    var status: String
    var advice: String
    var testDescription: String { token == nil ? "no token" : "wrong token" }
  }

  static let refusals = [
    Refusal(token: nil, status: "HTTP 401", advice: "set HF_TOKEN"),
    Refusal(token: "hf_wrongE2EToken_refusedByTheHub_51c", status: "HTTP 403", advice: "the token in HF_TOKEN has no access to org/repo"),
  ]

  @Test(arguments: refusals) func aRefusedRepositorySaysWhichTokenToSet(_ refusal: Refusal) throws {
    let fixture = try HubFixture()
    let files = Self.files(try fixture.publish())
    try fixture.writeDesired(sources: ["hf://org/repo@main"], files: files.map(\.spec))
    fixture.environment["HF_TOKEN"] = refusal.token

    let result = try fixture.apply()
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    for path in Self.listed {
      let outcome = Self.outcome(of: path, in: result.stderr)
      let causes = outcome.filter { $0.contains("hf://org/repo@") }
      #expect(outcome.first?.contains(" failed") == true && !causes.isEmpty, "\(path): \(result.stderr)")
      #expect(causes.allSatisfy { $0.contains("hf://org/repo@") && $0.contains(refusal.status) && $0.contains(refusal.advice) }, "\(path): \(result.stderr)")
    }
    #expect(result.stdout.contains("Apply failed: 3 of "), "\(result.stdout)")
    if let token = refusal.token {
      #expect(!result.stdout.contains(token) && !result.stderr.contains(token), "the token is printed")
    }
    #expect(fixture.viewFiles().isEmpty && fixture.blobNames().isEmpty)
    #expect(try fixture.cdnRequests().isEmpty, "nothing is fetched without access")
  }

  @Test func theTokenIsNeverPrintedSavedOrStored() throws {
    let fixture = try HubFixture()
    let files = Self.files(try fixture.publish())
    try fixture.writeDesired(sources: ["hf://org/repo@main"], files: files.map(\.spec))
    let wrong = "hf_wrongE2EToken_mustNotLeakAnywhere_7d1"

    // A refused run first: its failures and their causes go to the audit log.
    let refused = try fixture.apply(["--log-format", "json"], extra: ["HF_TOKEN": wrong])
    #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
    let planFile = fixture.directory.path + "/plan.json"
    let planned = try fixture.reconcile("plan", ["-o", planFile])
    #expect(planned.status == 0, "\(planned.stdout)\(planned.stderr)")
    let applied = try fixture.apply([planFile])
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    for file in files { fixture.expectInstalled(file) }
    let history = try fixture.reconcile("history", ["--json"])
    #expect(history.status == 0, "\(history.stderr)")
    #expect(history.stdout.contains("hf://org/repo@"), "\(history.stdout)")

    let saved = (try? String(contentsOfFile: planFile, encoding: .utf8)) ?? ""
    #expect(saved.contains("hf://org/repo@"), "\(saved)")
    let texts = [
      ("refused apply", refused.stdout + refused.stderr), ("plan -o", planned.stdout + planned.stderr), ("saved plan", saved),
      ("apply PLAN", applied.stdout + applied.stderr), ("history --json", history.stdout + history.stderr),
    ]
    let state = fixture.stateFiles()
    #expect(state.keys.contains("registry.sqlite"), "\(state.keys)")
    for token in [HubFixture.token, wrong] {
      for (name, text) in texts { #expect(!text.contains(token), "\(name) shows a token") }
      for (name, data) in state { #expect(data.range(of: Data(token.utf8)) == nil, ".reconcile/\(name) holds a token") }
    }
  }

  @Test func aPinnedDigestTheHubDoesNotServeFailsBeforeAnyByteMoves() throws {
    let fixture = try HubFixture()
    let weights = try #require(try fixture.publish()["model.safetensors"])
    let pinned = SHA256Hasher.digest(Data("other weights".utf8))
    try fixture.writeDesired(sources: ["hf://org/repo@main"], files: [FileSpec(path: weights.path, size: Int64(weights.size), sha256: pinned)])

    try fixture.hub.reset()
    let result = try fixture.apply()
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    let causes = Self.outcome(of: "model.safetensors", in: result.stderr).filter { $0.contains("hf://org/repo@") }
    #expect(!causes.isEmpty, "\(result.stderr)")
    for cause in causes {
      #expect(cause.contains("serves sha256 \(weights.sha256.hex)"), "the served digest is named: \(cause)")
      #expect(cause.contains("pins \(pinned.hex)"), "the pinned digest is named: \(cause)")
    }
    #expect(try fixture.cdnRequests().filter { $0.method == "GET" }.isEmpty, "no byte may be fetched")
    #expect(try fixture.hubRequests().contains { $0.method == "HEAD" && $0.path.hasSuffix("/model.safetensors") })
    #expect(fixture.viewFiles().isEmpty && fixture.blobNames().isEmpty)
    #expect(fixture.leftovers().isEmpty, "\(fixture.leftovers())")
  }

  /// How an `http://` source listed before the Hub fails, and how often it is asked.
  struct Outage: Sendable, CustomTestStringConvertible {
    var mode: TestHTTPServer.Behaviour
    var status: Int?
    var count: Int?
    /// `policy.retry.attempts` (3) for an error worth retrying, once for one that is not.
    var tries: Int
    var testDescription: String { "\(mode.rawValue)\(status.map { " \($0)" } ?? "")" }
  }

  static let outages = [
    Outage(mode: .fail, status: 500, count: 10, tries: 3),
    Outage(mode: .status, status: 404, tries: 1),
    Outage(mode: .wrongBytes, tries: 1),
  ]

  @Test(arguments: outages) func theHubServesWhenAnEarlierSourceFails(_ outage: Outage) throws {
    let fixture = try HubFixture(mirror: true)
    let mirror = try #require(fixture.mirror)
    let files = Self.files(try fixture.publish())
    try FileManager.default.createDirectory(atPath: fixture.directory.path + "/mirror/m", withIntermediateDirectories: true)
    for file in files {
      try file.data.write(to: URL(fileURLWithPath: fixture.directory.path + "/mirror/m/" + file.path))
      try mirror.behave(path: "/m/\(file.path)", mode: outage.mode, count: outage.count, status: outage.status)
    }
    try fixture.writeDesired(sources: [mirror.url("/m/"), "hf://org/repo@main"], files: files.map(\.spec))

    let result = try fixture.apply()
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    for file in files { fixture.expectInstalled(file) }
    #expect(fixture.blobNames() == Set(files.map(\.sha256.hex)), "only the right content is stored")
    #expect(fixture.leftovers().isEmpty, "\(fixture.leftovers())")

    let asked = try mirror.requests()
    if outage.tries > 1 {
      // The mirror fails a whole retry budget in a row: the circuit breaker skips it for the
      // other files (each may have had one attempt in flight when it opened), instead of every
      // file spending its own budget on it.
      let total = asked.filter { $0.path.hasPrefix("/m/") }.count
      #expect(total >= outage.tries && total <= outage.tries + files.count - 1 && total < outage.tries * files.count, "\(total) requests: \(asked)")
      #expect(result.stderr.contains("failed \(outage.tries) times in a row; it is skipped for the rest of this run"), "\(result.stderr)")
    } else {
      for file in files {
        #expect(asked.filter { $0.path == "/m/\(file.path)" }.count == outage.tries, "\(file.path): \(asked)")
      }
    }
    #expect(asked.allSatisfy { !$0.authorizationPresent }, "the Hub token goes to the Hub only")
    let fetched = try fixture.cdnRequests().filter { $0.method == "GET" }.map { ($0.path as NSString).lastPathComponent }
    #expect(fetched.sorted() == Self.listed, "each file comes from the Hub once")
  }
}
